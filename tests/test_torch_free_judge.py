"""The judge compares data with data: the hidden tests' expected answers (judge.Answers)
are computed with torch once, when the plan is settled, and saved beside it
(answers.json). A grading with saved answers imports no torch in the judge process (the
zygote still does, for the workers), and scores and messages are those of answers
computed live with torch."""

from __future__ import annotations

import dataclasses
import json
import math
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from autograder.grade import Grader, Homework
from autograder.judge import ANSWERS_FILE, PLAN_FILE, plan_key, settled, stored_answers
from autograder.tests import hidden
from autograder.tests.feedback import TORCH_DTYPES

ROOT = Path(__file__).resolve().parents[1]
HIDDEN = ROOT / "autograder" / "tests"
REFERENCE = ROOT / "solutions" / "regression.py"
# what the comparison grades: every example, alternative and stateful submission, and the
# attacks that are judged on what they send back (not on a time limit)
ATTACKS = ("lying_objects", "lying_tensor", "patch_comparisons", "peek_at_later_calls",
           "read_secrets", "swap_class", "torch_function_mode")
COMPARED = sorted([
    REFERENCE, ROOT / "assignment" / "regression.py",
    *(ROOT / "examples").glob("*.py"),
    *(ROOT / "tests" / "alternatives").glob("*.py"),
    *(ROOT / "tests" / "stateful").glob("*.py"),
    *(ROOT / "tests" / "attacks" / f"{name}.py" for name in ATTACKS),
])


@pytest.fixture(scope="module")
def graders():
    """A Grader reading the saved answers (saving them first if stale) and one computing
    every answer live, with torch, as the judge did before answers were saved."""
    with Grader() as saved, Grader(live_answers=True) as live:
        yield saved, live


def _steady(text: str) -> str:
    """A message without the CPU time a stopped worker had used (it changes from run to
    run, "it used 0.7 s of CPU"): the rest must be the same."""
    return re.sub(r"\d+(\.\d+)? s of CPU", "_ s of CPU", text)


def _view(result) -> list:
    """The notes, and every field of every test's result."""
    return [[_steady(note) for note in result.notes],
            *[{name: _steady(value) if isinstance(value, str) else value
               for name, value in dataclasses.asdict(test).items()} for test in result.tests]]


@pytest.mark.parametrize("path", COMPARED, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_saved_answers_grade_as_answers_computed_live(graders, path):
    saved, live = graders
    assert path.is_file()
    assert _view(saved.grade(path)) == _view(live.grade(path))
    assert saved.hidden.answers.computed == []  # every answer it asked was saved


def test_the_comparison_compares_the_two_ways(graders):
    """The live Grader computed its answers, and the other read every one of them."""
    saved, live = graders
    saved.grade(REFERENCE)
    live.grade(REFERENCE)
    assert saved.hidden.answers.computed == []
    assert live.hidden.answers.computed
    assert set(live.hidden.answers.computed) == set(saved.hidden.answers.known)


GRADE_AND_LIST_MODULES = """
    import json, sys
    from pathlib import Path
    from autograder.grade import Grader
    with Grader() as grader:
        scores = [grader.grade(Path(p)).score for p in sys.argv[1:]]
        computed = len(grader.hidden.answers.computed)
    print(json.dumps({"scores": scores, "computed": computed,
                      "torch": sorted(m for m in sys.modules if m.split(".")[0] == "torch")}))
    """


def test_a_grading_with_saved_answers_imports_no_torch_in_the_judge(graders):
    """A fresh process, as Gradescope runs one: it grades (the workers import torch, in the
    zygote: the reference earns full marks) and ends without torch in its own modules."""
    saved, _ = graders
    assert settled(saved.homework.folder, saved.homework.secrets)
    submissions = [REFERENCE, ROOT / "examples" / "grads_not_zeroed.py",
                   ROOT / "assignment" / "regression.py"]
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(GRADE_AND_LIST_MODULES), *map(str, submissions)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=True)
    report = json.loads(done.stdout.splitlines()[-1])
    assert report["torch"] == [], report
    assert report["computed"] == 0
    assert report["scores"][0] == 10 and 0 < report["scores"][1] < 10 and report["scores"][2] == 0


def test_stale_or_missing_answers_are_computed_again_and_saved(tmp_path):
    """On a copy of the hidden tests: no answers (a plan alone is not enough), and answers
    of other hidden tests, are computed again by the next Grader and saved with the plan;
    the Grader after it reads them all."""
    tests = tmp_path / "tests"
    shutil.copytree(HIDDEN, tests, ignore=shutil.ignore_patterns("__pycache__", ANSWERS_FILE))
    (tests / "homework.toml").write_text((HIDDEN / "homework.toml").read_text().replace(
        '"../../', f'"{ROOT}/'))  # the copy's paths to the checkout's reference, examples
    homework = Homework.load(tests)
    key = plan_key(homework.secrets)
    (tests / PLAN_FILE).write_text(json.dumps(
        {**json.loads((HIDDEN / PLAN_FILE).read_text()), "key": key}))
    assert stored_answers(tests, homework.secrets) is None and not settled(tests,
                                                                           homework.secrets)
    with Grader(homework) as grader:
        assert grader.hidden.answers.computed
    assert settled(tests, homework.secrets)
    with Grader(homework) as grader:
        result = grader.grade(REFERENCE)
        assert result.score == result.max_score and grader.hidden.answers.computed == []
    # the hidden tests change: the saved answers are stale
    (tests / "test_0_new.py").write_text("import pytest\n\n\n@pytest.mark.points(0)\n"
                                         "def test_new(submission):\n    pass\n")
    assert stored_answers(tests, homework.secrets) is None
    with Grader(homework) as grader:
        assert grader.hidden.answers.computed
    assert settled(tests, homework.secrets)


def test_the_zip_ships_the_answers():
    from release import gradescope

    gradescope.refresh_plan()
    names = [name for name, _ in gradescope.contents()]
    assert f"autograder/tests/{ANSWERS_FILE}" in names and f"autograder/tests/{PLAN_FILE}" in names


def test_the_feedbacks_dtype_names_are_torchs():
    """feedback.py names torch's dtypes without importing torch: the same set."""
    assert TORCH_DTYPES == {str(v) for v in vars(torch).values() if isinstance(v, torch.dtype)}


def test_float32_rounds_as_a_float32_tensor_does():
    values = [0.1, -0.1, 30.00004, 1.961, 1e-4, 123456789.123, 2.0**-149, 2.0**-150,
              3.4028235e38, 3.5e38, -1e39, math.inf, -0.0, *hidden.all_hidden_numbers()]
    for value in values:
        assert hidden.float32(value) == torch.tensor(value, dtype=torch.float32).item(), value
    assert math.isnan(hidden.float32(math.nan))


def test_the_command_gradescope_runs_imports_no_torch_in_the_judge(graders, tmp_path):
    """`python -m autograder.grade FILE --results PATH`, as run_autograder starts it, under
    -X importtime: every module the judge process imports is listed, and none is torch's."""
    saved, _ = graders
    assert settled(saved.homework.folder, saved.homework.secrets)
    results = tmp_path / "results.json"
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "autograder.grade", str(REFERENCE),
         "--results", str(results)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=True)
    imported = [line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()
                if line.startswith("import time:")]
    assert "autograder.judge" in imported and "pytest" in imported  # the list is complete
    assert [name for name in imported if name.split(".")[0] == "torch"] == []
    assert json.loads(results.read_text())["score"] == 10
