"""The speed benchmark (`make bench [N=200]`): grading a class, side by side, on this machine.

It builds a class of N students (one .py each; a realistic mix drawn from the package's
corpus: the reference, each typical mistake in examples/, the untouched skeleton, a syntax
error, and, one in a hundred, a training loop that never ends) and measures, in one run:

  a) `python -m autograder.batch` on the whole class (what `make grade-all` runs), and a
     batch of JOBS submissions alone, to separate the fixed start-up from the cost per
     submission;
  b) `python -m autograder.grade FILE`, one submission per process (a sample);
  c) otter-grader's `otter run` with an autograder zip that `otter generate` builds from
     the public tests in assignment/tests/ (a sample: it takes seconds per submission; the
     never-ending loops are left out of it, since `otter run` has no time limit);
  d) the floor: `python -c "import torch"`;
  e) `python -m autograder.grade solutions/regression.py`, against (d): the autograder
     issue asks for at most about 2x import torch and a process tree under 600 MB.

Memory is the peak over the run of the whole process tree (every descendant, sampled
from /proc every 50 ms): the sum of RSS, which counts pages shared between processes
(torch's libraries, the zygote's forked children) once per process, and the sum of PSS,
which splits shared pages between their users and so adds up to what the tree really uses.
CPU is user + system time of the tree. The last line is `ratio_vs_otter_run=X`: otter's
seconds per submission divided by ours (wall time of the whole batch, start-up included).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
OTTER = str(Path(sys.executable).with_name("otter"))
ENV = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
PAGE = os.sysconf("SC_PAGE_SIZE")

ENDLESS = (  # a training loop at the top of the module that never converges
    "\n\nw, b = initial_parameters()\n"
    "while mse(forward(inputs, w, b), targets) > 0:\n"
    "    loss = mse(forward(inputs, w, b), targets)\n"
    "    loss.backward()\n"
    "    update(w, b, lr=1e-9)\n"
)


# --- the class ----------------------------------------------------------------------------


def make_class(folder: Path, n: int) -> dict[str, str]:
    """N students, one .py each. Returns each file's kind. The mix, per hundred: 35 right
    (the reference), 45 with one typical mistake (examples/, in turn), 10 untouched
    skeletons, 9 syntax errors, 1 endless loop (none below a class of 100)."""
    reference = (ROOT / "solutions" / "regression.py").read_text()
    mistakes = {p.stem: p.read_text() for p in sorted((ROOT / "examples").glob("*.py"))}
    sources = {"reference": reference,
               "skeleton": (ROOT / "assignment" / "regression.py").read_text(),
               "syntax error": re.sub(r"^(def forward\(.*\)[^:\n]*):$", r"\1", reference,
                                      count=1, flags=re.MULTILINE),
               "endless loop": reference.split('\nif __name__ == "__main__":')[0] + ENDLESS}
    endless = n // 100
    plan = ["endless loop"] * endless
    rest = n - endless
    counts = {"reference": round(rest * 0.35), "skeleton": round(rest * 0.10),
              "syntax error": round(rest * 0.09)}
    plan += [kind for kind, count in counts.items() for _ in range(count)]
    names = list(mistakes)
    plan += [f"mistake:{names[i % len(names)]}" for i in range(max(rest - sum(counts.values()),
                                                                    0))]
    plan = plan[:n]
    random.Random(n).shuffle(plan)  # spread the kinds through the class, as a roster would
    folder.mkdir(parents=True)
    kinds = {}
    for i, kind in enumerate(plan):
        name = f"student{i:03d}.py"
        text = mistakes[kind.split(":", 1)[1]] if kind.startswith("mistake:") else sources[kind]
        (folder / name).write_text(text)
        kinds[name] = kind
    return kinds


# --- measuring a command ------------------------------------------------------------------


@dataclass
class Run:
    wall: float
    cpu: float
    peak_rss: int  # bytes, summed over the tree
    peak_pss: int
    code: int
    stdout: str = ""
    stderr: str = ""


@dataclass
class Row:
    what: str
    runs: int  # submissions (or repetitions) measured
    note: str
    measured: list[Run] = field(default_factory=list)

    @property
    def wall(self) -> float:
        return sum(r.wall for r in self.measured)

    @property
    def cpu(self) -> float:
        return sum(r.cpu for r in self.measured)

    @property
    def peak_rss(self) -> int:
        return max(r.peak_rss for r in self.measured)

    @property
    def peak_pss(self) -> int:
        return max(r.peak_pss for r in self.measured)


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def _tree_memory(root: int) -> tuple[int, int]:
    tree, todo, rss, pss = _children(), [root], 0, 0
    while todo:
        pid = todo.pop()
        todo += tree.get(pid, [])
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Rss:"):
                        rss += int(line.split()[1]) * 1024
                    elif line.startswith("Pss:"):
                        pss += int(line.split()[1]) * 1024
        except (OSError, ValueError):
            continue
    return rss, pss


def measure(command: list[str], cwd: Path = ROOT, timeout: float | None = None) -> Run:
    """Run a command; its wall time, the CPU of its whole tree, and the tree's peak memory."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    proc = subprocess.Popen(command, cwd=cwd, env=ENV, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    peak = [0, 0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            rss, pss = _tree_memory(proc.pid)
            peak[0], peak[1] = max(peak[0], rss), max(peak[1], pss)
            stop.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        stdout, stderr = proc.communicate()
    wall = time.monotonic() - started
    stop.set()
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Run(wall, cpu, peak[0], peak[1], proc.returncode, stdout, stderr)


def _check(run: Run, what: str) -> Run:
    if run.code not in (0, 1):
        sys.exit(f"bench: {what} failed (exit {run.code}):\n{run.stderr[-2000:]}")
    return run


def sample(names: list[str], k: int) -> list[str]:
    """k names spread evenly over the class."""
    if k >= len(names):
        return list(names)
    return [names[round(i * (len(names) - 1) / max(k - 1, 1))] for i in range(k)]


# --- the five measurements ---------------------------------------------------------------


def bench(n: int, jobs: int, grade_sample: int, otter_sample: int, repeat: int,
          work: Path) -> tuple[list[Row], dict]:
    folder = work / "class"
    kinds = make_class(folder, n)
    names = sorted(kinds)
    rows: list[Row] = []
    facts: dict = {"kinds": kinds}

    small = work / "startup"
    small.mkdir()
    for i in range(jobs):
        shutil.copy(folder / names[i % n], small / names[i % n])
    print(f"bench: (a) our batch: {jobs} submissions, then the class of {n}, JOBS={jobs}",
          file=sys.stderr)
    start = _check(measure([PY, "-m", "autograder.batch", str(small), "--out",
                            str(work / "startup-graded"), "--jobs", str(jobs)]), "batch")
    whole = _check(measure([PY, "-m", "autograder.batch", str(folder), "--out",
                            str(work / "graded"), "--jobs", str(jobs)]), "batch")
    a = Row(f"(a) python -m autograder.batch, JOBS={jobs}", n, "whole class", [whole])
    rows.append(a)
    facts["startup"] = start
    facts["batch"] = whole
    results = {}
    for path in (work / "graded" / "results").glob("*.json"):
        record = json.loads(path.read_text())
        results[record["key"]] = record["result"]
    facts["results"] = results

    picked = sample(names, grade_sample)
    print(f"bench: (b) python -m autograder.grade, one at a time: {len(picked)}",
          file=sys.stderr)
    b = Row("(b) python -m autograder.grade FILE, one by one", len(picked),
            f"sample of {len(picked)}")
    for name in picked:
        b.measured.append(_check(measure([PY, "-m", "autograder.grade", str(folder / name)]),
                                 "grade"))
    rows.append(b)

    bounded = [m for m in names if kinds[m] != "endless loop"]
    picked = sample(bounded, otter_sample)
    print(f"bench: (c) otter run: {len(picked)}", file=sys.stderr)
    otter_dir = work / "otter"
    otter_dir.mkdir()
    shutil.copytree(ROOT / "assignment" / "tests", otter_dir / "tests")
    generate = _check(measure([OTTER, "generate", "-t", "tests", "-o", "autograder.zip",
                               "--no-requirements", "--no-environment", "--no-config"],
                              cwd=otter_dir), "otter generate")
    facts["otter_generate"] = generate
    c = Row("(c) otter run -a autograder.zip FILE", len(picked),
            f"sample of {len(picked)}, no endless loops")
    otter_scores = {}
    for name in picked:
        out = otter_dir / "out" / Path(name).stem
        out.mkdir(parents=True)
        run = measure([OTTER, "run", "-a", "autograder.zip", "-o", str(out), "--no-logo",
                       str(folder / name)], cwd=otter_dir, timeout=300)
        c.measured.append(run)
        try:
            otter_scores[name] = sum(t.get("score") or 0 for t in json.loads(
                (out / "results.json").read_text())["tests"])
        except (OSError, ValueError, KeyError):
            otter_scores[name] = None
    facts["otter_scores"] = otter_scores
    rows.append(c)

    print(f"bench: (d) import torch, (e) grade the reference: {repeat} times each",
          file=sys.stderr)
    d = Row('(d) python -c "import torch"', repeat, "the floor")
    e = Row("(e) python -m autograder.grade solutions/regression.py", repeat, "one submission")
    for _ in range(repeat):  # interleaved, so both see the same machine load
        d.measured.append(_check(measure([PY, "-c", "import torch"]), "import torch"))
        e.measured.append(_check(measure([PY, "-m", "autograder.grade",
                                          "solutions/regression.py"]), "grade"))
    rows += [d, e]
    return rows, facts


def per(row: Row) -> float:
    return row.wall / row.runs


def table(rows: list[Row], facts: dict, n: int, jobs: int) -> str:
    mb = 1024 * 1024
    head = (f"{'what':<58} {'count':>5} {'wall s':>8} {'s/sub':>7} {'CPU s/sub':>9} "
            f"{'peak RSS MB':>11} {'peak PSS MB':>11}  note")
    lines = [head, "-" * len(head)]
    for row in rows:
        lines.append(f"{row.what:<58} {row.runs:>5} {row.wall:>8.2f} {per(row):>7.3f} "
                     f"{row.cpu / row.runs:>9.3f} {row.peak_rss / mb:>11.0f} "
                     f"{row.peak_pss / mb:>11.0f}  {row.note}")
    a, b, c, d, e = rows
    start: Run = facts["startup"]
    marginal = (a.wall - start.wall) / max(n - jobs, 1)
    floor, single = statistics.median(r.wall for r in d.measured), statistics.median(
        r.wall for r in e.measured)
    kinds = facts["kinds"]
    by_kind: dict[str, list[float]] = {}
    for key, result in facts["results"].items():
        by_kind.setdefault(kinds.get(key, "?").split(":")[0], []).append(result["seconds"])
    lines += [
        "",
        f"class of {n}: " + ", ".join(f"{k} {sum(1 for v in kinds.values() if v == k)}"
                                      for k in ("reference", "skeleton", "syntax error",
                                                "endless loop"))
        + f", mistake {sum(1 for v in kinds.values() if v.startswith('mistake:'))}",
        f"(a) start-up: a batch of {jobs} took {start.wall:.2f} s; beyond it, each further "
        f"submission cost {marginal * 1000:.0f} ms of wall time "
        f"(({a.wall:.2f} - {start.wall:.2f}) / {n - jobs})",
        "(a) grading time per submission inside a worker (judge + sandbox), mean by kind: "
        + ", ".join(f"{k} {statistics.mean(v):.2f} s" for k, v in sorted(by_kind.items())),
        f"(c) otter generate took {facts['otter_generate'].wall:.2f} s (not counted); otter "
        "scores of the sample: " + ", ".join(
            f"{k}={v:g}" if v is not None else f"{k}=?" for k, v in facts["otter_scores"].items()),
        f"(e) vs (d): median {single:.2f} s vs {floor:.2f} s = {single / floor:.2f}x import "
        f"torch (target <= about 2x: {'met' if single <= 2 * floor else 'NOT met'}); peak "
        f"tree PSS {e.peak_pss / mb:.0f} MB, RSS {e.peak_rss / mb:.0f} MB (target < 600 MB: "
        f"{'met' if e.peak_pss < 600 * mb else 'NOT met'} by PSS, "
        f"{'met' if e.peak_rss < 600 * mb else 'not met'} by RSS)",
        f"speed-up vs otter run per submission: {per(c) / per(a):.1f}x wall "
        f"({per(c) / marginal:.1f}x beyond start-up), {c.cpu / c.runs / (a.cpu / a.runs):.1f}x "
        "CPU; one by one with autograder.grade: "
        f"{per(c) / per(b):.1f}x",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="students in the class (200)")
    parser.add_argument("--jobs", type=int, default=len(os.sched_getaffinity(0)),
                        help="grading processes of our batch (default: one per core)")
    parser.add_argument("--grade-sample", type=int, default=5,
                        help="submissions graded one by one with autograder.grade (5)")
    parser.add_argument("--otter-sample", type=int, default=10,
                        help="submissions graded with otter run (10)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of import torch and of grading the reference (3)")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    args = parser.parse_args(argv)
    if args.n < max(args.jobs, 1) + 1:
        parser.error(f"--n must be more than --jobs ({args.jobs})")
    if not Path(OTTER).exists():
        parser.error(f"{OTTER} not found: run make venv")
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        work = args.keep or Path(tmp)
        if args.keep:
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir(parents=True)
        started = time.monotonic()
        rows, facts = bench(args.n, args.jobs, args.grade_sample, args.otter_sample,
                            args.repeat, work)
        print(f"\nGrading a class of {args.n} on {os.cpu_count()} cores "
              f"({len(os.sched_getaffinity(0))} usable), load average "
              f"{os.getloadavg()[0]:.2f}; benchmark took {time.monotonic() - started:.0f} s\n")
        print(table(rows, facts, args.n, args.jobs))
        a, c = rows[0], rows[2]
        print(f"ratio_vs_otter_run={per(c) / per(a):.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
