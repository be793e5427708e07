"""The judge's handle on the sandbox: start the zygote, run a scenario, get plain data back."""

from __future__ import annotations

import dataclasses
import fcntl
import json
import math
import os
import select
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autograder.limits import DEFAULT_LIMITS, Limits
from autograder.text import clean, clean_strings

# The built-in scenario: does the submission import at all? Defined here, not in child.py,
# so the judge needs nothing of the worker's side (child.py) to use it.
IMPORT_ONLY = "__import__"
MAX_REQUEST = 1 << 20  # the zygote reads a request in one piece of at most this many bytes
MANY = "__many__"  # several scenarios, one after another, in one worker (Sandbox.run_many)

_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Outcome:
    """What one scenario came to. `value` is plain data (JSON types) when status is "ok"."""

    status: str  # ok, not_implemented, error, import_error, timeout, memory, cpu, output, crash,
    # nonfinite (the data held NaN or an infinity)
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
    """One pre-started zygote. Not thread-safe: one scenario at a time per Sandbox.

    `scenarios` is the homework's scenarios module. `preload` names the modules the zygote
    imports once, before it forks any worker (the homework's library): each worker then
    starts with them, at no time or memory of its own; what is not preloaded, a worker
    imports itself, within its limits. `secrets` are the folders no worker may read
    besides the scenarios' own folder (always secret); None: that folder alone."""

    def __init__(self, scenarios: Path, limits: Limits = DEFAULT_LIMITS, *,
                 preload: Sequence[str] = (), secrets: Sequence[Path] | None = None) -> None:
        self.limits = limits
        preload = list(preload)
        bad = [name for name in preload if not isinstance(name, str)
               or not all(part.isidentifier() for part in name.split("."))]
        if bad:
            raise ValueError(f"preload: {bad!r} are not module names")
        folders = [Path(scenarios).resolve().parent, *(Path(s).resolve() for s in secrets or ())]
        homework = {"preload": preload, "secrets": list(dict.fromkeys(map(str, folders)))}
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        env = _zygote_environment(preload)
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "autograder.sandbox.zygote", str(scenarios),
             json.dumps(dataclasses.asdict(limits)), json.dumps(homework)],
            stdin=theirs, stdout=subprocess.DEVNULL, env=env, cwd="/",
        )
        theirs.close()
        self._sock = ours
        self._buffer = b""
        self._hello: dict | None = None  # awaited at first use: the judge starts meanwhile

    def _ready(self) -> dict:
        if self._hello is None:
            self._hello = self._reply(timeout=120)
            if isinstance(self._hello.get("memory_mb"), int):  # fitted to what is free
                self.limits = dataclasses.replace(self.limits,
                                                  memory_mb=self._hello["memory_mb"])
        if self._hello.get("error"):  # it could not start: a preload or scenarios at fault
            raise SandboxError(self._hello["error"])
        return self._hello

    @property
    def isolation(self) -> str:
        """How workers are confined on this machine."""
        return self._ready()["isolation"]

    @property
    def missing(self) -> list[str]:
        """What confinement this machine could not give (reported to the TA)."""
        return self._ready()["missing"]

    def run(self, submission: Path, module: str, scenario: str, **args: Any) -> Outcome:
        """Run `scenario(module, **args)` in a fresh confined worker that imports `submission`."""
        self._ready()
        request = {"scenario": scenario, "module": module, "filename": f"{module}.py"}
        return self._outcome(*self._exchange(request, submission, [(scenario, args)]))

    def run_many(self, submission: Path, module: str, calls: list[tuple[str, dict]]
                 ) -> tuple[Outcome | None, list[Outcome | None]]:
        """Run several scenarios one after another in one fresh worker: the submission is
        imported once, and the guard restores the scenario's world after every call.
        Returns why the submission did not import (None if it did), and each call's outcome.
        A call that ends the worker (a hang, os._exit, a crash) gets that outcome; the calls
        after it never ran and come back as None, for the caller to run on their own.
        Each call's arguments go to the worker only once the previous call's result is
        back, so no call can see (and report) the arguments of a call after it."""
        self._ready()
        request = {"scenario": MANY, "module": module, "filename": f"{module}.py"}
        reply, data = self._exchange(request, submission, calls, one_by_one=True)
        output, printed, seconds = self._collect(reply)
        lines = data.split(b"\n")
        first = _parse(lines[0])
        if first is None or first.get("status") != "imported":
            problem = (self._from_exit(reply, output, seconds) if first is None
                       else self._from_report(first, output, printed, seconds))
            return problem, [None] * len(calls)
        outcomes: list[Outcome | None] = []
        for line in lines[1: len(calls) + 1]:
            report = _parse(line)
            if report is None:
                break
            outcomes.append(self._from_report(report, output, printed, seconds))
            output = ""  # what the worker printed goes with the first outcome only
        if len(outcomes) < len(calls):
            outcomes.append(self._from_exit(reply, output, seconds))
        return None, outcomes + [None] * (len(calls) - len(outcomes))

    def _exchange(self, request: dict, submission: Path, calls: list[tuple[str, dict]],
                  one_by_one: bool = False) -> tuple[dict, bytes]:
        """Send one request to the zygote; return its reply and what the worker sent back.
        The submission travels as an open file, not a path: the zygote's mount namespace
        need not see the folder it is in (a checkout under /root, say). The calls go
        straight to the worker through a pipe of their own, never through the zygote:
        all at once, or (one_by_one) each after the previous call's result."""
        message = json.dumps(request).encode()
        lines = [json.dumps([name, args]).encode() + b"\n" for name, args in calls]
        too_long = [len(line) for line in lines if len(line) > MAX_REQUEST]
        if len(message) > MAX_REQUEST or too_long:
            raise SandboxError(f"a request of {max([len(message), *too_long])} bytes is over "
                               f"{MAX_REQUEST}")
        source = os.open(submission, os.O_RDONLY)
        read_end, write_end = os.pipe()
        calls_in, calls_out = os.pipe()
        _fit_pipe(calls_out, max(map(len, lines), default=0))
        try:
            socket.send_fds(self._sock, [message], [write_end, calls_in, source])
        finally:
            for fd in (write_end, calls_in, source):
                os.close(fd)
        feeder = _Feeder(calls_out, lines, one_by_one)
        try:
            data = self._drain(read_end, feeder)
        finally:
            os.close(read_end)
            feeder.close()
        return self._reply(timeout=self.limits.wall_seconds + 30), data

    def _drain(self, fd: int, feeder: _Feeder) -> bytes:
        """Read the child's result until it closes the pipe (it exits), keeping at most
        result_bytes, and feed it its calls as it asks for them; the zygote enforces the
        time limit, this only guards against a hang."""
        chunks, size, newlines = [], 0, 0
        feeder.feed(0)
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
            newlines += chunk.count(b"\n")
            feeder.feed(newlines)
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
        output, printed, seconds = self._collect(reply)
        report = _parse(data)
        if report is None or reply["timed_out"]:
            return self._from_exit(reply, output, seconds)
        return self._from_report(report, output, printed, seconds)

    def _collect(self, reply: dict) -> tuple[str, int, float]:
        """What the worker printed (capped) and how much; its scratch folder goes."""
        if reply.get("error"):
            raise SandboxError(reply["error"])
        scratch = Path(reply["scratch"])
        output, printed = _read_capped(scratch / "output.txt", self.limits.feedback_chars)
        shutil.rmtree(scratch, ignore_errors=True)
        return output, printed, reply["seconds"]

    def _from_report(self, report: dict, output: str, printed: int, seconds: float) -> Outcome:
        if report.get("status") == "sandbox_error":
            self._confirm_sandbox_error(str(report.get("message", "")))
            return Outcome("crash", message="stopped its worker in an unexpected way",
                           output=output, seconds=seconds)
        outcome = Outcome(str(report.get("status")), report.get("value"),
                          error=_clean_error(report.get("error")),
                          output=output, seconds=seconds)
        if outcome.ok and not _finite(outcome.value):
            return Outcome("nonfinite", message="gave NaN or an infinite number",
                           output=output, seconds=seconds)
        return _name_the_limit(outcome, printed, self.limits)

    def _from_exit(self, reply: dict, output: str, seconds: float) -> Outcome:
        """The worker sent no (more) result: say how it ended."""
        if reply.get("memory"):  # the kernel ended it at the memory cgroup's limit
            return Outcome("memory", message=f"used more than the {self.limits.memory_mb} MB "
                           "memory limit", output=output, seconds=seconds)
        status = reply["exit"]
        spent = reply.get("cpu_seconds") or 0
        # SIGXCPU at the CPU limit, or SIGKILL a second on if the worker caught SIGXCPU
        if os.WIFSIGNALED(status) and (os.WTERMSIG(status) == signal.SIGXCPU
                                       or spent >= self.limits.cpu_seconds):
            return Outcome("cpu", message=f"used more than {self.limits.cpu_seconds} seconds "
                           "of CPU time (an endless loop?)", output=output, seconds=seconds)
        if reply["timed_out"]:  # the backstop: the code waited, or the machine was slow
            return Outcome("timeout", message=f"did not finish within {self.limits.wall_seconds:g} "
                           f"seconds of wall-clock time (it used {spent:.1f} s of CPU: it "
                           "waited, or the machine was busy)", output=output, seconds=seconds)
        if os.WIFSIGNALED(status):
            why = f"was killed by signal {signal.Signals(os.WTERMSIG(status)).name}"
        else:
            why = f"ended the process (exit code {os.WEXITSTATUS(status)}: os._exit?)"
        return Outcome("crash", message=f"{why} before returning a result",
                       output=output, seconds=seconds)

    def _confirm_sandbox_error(self, message: str) -> None:
        """A worker said its confinement failed. The submission can say so too (it owns the
        result pipe), so believe it only if a worker that imports an empty file says so too."""
        reply, data = self._exchange({"scenario": IMPORT_ONLY, "module": "empty",
                                      "filename": "empty.py"}, Path(os.devnull),
                                     [(IMPORT_ONLY, {})])
        if reply.get("error"):
            raise SandboxError(reply["error"])
        shutil.rmtree(reply["scratch"], ignore_errors=True)
        report = _parse(data)
        if report is None or report.get("status") != "ok":
            raise SandboxError(message)

    def close(self) -> None:
        try:
            self._sock.close()
        finally:
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            # the zygote's scratch folder: a mount point in its namespace, so only we, from
            # outside, can remove it once it has ended
            scratch = (self._hello or {}).get("scratch")
            if isinstance(scratch, str) and os.path.basename(scratch).startswith("sandbox-"):
                shutil.rmtree(scratch, ignore_errors=True)

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Feeder:
    """Writes a worker's calls to its call pipe: all at once, or one by one, each when the
    worker has sent a line for every call before it (its first line says the submission
    imported, each later one is a call's result). Closing the pipe tells it: no more."""

    def __init__(self, fd: int, lines: list[bytes], one_by_one: bool) -> None:
        self._fd: int | None = fd
        self._lines = lines
        self._sent = 0
        self._one_by_one = one_by_one

    def feed(self, lines_back: int) -> None:
        due = max(1, lines_back) if self._one_by_one else len(self._lines)
        try:
            while self._fd is not None and self._sent < min(due, len(self._lines)):
                line = memoryview(self._lines[self._sent])
                while line:
                    line = line[os.write(self._fd, line):]
                self._sent += 1
        except OSError:  # the worker has ended: nothing more to send it
            self.close()
        if self._sent == len(self._lines):  # what was written stays readable after this
            self.close()

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _fit_pipe(fd: int, size: int) -> None:
    """Make a pipe hold `size` bytes, so writing one call never waits on the worker."""
    if size > 1 << 16:
        try:
            fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, size)
        except OSError:
            pass  # over the system's pipe-max-size: the write waits for the worker instead


# What the zygote, and so every worker, keeps of the judge's environment: what Python and
# the numeric libraries need to run, and each preloaded package's own settings (NAME_*).
# Nothing else: a TA's shell may hold tokens or passwords, and a submission can print
# os.environ into feedback that goes back to the student.
_KEEP = {"PATH", "HOME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "LD_LIBRARY_PATH", "PYTHONHOME"}
_KEEP_PREFIXES = ("LC_", "OMP_", "MKL_", "OPENBLAS_")


def _zygote_environment(preload: Sequence[str] = ()) -> dict[str, str]:
    prefixes = (*_KEEP_PREFIXES, *(f"{name.split('.')[0].upper()}_" for name in preload))
    env = {name: value for name, value in os.environ.items()
           if name in _KEEP or name.startswith(prefixes)}
    env.update(PYTHONPATH=str(_ROOT), PYTHONDONTWRITEBYTECODE="1")
    return env


def _parse(data: bytes) -> dict | None:
    try:
        report = json.loads(data)
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than json parses
        return None
    # every string the worker sent is made safe to show here, once (autograder.text)
    return clean_strings(report) if isinstance(report, dict) else None


def _finite(value: Any) -> bool:
    """No NaN or infinity anywhere in the data: a NaN would pass a test that fails on
    `abs(got - want) > tol`, since every comparison with NaN is false."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            return False
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
    return True


def _clean_error(error: Any) -> dict | None:
    """The exception as the worker described it, reduced to the types the judge expects."""
    if not isinstance(error, dict):
        return None
    line = error.get("line")
    function = error.get("function")
    return {
        "type": clean(error.get("type", "an exception"), 200),
        "message": clean(error.get("message", ""), 1000),
        "line": line if isinstance(line, int) and not isinstance(line, bool) else None,
        "function": clean(function, 200) if isinstance(function, str) else None,
    }


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


def _read_capped(path: Path, chars: int) -> tuple[str, int]:
    """The start of what the worker printed, and how many bytes it printed in all. Opened
    without following a symlink or waiting on a FIFO, whatever stands at that path."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return "", 0
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return "", 0
        return clean(f.read(chars * 4), chars), info.st_size
