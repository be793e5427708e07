"""What each confinement layer costs on this machine:
`python -m autograder.sandbox.costs [MODULE ...]`.

The process first imports what a zygote preloads, for a zygote's size: the MODULEs
given, else the homework description's preload (autograder.homework; $AUTOGRADER_HOMEWORK
chooses the homework), else nothing. Once per zygote: Isolation.begin() (before the
preloaded modules), then each step of finish(). Once per worker: each step of confine(),
timed in 40 forked children (medians), beside a bare fork of the same process for scale.
The process confines itself as the zygote would (it ends in the zygote's private root),
so run it on its own; its scratch folder goes when the next zygote starts.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from autograder.limits import DEFAULT_LIMITS
from autograder.sandbox import confine, seccomp


def main() -> None:
    parser = argparse.ArgumentParser(description="What each confinement layer costs here.")
    parser.add_argument("modules", nargs="*", metavar="MODULE",
                        help="what the zygote preloads (default: the homework's preload)")
    preload = parser.parse_args().modules
    if not preload:
        try:
            preload = _homework_preload()
        except Exception as exc:  # noqa: BLE001 (HomeworkError: its message says what to fix)
            parser.error(str(exc))
    started = time.perf_counter()
    iso = confine.Isolation.begin()
    once = {"begin: user, user namespace, seccomp check": time.perf_counter() - started}
    for name in preload:  # a zygote's size, for the forks below
        importlib.import_module(name)
    print(f"preloaded: {', '.join(preload) or 'nothing'}")

    base = tempfile.mkdtemp(prefix=f"sandbox-{os.getpid()}-")
    iso.roots = confine.readable_roots()
    if iso.uid is not None or os.geteuid() != 0:
        once["namespaces and private root"] = _timed(iso._namespaces, base, [])
    once["Landlock check"] = _timed(iso._landlock_probe)
    once["memory cgroup"] = _timed(iso._cgroup, DEFAULT_LIMITS, confine.free_memory())
    print(iso.describe(), iso.missing)
    for step, seconds in once.items():
        print(f"once per zygote  {step:44s} {seconds * 1e3:7.2f} ms")
    runs = [_worker(iso, Path(base)) for _ in range(40)]
    for step in runs[0]:
        median = statistics.median(run[step] for run in runs)
        print(f"once per worker  {step:44s} {median * 1e3:7.3f} ms")
    forks = []
    for _ in range(20):
        forked = time.perf_counter()
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)
        forks.append(time.perf_counter() - forked)
    print(f"for scale        {'fork and exit of this process':44s} "
          f"{statistics.median(forks) * 1e3:7.3f} ms")
    if iso.cgroup is not None:
        iso.cgroup.remove()


def _homework_preload() -> tuple[str, ...]:
    """What the homework description says the zygote preloads; nothing without one."""
    try:
        from autograder.homework import Homework
    except ImportError:
        return ()
    return Homework.load().preload


def _timed(step, *args) -> float:
    started = time.perf_counter()
    step(*args)
    return time.perf_counter() - started


def _worker(iso: confine.Isolation, base: Path) -> dict[str, float]:
    """confine()'s steps, one by one, in a forked child; their times come back as JSON."""
    scratch = Path(tempfile.mkdtemp(dir=base))
    if iso.uid is not None:
        os.chown(scratch, iso.uid, iso.gid)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        times, last = {}, time.perf_counter()

        def lap(name: str) -> None:
            nonlocal last
            now = time.perf_counter()
            times[name], last = now - last, now

        confine._first_to_go()
        lap("OOM score")
        confine._set_limits(DEFAULT_LIMITS, 1 << 40)
        lap("rlimits")
        rules = (confine._landlock_rules(iso.landlock_abi, iso.roots, str(scratch))
                 if iso.landlock_abi else None)
        lap("Landlock rules")
        if iso.uid is not None:
            os.setgroups([])
            os.setgid(iso.gid)
            os.setuid(iso.uid)
        confine._libc.prctl(confine._PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
        lap("user switch and no_new_privs")
        if rules is not None:
            confine._syscall(confine._SYS_RESTRICT_SELF, rules, 0)
        lap("Landlock restrict_self")
        if iso.uid is None:
            confine._drop_capabilities()
        lap("capabilities dropped (same user only)")
        if iso.seccomp is not None:
            seccomp.install(iso.seccomp)
        lap("seccomp filter installed")
        os.write(write_end, json.dumps(times).encode())
        os._exit(0)
    os.close(write_end)
    data = os.read(read_end, 1 << 16)
    os.close(read_end)
    os.waitpid(pid, 0)
    os.rmdir(scratch)
    return json.loads(data)


if __name__ == "__main__":
    main()
