"""Limits that fit the machine: CPU time judges the student's work, the wall clock is only
a backstop, memory is what is really free, and each message names the limit hit.

Through the real sandbox. The container cases (a grader in a cgroup of little memory,
or throttled to a fifth of a CPU) run the grader in a fresh process inside a cgroup of
its own, where this machine lets root make one (cgroup v1 here); elsewhere they are
skipped with the reason printed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

from autograder.limits import Limits
from autograder.sandbox import Sandbox

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SCENARIOS = HERE / "probe_scenarios.py"

WORK = textwrap.dedent('''
    import signal
    import time

    import torch

    def _spin(seconds):
        end = time.process_time() + seconds
        while time.process_time() < end:
            pass

    def peek(mode="", seconds=0.0, mb=0):
        if mode == "loop":
            while True:
                pass
        if mode == "loop_ignoring_sigxcpu":
            signal.signal(signal.SIGXCPU, signal.SIG_IGN)
            while True:
                pass
        if mode == "sleep":
            time.sleep(3600)
        if mode == "spin":
            _spin(seconds)
        if mode == "hold":
            held = torch.ones(mb * 1024 * 1024 // 4)  # float32: 4 bytes each
            return {"held_mb": held.numel() * 4 // 2**20}
        return {"done": mode}
''')


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("limits") / "regression.py"
    path.write_text(WORK)
    return path


def _run(sandbox: Sandbox, work: Path, **args):
    return sandbox.run(work, "regression", "peek_call", **args)


def test_an_endless_loop_meets_the_cpu_limit_and_is_named_so(work):
    with Sandbox(SCENARIOS, Limits(cpu_seconds=1, wall_seconds=30),
                 preload=("torch",)) as sandbox:
        for mode in ("loop", "loop_ignoring_sigxcpu"):
            outcome = _run(sandbox, work, mode=mode)
            assert outcome.status == "cpu", (mode, outcome)
            assert "1 seconds of CPU time" in outcome.message
            assert "wall-clock" not in outcome.message


def test_waiting_meets_the_wall_clock_backstop_and_is_not_called_a_loop(work):
    with Sandbox(SCENARIOS, Limits(cpu_seconds=5, wall_seconds=1),
                 preload=("torch",)) as sandbox:
        outcome = _run(sandbox, work, mode="sleep")
    assert outcome.status == "timeout", outcome
    assert "1 seconds of wall-clock time" in outcome.message
    assert "endless loop" not in outcome.message


# ------------------------------------------------------------------ inside a container

RUNNER = textwrap.dedent('''
    import json, sys
    sys.path.insert(0, {root!r})
    from pathlib import Path
    from autograder.limits import Limits
    from autograder.sandbox import Sandbox
    work, calls = sys.argv[1], json.loads(sys.argv[2])
    with Sandbox(Path({scenarios!r}), Limits(**json.loads(sys.argv[3])),
                 preload=("torch",)) as sandbox:
        found = []
        for args in calls:
            o = sandbox.run(Path(work), "regression", "peek_call", **args)
            found.append([o.status, o.value, o.message])
        print(json.dumps({{"memory_mb": sandbox.limits.memory_mb, "missing": sandbox.missing,
                          "outcomes": found}}))
''').format(root=str(ROOT), scenarios=str(SCENARIOS))


def _v1(controller: str) -> Path | None:
    """Our own folder in a cgroup v1 hierarchy of this controller, if root may make one."""
    mount = Path("/sys/fs/cgroup") / controller
    try:
        own = next(line.rstrip("\n").split(":", 2)[2] for line in open("/proc/self/cgroup")
                   if controller in line.split(":")[1].split(","))
    except (OSError, StopIteration):
        return None
    folder = mount / own.lstrip("/")
    folder = folder if folder.is_dir() else mount
    return folder if os.access(folder, os.W_OK) else None


def _in_cgroup(settings: dict[str, dict[str, str]], command: list[str]) -> dict:
    """Run `command` in new v1 cgroups with these settings ({controller: {file: value}})."""
    made = []
    try:
        for controller, files in settings.items():
            parent = _v1(controller)
            if parent is None:
                pytest.skip(f"no writable cgroup v1 '{controller}' hierarchy here")
            folder = parent / f"limits-test-{uuid.uuid4().hex[:8]}"
            folder.mkdir()
            made.append(folder)
            for name, value in files.items():
                (folder / name).write_text(value)
        enter = ("import os, sys\nfor f in sys.argv[1].split(','):\n"
                 "    open(f + '/cgroup.procs', 'w').write(str(os.getpid()))\n"
                 "os.execv(sys.argv[2], sys.argv[2:])")
        done = subprocess.run([sys.executable, "-c", enter, ",".join(map(str, made)), *command],
                              capture_output=True, text=True, timeout=600, cwd="/")
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        for folder in made:
            try:
                folder.rmdir()
            except OSError:
                pass


def _grader(work: Path, calls: list[dict], limits: Limits | None = None) -> list[str]:
    limits_json = json.dumps(vars(limits) if limits else {})
    return [sys.executable, "-c", RUNNER, str(work), json.dumps(calls), limits_json]


@pytest.mark.skipif(os.geteuid() != 0, reason="making a cgroup takes root")
def test_in_a_small_container_the_allowance_fits_and_the_worker_is_the_one_stopped(work):
    """A grader in a cgroup of 700 MB: the worker's allowance is lowered to what is free
    (less the grader's margin) and said so; a worker holding more is stopped with a message
    naming that allowance; one holding most of it earns its answer; the grader lives on."""
    limit = 700 * 2**20
    result = _in_cgroup({"memory": {"memory.limit_in_bytes": str(limit)}},
                        _grader(work, [{"mode": "hold", "mb": 500}, {"mode": "hold", "mb": 380},
                                       {"mode": "done"}]))
    allowance = result["memory_mb"]
    print(f"in 700 MB: the allowance is {allowance} MB; {result['missing']}")
    assert 64 <= allowance < 500, allowance
    assert any(f"may use {allowance} MB of memory, not 512" in m for m in result["missing"])
    too_much, fits, after = result["outcomes"]
    assert too_much[0] == "memory" and f"{allowance} MB memory limit" in too_much[2], too_much
    # most of the allowance is the worker's own: the zygote's pages do not eat into it
    assert fits[0] == "ok" and fits[1] == {"held_mb": 380}, fits
    assert after[0] == "ok", after


@pytest.mark.skipif(os.geteuid() != 0, reason="making a cgroup takes root")
def test_a_throttled_container_judges_cpu_time_not_the_wall_clock(work):
    """A quarter of a CPU: 1.5 CPU-seconds of work take ~6 s of wall clock, three times
    the CPU limit of 2 s (and more than the old 5 s wall limit), and it finishes; an
    endless loop still ends at 2 s of CPU time (~8 s of wall clock), named so. The wall
    clock (20 s) is only the backstop."""
    limits = Limits(cpu_seconds=2, wall_seconds=20)
    result = _in_cgroup({"cpu": {"cpu.cfs_period_us": "100000", "cpu.cfs_quota_us": "25000"}},
                        _grader(work, [{"mode": "spin", "seconds": 1.5}, {"mode": "loop"}],
                                limits))
    spin, loop = result["outcomes"]
    assert spin[0] == "ok", spin
    assert loop[0] == "cpu" and "2 seconds of CPU time" in loop[2], loop


def test_without_pidfd_open_grading_goes_on(work):
    """A kernel or container profile that refuses pidfd_open: the zygote waits for its
    workers by polling instead, and still ends one that outlives the wall clock."""
    refuse = textwrap.dedent("""
        import errno, os, sys
        import pyseccomp
        rules = pyseccomp.SyscallFilter(pyseccomp.ALLOW)
        rules.add_rule(pyseccomp.ERRNO(errno.EPERM), "pidfd_open")
        rules.load()
        os.execv(sys.argv[1], sys.argv[1:])
    """)
    limits = Limits(cpu_seconds=5, wall_seconds=1)
    done = subprocess.run([sys.executable, "-c", refuse,
                           *_grader(work, [{"mode": "done"}, {"mode": "sleep"}], limits)],
                          capture_output=True, text=True, timeout=300, cwd="/")
    assert done.returncode == 0, done.stderr[-3000:]
    quick, sleeper = json.loads(done.stdout.strip().splitlines()[-1])["outcomes"]
    assert quick[0] == "ok", quick
    assert sleeper[0] == "timeout" and "wall-clock" in sleeper[2], sleeper
