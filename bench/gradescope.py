"""`make bench-gradescope`: the zip under Gradescope's default container, here.

Gradescope runs the autograder in a container of 768 MB and half a CPU. Where this machine
can make a cgroup (v1: the memory and cpu hierarchies; v2: a subtree with the memory and
cpu controllers), each run below starts in a fresh one with those limits
(memory.limit_in_bytes and memory.memsw.limit_in_bytes, or memory.max and memory.swap.max;
cpu.cfs_quota_us=50000 per cpu.cfs_period_us=100000, or cpu.max "50000 100000"):

  a) `python -c "import torch"`, the floor (--repeat times);
  b) the zip's own run_autograder in a Gradescope-like tree (release/gradescope_test.py)
     on the reference (--repeat times): the ratio of the medians is printed as
     `gradescope_vs_import_torch=<ratio>` (the issue's target: 1.3 or less);
  c) the same on a correct submission holding 400 MB, a correct one with 2 CPU-seconds of
     top-level work (both in bench/submissions/) and the skeleton: the first two must earn
     full marks like the reference, the skeleton 0.

Each row gives the wall time, the CPU time and the peak memory of the whole process tree
(the cgroup's memory.max_usage_in_bytes, or memory.peak), and the score. Where no cgroup
can be made, it says why and measures nothing. Exit status 1 if a submission is scored
otherwise than promised.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from release import gradescope, gradescope_test  # noqa: E402

MEMORY_BYTES = 768 * 1024 * 1024
CPU_QUOTA_US, CPU_PERIOD_US = 50_000, 100_000  # half a CPU
SUBMISSIONS = ROOT / "bench" / "submissions"
REFERENCE = ROOT / "solutions" / "regression.py"
SKELETON = ROOT / "assignment" / "regression.py"


class Container:
    """A fresh cgroup with Gradescope's limits; `run` starts a command inside it (the
    child joins before it execs, so everything it starts is inside too)."""

    def __init__(self, folders: list[Path], version: int) -> None:
        self.folders = folders  # v1: memory, cpu, and cpuacct if mounted apart; v2: one
        self.version = version

    @classmethod
    def make(cls) -> tuple[Container | None, str]:
        """A new container, or None and why none can be made on this machine."""
        name = f"bench-gradescope-{os.getpid()}-{time.monotonic_ns()}"
        mounts, own = _cgroup_mounts(), _own_cgroups()
        reasons = []
        if "memory" in mounts and "cpu" in mounts:
            controllers = ["memory", "cpu"]
            if mounts.get("cpuacct", mounts["cpu"]) != mounts["cpu"]:
                controllers.append("cpuacct")  # the CPU time the tree used, exactly
            folders = [mounts[c] / own.get(c, "/").lstrip("/") / name for c in controllers]
            try:
                for folder in folders:
                    folder.mkdir()
                _write(folders[0] / "memory.limit_in_bytes", MEMORY_BYTES)
                _write(folders[0] / "memory.memsw.limit_in_bytes", MEMORY_BYTES, missing_ok=True)
                _write(folders[1] / "cpu.cfs_period_us", CPU_PERIOD_US)
                _write(folders[1] / "cpu.cfs_quota_us", CPU_QUOTA_US)
                return cls(folders, 1), f"cgroup v1: {folders[0]}, {folders[1]}"
            except OSError as exc:
                cls(folders, 1).close()
                reasons.append(f"v1: {exc}")
        if "cgroup2" in mounts:
            parent = mounts["cgroup2"] / own.get("", "/").lstrip("/")
            folder = parent / name
            try:
                wanted = {"memory", "cpu"}
                enabled = set((parent / "cgroup.subtree_control").read_text().split())
                if not wanted <= enabled:
                    _write(parent / "cgroup.subtree_control",
                           " ".join(f"+{c}" for c in sorted(wanted - enabled)))
                folder.mkdir()
                _write(folder / "memory.max", MEMORY_BYTES)
                _write(folder / "memory.swap.max", 0, missing_ok=True)
                _write(folder / "cpu.max", f"{CPU_QUOTA_US} {CPU_PERIOD_US}")
                return cls([folder], 2), f"cgroup v2: {folder}"
            except OSError as exc:
                cls([folder], 2).close()
                reasons.append(f"v2: {exc}")
        if not reasons:
            reasons.append("no cgroup hierarchy with memory and cpu is mounted")
        return None, "; ".join(reasons)

    def run(self, command: list[str], **options
            ) -> tuple[subprocess.CompletedProcess, float, float]:
        """Run `command` inside; return it, its wall time and the CPU time (user + system)
        of its process tree, in seconds (each process in it waits for its children)."""
        procs = [folder / "cgroup.procs" for folder in self.folders]

        def join() -> None:
            for path in procs:
                _write(path, os.getpid())

        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.monotonic()
        done = subprocess.run(command, preexec_fn=join, **options)
        wall = time.monotonic() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = self.cpu_seconds()  # processes that outlive their parent's wait count too
        if cpu is None:
            cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return done, wall, cpu

    def cpu_seconds(self) -> float | None:
        """The CPU time every process in the container has used (one run per container)."""
        for folder in self.folders:
            try:
                if self.version == 1 and (folder / "cpuacct.usage").exists():
                    return int((folder / "cpuacct.usage").read_text()) / 1e9
                if self.version == 2:
                    for line in (folder / "cpu.stat").read_text().splitlines():
                        key, _, value = line.partition(" ")
                        if key == "usage_usec":
                            return int(value) / 1e6
            except (OSError, ValueError):
                return None
        return None

    def peak_bytes(self) -> int | None:
        name = "memory.max_usage_in_bytes" if self.version == 1 else "memory.peak"
        try:
            return int((self.folders[0] / name).read_text())
        except (OSError, ValueError):
            return None

    def close(self) -> None:
        for folder in reversed(self.folders):
            for _ in range(50):  # the last processes may take a moment to leave
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.1)


@contextlib.contextmanager
def container() -> Iterator[Container]:
    made, why = Container.make()
    if made is None:
        raise RuntimeError(why)
    try:
        yield made
    finally:
        made.close()


def _write(path: Path, value: object, missing_ok: bool = False) -> None:
    if missing_ok and not path.exists():
        return
    with open(path, "w") as f:
        f.write(str(value))


def _cgroup_mounts() -> dict[str, Path]:
    """Controller (or "cgroup2") -> where its hierarchy is mounted."""
    mounts: dict[str, Path] = {}
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            rest = fields[fields.index("-") + 1:]
            if rest[0] == "cgroup":
                for option in rest[2].split(","):
                    if option in ("memory", "cpu", "cpuacct"):
                        mounts.setdefault(option, Path(fields[4]))
            elif rest[0] == "cgroup2":
                mounts.setdefault("cgroup2", Path(fields[4]))
    return mounts


def _own_cgroups() -> dict[str, str]:
    """Controller ("" for v2) -> this process's cgroup in it."""
    own = {}
    with open("/proc/self/cgroup") as f:
        for line in f:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            for controller in controllers.split(",") if controllers else [""]:
                own[controller] = path
    return own


# --- the runs ------------------------------------------------------------------------------


@dataclass
class Row:
    what: str
    seconds: list[float]
    cpu: list[float]
    peak: int | None
    score: str = ""
    verdict: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def median_cpu(self) -> float:
        return statistics.median(self.cpu)


def import_torch(repeat: int) -> Row:
    seconds, cpu, peaks = [], [], []
    for _ in range(repeat):
        with container() as box:
            done, took, used = box.run([sys.executable, "-c", "import torch"],
                                       capture_output=True)
            if done.returncode:
                raise RuntimeError(done.stderr.decode()[-2000:])
            seconds.append(took)
            cpu.append(used)
            peaks.append(box.peak_bytes())
    return Row('python -c "import torch"', seconds, cpu, _most(peaks))


def run_zip(archive: Path, submission: Path, what: str, repeat: int, full_marks: bool) -> Row:
    """The zip's run_autograder on `submission` in a fresh Gradescope-like tree, inside a
    fresh container, `repeat` times."""
    seconds, cpu, peaks, scores = [], [], [], []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory(prefix="gradescope-") as tmp, container() as box:
            root = Path(tmp)
            upload = root / "upload"
            upload.mkdir()
            (upload / "regression.py").write_bytes(submission.read_bytes())
            gradescope_test.lay_out(root / "tree", archive, upload)
            env = dict(os.environ, AUTOGRADER_ROOT=str(root / "tree"),
                       AUTOGRADER_PYTHON=sys.executable)
            env.pop("PYTHONPATH", None)
            done, took, used = box.run([str(root / "tree" / "source" / "run_autograder")],
                                 cwd=root / "tree", env=env, capture_output=True, timeout=900)
            results = json.loads(
                (root / "tree" / "results" / "results.json").read_text())
            seconds.append(took)
            cpu.append(used)
            peaks.append(box.peak_bytes())
            most = sum(t["max_score"] for t in results["tests"])
            scores.append((results["score"], most, results["tests"]))
    ok = all((score == most > 0) if full_marks else (score == 0 and most > 0)
             for score, most, _ in scores)
    verdict = "ok" if ok else "WRONG: " + _first_failure(scores)
    shown = ", ".join(sorted({f"{s:g}/{m:g}" for s, m, _ in scores}))
    return Row(what, seconds, cpu, _most(peaks), shown, verdict)


def _first_failure(scores: list) -> str:
    for _, _, tests in scores:
        for test in tests:
            if test["score"] < test["max_score"]:
                return f"{test['name']}: {test['output'].splitlines()[0][:120]}"
    return "no test ran"


def _most(peaks: list[int | None]) -> int | None:
    known = [p for p in peaks if p is not None]
    return max(known) if known else None


def table(rows: list[Row]) -> str:
    header = f"{'run':<34} {'n':>2} {'median s':>9} {'min s':>7} {'max s':>7} " \
             f"{'cpu s':>6} {'peak MB':>8} {'score':>6}  verdict"
    lines = [header, "-" * len(header)]
    for row in rows:
        peak = f"{row.peak / 2**20:8.0f}" if row.peak is not None else f"{'n/a':>8}"
        lines.append(f"{row.what:<34} {len(row.seconds):>2} {row.median:9.2f} "
                     f"{min(row.seconds):7.2f} {max(row.seconds):7.2f} {row.median_cpu:6.2f} "
                     f"{peak} {row.score:>6}  {row.verdict}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of import torch and of the reference (median; default 3)")
    args = parser.parse_args(argv)
    made, why = Container.make()
    if made is None:
        print(f"bench-gradescope: skipped: no cgroup can be made on this machine ({why})")
        return 0
    made.close()
    print(f"Gradescope's default container here: {MEMORY_BYTES // 2**20} MB, "
          f"cpu quota {CPU_QUOTA_US} per {CPU_PERIOD_US} us ({why.split(':')[0]}); "
          f"Python {sys.version.split()[0]}, {os.cpu_count()} cores", flush=True)
    archive = gradescope.build(Path(tempfile.mkdtemp(prefix="bench-zip-")) / "autograder.zip")
    rows = [import_torch(args.repeat)]
    print(f"  measured {rows[-1].what}", flush=True)
    cases = [(REFERENCE, "zip: reference", args.repeat, True),
             (SUBMISSIONS / "holds_400mb.py", "zip: correct, holds 400 MB", 1, True),
             (SUBMISSIONS / "top_level_work.py", "zip: correct, 2 CPU-s at import", 1, True),
             (SKELETON, "zip: skeleton", 1, False)]
    for path, what, repeat, full in cases:
        rows.append(run_zip(archive, path, what, repeat, full))
        print(f"  measured {what}", flush=True)
    print()
    print(table(rows))
    zip_peaks = [row.peak for row in rows[1:] if row.peak is not None]
    if zip_peaks:
        print(f"peak_memory_mb={max(zip_peaks) / 2**20:.0f} (of {MEMORY_BYTES // 2**20}: the "
              "whole tree, judge, zygote and workers)")
    print(f"cpu_seconds_vs_import_torch={rows[1].median_cpu / rows[0].median_cpu:.2f} "
          "(the same ratio in CPU time: what a busy machine changes least)")
    print(f"gradescope_vs_import_torch={rows[1].median / rows[0].median:.2f}")
    wrong = [row.what for row in rows if row.verdict.startswith("WRONG")]
    if wrong:
        print("scored otherwise than promised: " + "; ".join(wrong))
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
