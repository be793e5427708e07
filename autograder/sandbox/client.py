"""The judge's handle on the sandbox: start the zygote, run a scenario, get plain data back."""

from __future__ import annotations

import dataclasses
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autograder.limits import DEFAULT_LIMITS, Limits

_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Outcome:
    """What one scenario came to. `value` is plain data (JSON types) when status is "ok"."""

    status: str  # ok, not_implemented, error, import_error, timeout, memory, cpu, output, crash
    value: Any = None
    message: str = ""  # which limit stopped the worker, in words fit for the student
    error: dict | None = None  # the exception the submission raised: type, message, line, function
    output: str = ""  # what the worker printed (capped): for the TA, never for the student
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == "ok"


class SandboxError(RuntimeError):
    """The sandbox itself failed (not the submission): grading cannot be trusted."""


class Sandbox:
    """One pre-started zygote. Not thread-safe: one scenario at a time per Sandbox."""

    def __init__(self, scenarios: Path, limits: Limits = DEFAULT_LIMITS) -> None:
        self.limits = limits
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        env = dict(os.environ, PYTHONPATH=str(_ROOT), PYTHONDONTWRITEBYTECODE="1")
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "autograder.sandbox.zygote", str(scenarios),
             json.dumps(dataclasses.asdict(limits))],
            stdin=theirs, stdout=subprocess.DEVNULL, env=env, cwd="/",
        )
        theirs.close()
        self._sock = ours
        self._buffer = b""
        hello = self._reply(timeout=120)
        self.isolation: str = hello["isolation"]
        self.missing: list[str] = hello["missing"]

    def run(self, submission: Path, module: str, scenario: str, **args: Any) -> Outcome:
        """Run `scenario(module, **args)` in a fresh confined worker that imports `submission`."""
        read_end, write_end = os.pipe()
        request = {"scenario": scenario, "args": args, "module": module,
                   "path": str(Path(submission).resolve()), "filename": f"{module}.py"}
        try:
            socket.send_fds(self._sock, [json.dumps(request).encode()], [write_end])
        finally:
            os.close(write_end)
        try:
            data = self._drain(read_end)
        finally:
            os.close(read_end)
        reply = self._reply(timeout=self.limits.wall_seconds + 30)
        return self._outcome(reply, data)

    def _drain(self, fd: int) -> bytes:
        """Read the child's result until it closes the pipe (it exits), keeping at most
        result_bytes; the zygote enforces the time limit, this only guards against a hang."""
        chunks, size = [], 0
        deadline = time.monotonic() + self.limits.wall_seconds + self.limits.kill_grace_seconds + 30
        while time.monotonic() < deadline:
            if not select.select([fd], [], [], 1.0)[0]:
                continue
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                break
            if size < self.limits.result_bytes:
                chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks) if size <= self.limits.result_bytes else b""

    def _reply(self, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._sock], [], [], left)[0]:
                raise SandboxError("the sandbox zygote did not answer in time")
            chunk = self._sock.recv(1 << 16)
            if not chunk:
                raise SandboxError(f"the sandbox zygote ended (exit code {self._proc.poll()})")
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return json.loads(line)

    def _outcome(self, reply: dict, data: bytes) -> Outcome:
        if reply.get("error"):
            raise SandboxError(reply["error"])
        scratch = Path(reply["scratch"])
        output = _read_capped(scratch / "output.txt", self.limits.feedback_chars)
        printed = (scratch / "output.txt").stat().st_size
        shutil.rmtree(scratch, ignore_errors=True)
        seconds = reply["seconds"]
        report = _parse(data)
        status = reply["exit"]
        if reply["timed_out"]:
            return Outcome("timeout", message=f"did not finish within {self.limits.wall_seconds:g} "
                           "seconds (an endless loop?)", output=output, seconds=seconds)
        if report is not None:
            if report.get("status") == "sandbox_error":
                raise SandboxError(report.get("message", ""))
            error = report.get("error")
            outcome = Outcome(str(report.get("status")), report.get("value"),
                              error=error if isinstance(error, dict) else None,
                              output=output, seconds=seconds)
            return _name_the_limit(outcome, printed, self.limits)
        if os.WIFSIGNALED(status):
            sig = os.WTERMSIG(status)
            if sig == signal.SIGXCPU:
                return Outcome("cpu", message=f"used more than {self.limits.cpu_seconds} seconds "
                               "of CPU time", output=output, seconds=seconds)
            why = f"was killed by signal {signal.Signals(sig).name}"
        else:
            why = f"ended the process (exit code {os.WEXITSTATUS(status)}: os._exit?)"
        return Outcome("crash", message=f"{why} before returning a result",
                       output=output, seconds=seconds)

    def close(self) -> None:
        try:
            self._sock.close()
        finally:
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _parse(data: bytes) -> dict | None:
    try:
        report = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return None
    return report if isinstance(report, dict) else None


def _name_the_limit(outcome: Outcome, printed: int, limits: Limits) -> Outcome:
    """Turn the error a limit causes inside the worker into the limit's own status."""
    error = outcome.error or {}
    text = f"{error.get('type')}: {error.get('message')}"
    if outcome.status in ("error", "import_error"):
        if "MemoryError" in text or "can't allocate memory" in text or "not enough memory" in text:
            outcome.status = "memory"
            outcome.message = f"used more than the {limits.memory_mb} MB memory limit"
        elif printed >= limits.output_bytes and ("File too large" in text or "Errno 27" in text):
            outcome.status = "output"
            outcome.message = f"printed more than {limits.output_bytes // 1000} kB"
    return outcome


def _read_capped(path: Path, chars: int) -> str:
    try:
        with open(path, "rb") as f:
            return f.read(chars * 4).decode("utf-8", "replace")[:chars]
    except OSError:
        return ""
