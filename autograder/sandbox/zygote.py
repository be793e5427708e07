"""The pre-started worker: imports the homework's library once, then forks one confined
child per request.

Run by the judge (client.Sandbox) as `python -m autograder.sandbox.zygote SCENARIOS
LIMITS_JSON HOMEWORK_JSON`, the last {"preload": [module names], "secrets": [folders no
worker may read]}; it talks over a Unix socket on fd 0. Each request names the
submission's module and brings three descriptors: a result pipe, a call pipe and the
submission's file. The zygote reads none of them. The judge writes each call (a
scenario and its arguments) to the call pipe only after the previous call's result is
back, and the child writes its results to the judge's pipe directly; the submission is
copied in the kernel (sendfile), never through a buffer here. So no submission's bytes,
results or arguments pass through the zygote's memory, which every later child inherits.
"""

from __future__ import annotations

import errno
import gc
import importlib
import json
import os
import select
import shutil
import signal
import socket
import sys
import tempfile
import time
import traceback
from pathlib import Path

from autograder import exit_now

os.environ.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")


def main() -> None:
    scenarios_path, limits_json, homework_json = sys.argv[1:4]
    os.dup2(2, 1)  # stray prints from imports go to stderr, never into the protocol
    os.umask(0o022)  # the folders made here for workers open to them, whatever the TA's umask
    sock = socket.socket(fileno=0)
    try:
        started = _start(Path(scenarios_path), json.loads(limits_json), json.loads(homework_json))
    except Exception:  # the homework's fault, mostly (a module that does not import): say so
        try:
            _send(sock, {"error": "the sandbox could not start:\n"
                                  + traceback.format_exc(limit=-3)})
        except OSError:
            pass
        return
    scenarios, limits, iso, base = started
    try:
        _send(sock, {"ready": True, "isolation": iso.describe(), "missing": iso.missing,
                     "memory_mb": limits.memory_mb, "scratch": str(base)})
    except OSError:
        return  # the judge closed before we were ready: nothing to serve
    try:
        _serve(sock, scenarios, limits, iso, base)
    finally:  # the judge removes each scratch folder; this is what a dead judge left
        shutil.rmtree(base, ignore_errors=True)
        if iso.cgroup is not None:
            iso.cgroup.remove()


def _start(scenarios_path: Path, limits_fields: dict, homework: dict) -> tuple:
    """Everything before the first fork, in the order that keeps it fast and safe: what
    forks helpers while the process is small, then the homework's library and the
    scenarios (imported while we may, before any confinement), then every other layer."""
    from autograder.sandbox.confine import Isolation, cgroup_bytes, fit_memory, free_memory

    iso = Isolation.begin()  # before the library: each of its helpers forks a small process
    preloaded = [importlib.import_module(name) for name in homework["preload"]]

    from autograder.limits import Limits
    from autograder.sandbox import child

    # too much output fails a worker's write rather than killing it; set here, before the
    # guard's snapshot of the signal handlers, which workers are put back to
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    # the scenarios module sets the library up for forked workers (one thread, say); no
    # work with the library is done before the fork
    scenarios = child.load_scenarios(scenarios_path, preloaded)
    free = free_memory()  # all is imported: what is free now is what workers may share
    limits, lowered = fit_memory(Limits(**limits_fields), free)
    base = _scratch_base(tempfile.gettempdir())  # every worker's scratch folder is in it
    iso.finish(limits, str(base), homework["secrets"], free)
    if lowered:
        iso.missing.append(lowered)
    if iso.scratch_in_memory():
        base.rmdir()
        base = _scratch_base("/dev/shm")
    if iso.uid is not None:
        os.chmod(base, 0o711)  # the worker may pass through to its own folder, no more
    # Everything imported so far is shared with every worker, copy-on-write. Freezing it
    # keeps a worker's garbage collector from touching (and so copying) all of it: that
    # made a scenario that collects garbage cost about 100 ms instead of 15.
    gc.collect()
    gc.freeze()
    _collapse_to_huge_pages()
    if iso.cgroup is not None:
        # the huge pages just made are charged to the cgroup the zygote joined: they are
        # the zygote's, already counted in what was free, so a worker's allowance comes
        # on top of them (else a worker in a 768 MB container had ~180 MB less than told)
        iso.cgroup.set_limit(iso.cgroup.usage() + cgroup_bytes(limits, free))
    return scenarios, limits, iso, base


def _scratch_base(parent: str) -> Path:
    """A new scratch folder for this zygote's workers, named after its pid; and those of
    zygotes that are gone (killed before their judge could remove them) are removed."""
    for stale in Path(parent).glob("sandbox-*-*"):
        try:
            os.kill(int(stale.name.split("-")[1]), 0)
        except ProcessLookupError:
            shutil.rmtree(stale, ignore_errors=True)
        except (ValueError, OSError):
            pass  # not one of ours, or a live zygote of another user
    return Path(tempfile.mkdtemp(prefix=f"sandbox-{os.getpid()}-", dir=parent))


def _serve(sock: socket.socket, scenarios: dict, limits, iso, base: Path) -> None:
    from autograder.sandbox.client import MAX_REQUEST

    while True:
        try:
            message, fds, _, _ = socket.recv_fds(sock, MAX_REQUEST, 3)
        except OSError:
            return
        if not message:
            return  # the judge has gone
        request = json.loads(message)
        try:
            reply = _run_one(request, fds, scenarios, limits, iso, base)
        except Exception:  # a fault of ours: say so and go on with the next request
            reply = {"exit": None, "error": traceback.format_exc(limit=3)}
        finally:
            for fd in fds:  # those _run_one has not closed
                os.close(fd)
        try:
            _send(sock, reply)
        except OSError:
            return  # the judge has gone (a batch stopped by Ctrl-C, say)


def _collapse_to_huge_pages() -> None:
    """Back the zygote's anonymous memory (~150 MB with a large library preloaded) in 2 MB pages,
    where the kernel can (MADV_COLLAPSE, Linux 6.1+). A fork then copies a few hundred
    page-table entries instead of ~37,000, and each worker costs about half as much.
    Best effort: on an older kernel nothing changes."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    madv_collapse = 25
    with open("/proc/self/maps") as maps:
        regions = [line.split() for line in maps]
    for fields in regions:
        anonymous = len(fields) == 5 or fields[5] == "[heap]"
        if anonymous and "w" in fields[1]:
            start, end = (int(v, 16) for v in fields[0].split("-"))
            libc.madvise(start, end - start, madv_collapse)


def _send(sock: socket.socket, data: dict) -> None:
    sock.sendall(json.dumps(data).encode() + b"\n")


def _run_one(request: dict, fds: list[int], scenarios: dict, limits, iso, base: Path) -> dict:
    """Run one worker. `fds` are the judge's result pipe, call pipe and submission file;
    each is closed (and taken off the list) once the child has its own copy, so a worker
    that ends closes the pipes for good (the judge then sees it at once)."""
    from autograder.sandbox import child
    from autograder.sandbox.confine import clean_after, mount_work, unmount_work

    # scratch/ is ours; the worker writes only in scratch/work/. output.txt sits beside
    # work/, so the worker cannot delete it or put a symlink or FIFO in its place (the
    # judge reads it): it writes to it only through the descriptor opened here.
    scratch = Path(tempfile.mkdtemp(dir=base))
    work = scratch / "work"
    work.mkdir()
    mounted = mount_work(work, iso, limits.scratch_mb)
    target = work / request["filename"]
    result_fd, calls_fd, source_fd = fds
    _copy_in_kernel(source_fd, target)
    output = scratch / "output.txt"
    out_fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    if iso.uid is not None:
        os.chmod(scratch, 0o711)  # the worker may pass through to work/, not list or change it
        for path in (work, target):
            os.chown(path, iso.uid, iso.gid)
    baseline_vm = _vm_bytes()
    sys.stdout.flush()
    sys.stderr.flush()
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        child.run(request, scenarios, (result_fd, calls_fd), out_fd, work, limits, iso,
                  baseline_vm)
    os.close(out_fd)
    while fds:
        os.close(fds.pop())
    oom_before = iso.cgroup.oom_kills() if iso.cgroup is not None else 0
    status, timed_out, cpu = _wait(pid, limits)
    if mounted:
        unmount_work(work)
    clean_after(iso)
    return {
        "exit": status,
        "timed_out": timed_out,
        "cpu_seconds": round(cpu, 3),
        "memory": iso.cgroup is not None and iso.cgroup.oom_kills() > oom_before,
        "seconds": round(time.monotonic() - started, 4),
        "scratch": str(scratch),
    }


def _copy_in_kernel(source_fd: int, target: Path) -> None:
    """Copy the submission without a buffer in this process (sendfile): a later child
    would inherit the buffer, and with it a classmate's code. What sendfile cannot copy
    (not a regular file: /dev/null, say) goes through a buffer that is wiped after."""
    with open(target, "wb") as copy:
        offset = 0
        try:
            while sent := os.sendfile(copy.fileno(), source_fd, offset, 1 << 20):
                offset += sent
            return
        except OSError as exc:
            if exc.errno not in (errno.EINVAL, errno.ENOSYS) or offset:
                raise
        buffer = bytearray(1 << 16)
        try:
            while size := os.readv(source_fd, [buffer]):
                copy.write(memoryview(buffer)[:size])
        finally:
            buffer[:] = bytes(len(buffer))


def _wait(pid: int, limits) -> tuple[int, bool, float]:
    """Wait for the child; past the wall-clock limit SIGTERM it, then SIGKILL it.
    Returns its wait status, whether the wall clock ended it, and the CPU time it used."""
    try:
        pidfd = os.pidfd_open(pid)
    except OSError:  # an old kernel, or a seccomp profile that refuses pidfd_open
        return _wait_polling(pid, limits)
    try:
        timed_out = not select.select([pidfd], [], [], limits.wall_seconds)[0]
        if timed_out:
            os.kill(pid, signal.SIGTERM)
            if not select.select([pidfd], [], [], limits.kill_grace_seconds)[0]:
                os.kill(pid, signal.SIGKILL)
        _, status, usage = os.wait4(pid, 0)
    finally:
        os.close(pidfd)
    return status, timed_out, usage.ru_utime + usage.ru_stime


def _wait_polling(pid: int, limits) -> tuple[int, bool, float]:
    """_wait without a pidfd: waitpid(WNOHANG) at short intervals (a millisecond at
    first, so a quick worker costs no more than with a pidfd)."""
    def reaped_by(deadline: float) -> tuple[int, float] | None:
        pause = 0.0005
        while True:
            done, status, usage = os.wait4(pid, os.WNOHANG)
            if done:
                return status, usage.ru_utime + usage.ru_stime
            if time.monotonic() >= deadline:
                return None
            time.sleep(pause)
            pause = min(pause * 2, 0.02)

    reaped = reaped_by(time.monotonic() + limits.wall_seconds)
    if reaped is not None:
        return reaped[0], False, reaped[1]
    os.kill(pid, signal.SIGTERM)
    reaped = reaped_by(time.monotonic() + limits.kill_grace_seconds)
    if reaped is None:
        os.kill(pid, signal.SIGKILL)
        _, status, usage = os.wait4(pid, 0)
        reaped = status, usage.ru_utime + usage.ru_stime
    return reaped[0], True, reaped[1]


def _vm_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


if __name__ == "__main__":
    main()
    exit_now()
