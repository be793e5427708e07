"""One grading path, deterministic: a submission's score and messages do not depend on what
else the process graded, the order, JOBS, or whether it ran through the Gradescope zip.

The submissions in tests/stateful/ keep state between calls in module globals (momentum,
a call counter decaying the learning rate, gradients zeroed on the first call only, a
forward() that drifts): any difference in which calls share a worker, or in their order,
changes what they return. Each is graded alone (a fresh Grader, as `make grade`), at
several positions among other submissions in one Grader, by `grade-all` with JOBS=1 and
JOBS=2, and through the zip's own run_autograder (a fresh process per submission, as on
Gradescope). Every path must give the same scores and the same messages.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder import results as graded
from autograder.grade import Grader
from autograder.judge import Plan
from autograder.platforms.gradescope import to_gradescope
from release import gradescope, gradescope_test

ROOT = Path(__file__).resolve().parents[1]
STATEFUL = sorted((ROOT / "tests" / "stateful").glob("*.py"))
REFERENCE = ROOT / "solutions" / "regression.py"
SKELETON = ROOT / "assignment" / "regression.py"
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))


def view(results: dict) -> dict:
    """What a student and the gradebook see of a grading, as Gradescope's results.json
    holds it, without the time it took."""
    return {"score": results["score"], "output": results["output"],
            "tests": [(t["name"], t["score"], t["max_score"], t["output"], t["visibility"])
                      for t in results["tests"]]}


def view_of(result: graded.GradingResult) -> dict:
    return view(to_gradescope(result))


@pytest.fixture(scope="module")
def alone() -> dict[str, dict]:
    """Each stateful submission graded by a Grader of its own, first and only."""
    views = {}
    for path in STATEFUL:
        with Grader() as grader:
            views[path.name] = view_of(grader.grade(path))
    return views


def test_the_stateful_submissions_are_graded_and_lose_points(alone):
    assert len(STATEFUL) >= 4
    for name, seen in alone.items():
        most = sum(t[2] for t in seen["tests"])
        assert 0 < seen["score"] < most, (name, seen)


def test_their_scores_do_depend_on_which_calls_share_a_worker(alone):
    """The check below can fail: graded with every call in a worker of its own (no plan),
    the stateful submissions are scored differently from the grouped run that every
    path uses."""
    with Grader() as grader:
        grader._plan = Plan()
        differ = [path.name for path in STATEFUL
                  if view_of(grader.grade(path)) != alone[path.name]]
    assert differ, "no stateful submission notices the grouping: the checks prove nothing"


def test_one_grader_gives_the_same_at_every_position(alone):
    others = [REFERENCE, SKELETON, *EXAMPLES[:3]]
    order = [*STATEFUL, *others, *reversed(STATEFUL), others[1], *STATEFUL[::2], others[0],
             *STATEFUL[1::2]]
    with Grader() as grader:
        for position, path in enumerate(order):
            if path in STATEFUL:
                assert view_of(grader.grade(path)) == alone[path.name], (position, path.name)
            else:
                grader.grade(path)


@pytest.mark.parametrize("jobs", [1, 2])
def test_grade_all_gives_the_same_with_any_jobs(alone, tmp_path, jobs):
    folder = tmp_path / "class"
    folder.mkdir()
    mixed = [REFERENCE, *STATEFUL[:2], SKELETON, *EXAMPLES[:2], *STATEFUL[2:], EXAMPLES[-1]]
    names = {}
    for number, path in enumerate(mixed):
        key = f"{number:02d}_{path.stem}.py"
        shutil.copy(path, folder / key)
        names[key] = path.name
    out = tmp_path / "graded"
    done = subprocess.run([sys.executable, "-m", "autograder.batch", str(folder),
                           "--jobs", str(jobs), "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    for key, name in names.items():
        if name not in alone:
            continue
        record = json.loads((out / "results" / f"{key}.json").read_text())["result"]
        result = graded.GradingResult(
            **{**record, "tests": [graded.TestResult(**t) for t in record["tests"]]})
        assert view_of(result) == alone[name], (jobs, key)


def test_the_gradescope_zip_gives_the_same(alone, tmp_path):
    archive = gradescope.build(tmp_path / "autograder.zip")
    for path in STATEFUL:
        upload = tmp_path / "upload" / path.stem
        upload.mkdir(parents=True)
        shutil.copy(path, upload / "regression.py")
        assert view(gradescope_test.run(upload, archive=archive)) == alone[path.name], path.name
