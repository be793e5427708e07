"""Inside one forked worker: confine, import the submission, run one scenario, send data.

Everything here runs in the untrusted process. What leaves it is one JSON document
on the result pipe: plain data that the judge parses and checks, never objects.
"""

from __future__ import annotations

import fcntl
import importlib.util
import json
import os
import sys
import tempfile
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from autograder.limits import Limits
from autograder.sandbox.client import IMPORT_ONLY, MANY
from autograder.sandbox.confine import Isolation, confine
from autograder.sandbox.guard import Guard

# Bound before any submission runs: a submission may replace os._exit, os.write or json.dumps
# in its own process, and the worker must still end here, never back in the zygote's loop.
_exit, _write, _read, _dumps, _loads = os._exit, os.write, os.read, json.dumps, json.loads
_fcntl, _F_GETFL, _F_SETFL, _O_NONBLOCK = fcntl.fcntl, fcntl.F_GETFL, fcntl.F_SETFL, os.O_NONBLOCK
_RESULTS, _CALLS = 3, 4  # the worker's descriptors: results out, calls in


@dataclass(frozen=True)
class Scenario:
    function: Callable[..., Any]
    guard: Guard  # the snapshot the scenario's world is put back to


def load_scenarios(path: Path, preloaded: Sequence[ModuleType] = ()
                   ) -> dict[str, Scenario]:
    """The scenario functions of a hidden test suite: every public function defined in its
    module (not a name starting with "_", not an upper-case constant such as the guard's
    GUARDED_MODULES). Loaded by the zygote before any fork, so a worker never needs to
    read the file. The guard's snapshot is taken here too, once, instead of in every
    worker (~3.5 ms each): a worker starts from exactly the zygote's state, so it is the
    same snapshot. `preloaded`: the modules the zygote imported for the homework, which
    the guard keeps."""
    spec = importlib.util.spec_from_file_location("scenarios", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    guard = Guard(module, preloaded, globals())
    found = {
        name: Scenario(fn, guard)
        for name, fn in vars(module).items()
        if callable(fn) and not name.startswith("_") and not name.isupper()
        and getattr(fn, "__module__", "") == "scenarios"
    }
    found[IMPORT_ONLY] = Scenario(_skipped_cells, guard)
    return found


def _skipped_cells(submission: Any) -> list | None:
    """The import-only scenario's answer: the cells a notebook's module skipped (see
    autograder/submission.py), or None for a .py."""
    value = getattr(submission, "__autograder_skipped_cells__", None)
    return value if type(value) is list else None


def run(
    request: dict,
    scenarios: dict[str, Scenario],
    pipes: tuple[int, int],
    out_fd: int,
    scratch: Path,
    limits: Limits,
    iso: Isolation,
    baseline_vm: int,
) -> None:
    """The child's whole life. Ends with os._exit; never returns into the zygote's loop.
    `scratch` is the worker's own folder: its cwd, and the only place it may write.
    `pipes` are the result pipe and the call pipe, which brings each call's scenario and
    arguments as one JSON line, the next only once the previous result is back."""
    try:
        os.setsid()
        _own_descriptors(*pipes, out_fd, keep=iso.descriptors)
        confine(iso, limits, scratch, baseline_vm)
        os.chdir(scratch)
        os.environ.update(HOME=str(scratch), TMPDIR=str(scratch))
        tempfile.tempdir = str(scratch)  # the zygote's cached /tmp is not writable here
        roots = tuple(iso.roots)
        sys.path[:] = [str(scratch)] + [p for p in sys.path
                                        if os.path.realpath(p).startswith(roots)]
        sys.argv = [request["filename"]]
        # the submission's path as its frames name it, fixed before it could chdir
        request = {**request, "source": os.path.abspath(request["filename"])}
        if request["scenario"] == MANY:
            _attempt_many(request, scenarios, limits)
            report = None
        else:
            report = _attempt(request, scenarios, _next_call())
    except BaseException:  # confinement itself failed: report it, never run unconfined
        report = {"status": "sandbox_error", "message": traceback.format_exc(limit=2)}
    try:
        _flush()
        if report is not None:
            _send(report, limits)
    finally:  # whatever the submission left behind (a signal handler, a patched json)
        _exit(0)


def _flush() -> None:
    """What the submission printed is still in Python's buffers: write it to the output file."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # over the output limit, or a stream the submission replaced
            pass


def _own_descriptors(result_fd: int, calls_fd: int, out_fd: int, keep: list[int]) -> None:
    """fd 0 is /dev/null, 1 and 2 the capped output file, 3 the result pipe, 4 the call
    pipe, and `keep` (descriptors the zygote opened for every worker); nothing else."""
    devnull = os.open("/dev/null", os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(out_fd, 1)
    os.dup2(out_fd, 2)
    # out of the way first: either may be fd 3 or 4 (`keep` never is, see confine.py)
    result_fd, calls_fd = (fcntl.fcntl(fd, fcntl.F_DUPFD, 64) for fd in (result_fd, calls_fd))
    os.dup2(result_fd, _RESULTS)
    os.dup2(calls_fd, _CALLS)
    start = _CALLS + 1
    for fd in sorted(fd for fd in keep if fd > _CALLS):
        os.closerange(start, fd)
        start = fd + 1
    os.closerange(start, 1 << 16)


def _next_call() -> tuple[str, dict] | None:
    """The next call the judge sends (a scenario and its arguments), or None: no more.
    Read one byte at a time, so nothing of a later line is read before it is due."""
    line = bytearray()
    flags = _fcntl(_CALLS, _F_GETFL)
    if flags & _O_NONBLOCK:  # the submission's doing: wait for the call, as we should
        _fcntl(_CALLS, _F_SETFL, flags & ~_O_NONBLOCK)
    while True:
        byte = _read(_CALLS, 1)
        if not byte or byte == b"\n":
            break
        line += byte
    if not line:
        return None
    name, args = _loads(bytes(line))
    return name, args


def _attempt(request: dict, scenarios: dict[str, Scenario], call: tuple[str, dict] | None
             ) -> dict:
    if call is None:
        return {"status": "sandbox_error", "message": "no call came"}
    name, args = call
    module = _import(request, scenarios[name].guard)
    if isinstance(module, dict):
        return module
    return _call(scenarios[name], module, args, request)


def _attempt_many(request: dict, scenarios: dict[str, Scenario], limits: Limits) -> None:
    """Several calls in this one worker, each sent (one JSON line) as soon as it is done,
    so the judge knows which finished if a later one hangs or ends the process. Each
    call's arguments arrive only after the previous result is sent: a visible call never
    has a hidden call's arguments in its memory."""
    call = _next_call()
    if call is None:
        return
    module = _import(request, scenarios[call[0]].guard)
    if isinstance(module, dict):
        _send(module, limits, line=True)
        return
    _send({"status": "imported"}, limits, line=True)  # so a later hang is the call's, not this
    while call is not None:
        name, args = call
        _send(_call(scenarios[name], module, args, request), limits, line=True)
        call = _next_call()


def _import(request: dict, guard: Guard) -> ModuleType | dict:
    """The submission's module, or the report of why it does not import."""
    try:
        return _import_submission(Path(request["filename"]), request["module"])
    except BaseException as exc:  # SystemExit and KeyboardInterrupt too: nothing escapes
        return {"status": "import_error", "error": describe(exc, request["source"])}
    finally:  # after describe(), which runs the exception's own code
        guard.restore()


def _call(scenario: Scenario, module: ModuleType, args: dict, request: dict) -> dict:
    try:
        value = scenario.function(scenario.guard.view(module), **args)
    except NotImplementedError as exc:
        return {"status": "not_implemented", "error": describe(exc, request["source"])}
    except BaseException as exc:
        return {"status": "error", "error": describe(exc, request["source"])}
    finally:  # after describe(), which runs the exception's own code
        scenario.guard.restore()
    return {"status": "ok", "value": value}


def _import_submission(path: Path, name: str) -> ModuleType:
    """Import as `import name` would: __name__ is the module's name, so a __main__ block
    does not run."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def describe(exc: BaseException, source: str | None = None) -> dict:
    """The exception as data: its type, message, and the line of the submission it came
    from (frames of the grader and of libraries are left out). The judge shows the line
    from its own copy of the source, so rewriting the file here changes nothing."""
    try:  # the exception is the submission's: its __str__ or its code's __repr__ may raise too
        if isinstance(exc, SystemExit):
            message = f"the code called sys.exit({exc.code!r})"
        else:
            message = str(exc)
    except BaseException:
        message = "(its message could not be read)"
    try:
        # the submission's frames: spec_from_file_location makes its file name absolute,
        # so they are told apart by that name (without one: by a relative file name)
        frames = [f for f in traceback.extract_tb(exc.__traceback__)
                  if (f.filename == source if source else not os.path.isabs(f.filename))]
    except BaseException:
        frames = []
    last = frames[-1] if frames else None
    return {
        "type": type(exc).__name__,
        "message": message[:1000],
        "line": last.lineno if last else None,
        "function": last.name if last else None,
    }


def _send(report: dict, limits: Limits, line: bool = False) -> None:
    try:  # a dict subclass in the value runs its own items() here: anything may be raised
        data = _dumps(report).encode()
    except BaseException as exc:
        data = _dumps({"status": "error", "error": {
            "type": "TypeError", "message": f"the result is not plain data ({type(exc).__name__})",
        }}).encode()
    if len(data) > limits.result_bytes:
        data = _dumps({"status": "error", "message": "the result was too large"}).encode()
    if line:
        data += b"\n"  # json.dumps writes no raw newline: one report a line
    view = memoryview(data)
    try:
        while view:
            view = view[_write(_RESULTS, view):]
    except OSError:
        pass
