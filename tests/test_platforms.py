"""One grading, two platforms: PrairieLearn's external-grader results.json beside
Gradescope's, from the same result (autograder/platforms/).

Submissions are graded as each platform would: `python -m autograder.grade SUBMISSION
--format F --results R` in a real subprocess, with the real sandbox. PrairieLearn's file is
checked against a JSON Schema of its documented format (prairielearn_results.schema.json);
its score is Gradescope's as a fraction; the tests shown now keep their points and
messages; the hidden ones are folded into one entry, so nothing of a hidden test (its
name, its message, what the submission printed) shows that Gradescope keeps back.
"""

from __future__ import annotations

import functools
import json
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from schema import validate_results

from autograder.platforms.prairielearn import (
    HIDDEN_NAME,
    RESULTS_JSON_BYTES,
    prairielearn_json,
)
from autograder.results import GradingResult, bounded
from autograder.results import TestResult as OneTest

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = Path(__file__).with_name("prairielearn_results.schema.json")
PRINTS = "PRINTED-BY-THE-SUBMISSION"


@functools.cache
def _validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def validate_prairielearn(data: dict) -> dict:
    errors = sorted(_validator().iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        raise errors[0]
    return data


def grade(submission: Path, folder: Path, platform: str) -> tuple[dict, str]:
    """(results.json parsed, stdout) of one grading for `platform`."""
    results = folder / f"{submission.stem}.{platform}.json"
    done = subprocess.run([sys.executable, "-m", "autograder.grade", str(submission),
                           "--format", platform, "--results", str(results)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    text = results.read_text()
    assert text.isascii() and len(text) <= RESULTS_JSON_BYTES
    return json.loads(text), done.stdout


def _printing_submission(folder: Path) -> Path:
    """The reference, printing every input forward() gets: the hidden tests' inputs land
    in what the submission printed, which only staff may read."""
    source = (ROOT / "solutions" / "regression.py").read_text()
    source += ("\n\n_forward = forward\n\n\ndef forward(*args, **kwargs):\n"
               f"    print({PRINTS!r}, args)\n    return _forward(*args, **kwargs)\n")
    path = folder / "prints" / "regression.py"
    path.parent.mkdir()
    path.write_text(source)
    return path


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> dict[str, dict]:
    """name -> {"pl": (json, stdout), "gs": (json, stdout)} for the reference, two
    mistakes, a submission that prints, and an upload with nothing to grade."""
    tmp = tmp_path_factory.mktemp("platforms")
    (tmp / "empty").mkdir()
    submissions = {"reference": ROOT / "solutions" / "regression.py",
                   "forgot_bias": ROOT / "examples" / "forgot_bias.py",
                   "ignores_lr": ROOT / "examples" / "ignores_lr.py",
                   "prints": _printing_submission(tmp), "empty": tmp / "empty"}
    return {name: {"pl": grade(path, tmp, "prairielearn"), "gs": grade(path, tmp, "gradescope")}
            for name, path in submissions.items()}


GRADABLE = ["reference", "forgot_bias", "ignores_lr", "prints"]


def test_every_output_is_valid_for_its_platform(graded):
    for runs in graded.values():
        validate_prairielearn(runs["pl"][0])
        validate_results(runs["gs"][0])


@pytest.mark.parametrize("name", GRADABLE)
def test_the_score_is_gradescopes_as_a_fraction(graded, name):
    pl, gs = graded[name]["pl"][0], graded[name]["gs"][0]
    most = sum(t["max_score"] for t in gs["tests"])
    assert pl["gradable"] is True
    assert pl["score"] == pytest.approx(gs["score"] / most)
    assert sum(t["points"] for t in pl["tests"]) == pytest.approx(gs["score"])
    assert sum(t["max_points"] for t in pl["tests"]) == pytest.approx(most)


def test_the_reference_earns_everything_and_mistakes_lose_points(graded):
    assert graded["reference"]["pl"][0]["score"] == 1.0
    for name in ("forgot_bias", "ignores_lr"):
        assert 0 < graded[name]["pl"][0]["score"] < 1


def plain(markdown: str) -> str:
    """Gradescope's Markdown output as the plain text it was made from."""
    return re.sub(r"\\(.)", r"\1", markdown.replace("&nbsp;", " ")).replace("  \n", "\n")


@pytest.mark.parametrize("name", GRADABLE)
def test_the_tests_shown_now_keep_their_points_and_messages(graded, name):
    pl, gs = graded[name]["pl"][0], graded[name]["gs"][0]
    shown = [t for t in gs["tests"] if t["visibility"] == "visible"]
    assert [(t["name"], t["points"], t["max_points"]) for t in pl["tests"][:-1]] == \
        [(t["name"], t["score"], t["max_score"]) for t in shown]
    for ours, theirs in zip(pl["tests"], shown, strict=False):
        assert plain(theirs["output"]) == ours["message"]
    failed = [t for t in pl["tests"][:-1] if t["points"] < t["max_points"]]
    assert all(t["message"] != "Passed." for t in failed)


@pytest.mark.parametrize("name", GRADABLE)
def test_hidden_tests_are_one_entry_that_says_only_their_points(graded, name):
    pl, gs = graded[name]["pl"][0], graded[name]["gs"][0]
    hidden = [t for t in gs["tests"] if t["visibility"] != "visible"]
    assert hidden, "the homework has hidden tests"
    folded = pl["tests"][-1]
    assert folded["name"] == HIDDEN_NAME
    assert folded["points"] == pytest.approx(sum(t["score"] for t in hidden))
    assert folded["max_points"] == pytest.approx(sum(t["max_score"] for t in hidden))
    shown_everywhere = json.dumps(pl) + graded[name]["pl"][1]
    for test in hidden:
        assert test["name"] not in shown_everywhere
    # the rest is what Gradescope shows before publication: its notes, the tests shown now
    assert set(pl) == {"gradable", "score", "message", "tests"}
    assert pl["message"] == plain(gs["output"].split("**Shown now:**")[0].rstrip("\n"))
    assert all(set(t) == {"name", "points", "max_points", "message"} for t in pl["tests"][:-1])


def test_hidden_messages_are_the_same_whether_hidden_tests_pass_or_fail(graded):
    """The folded entry's words never say which hidden test failed."""
    texts = {(t["description"], t["message"])
             for name in GRADABLE for t in graded[name]["pl"][0]["tests"][-1:]}
    assert len(texts) == 1
    assert graded["forgot_bias"]["pl"][0]["tests"][-1]["points"] < \
        graded["reference"]["pl"][0]["tests"][-1]["points"]


def test_what_the_submission_printed_reaches_neither_file_nor_prairielearns_stdout(graded):
    pl, stdout = graded["prints"]["pl"]
    assert PRINTS not in json.dumps(pl) + stdout
    assert "output" not in pl and all("output" not in t for t in pl["tests"])
    assert PRINTS not in json.dumps(graded["prints"]["gs"][0])
    # Gradescope's stdout is for staff (stdout_visibility "hidden"): it shows them the print
    assert PRINTS in graded["prints"]["gs"][1]


def test_prairielearns_stdout_shows_only_the_tests_shown_now(graded):
    gs = graded["forgot_bias"]["gs"][0]
    stdout = graded["forgot_bias"]["pl"][1]
    assert "(hidden)" not in stdout and "Sandbox:" not in stdout
    for test in gs["tests"]:
        assert (test["name"] in stdout) == (test["visibility"] == "visible")


def test_an_upload_with_nothing_to_grade_is_not_gradable_and_costs_no_attempt(graded):
    pl, gs = graded["empty"]["pl"][0], graded["empty"]["gs"][0]
    assert pl["gradable"] is False and "score" not in pl
    assert pl["format_errors"] and "regression.py" in pl["format_errors"][0]
    assert gs["score"] == 0  # Gradescope has no such state: a 0 with the same message
    assert pl["format_errors"][0].replace("\\", "") in gs["output"].replace("\\", "")


def test_the_file_stays_under_prairielearns_cap_with_huge_messages():
    tests = [OneTest(name=f"test {i}", test_id=f"t.py::test_{i}", score=0.0, max_score=1.0,
                     feedback="x" * 5_000, shown_now=True) for i in range(800)]
    result = bounded(GradingResult(tests, 1.0, "huge", notes=["y" * 5_000] * 30))
    text = prairielearn_json(result)
    assert len(text) <= RESULTS_JSON_BYTES
    data = validate_prairielearn(json.loads(text))
    assert data["score"] == 0 and len(data["tests"]) == 800


def test_the_schema_refuses_what_prairielearn_would_not_read():
    for bad in ({"score": 1.5}, {"gradable": True}, {"score": 0.5, "tests": [{"name": "t"}]},
                {"score": 0.5, "visibility": "visible"}):
        with pytest.raises(jsonschema.ValidationError):
            validate_prairielearn(bad)
    validate_prairielearn({"gradable": False, "format_errors": "no file"})


def test_make_grade_writes_prairielearns_format(tmp_path):
    results = tmp_path / "results.json"
    done = subprocess.run(["make", "--no-print-directory", "grade",
                           f"SUBMISSION={ROOT / 'examples' / 'forgot_bias.py'}",
                           f"RESULTS={results}", "FORMAT=prairielearn", f"PY={sys.executable}"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    data = validate_prairielearn(json.loads(results.read_text()))
    assert 0 < data["score"] < 1


def test_a_batch_record_saved_before_the_result_model_changed_is_graded_again(tmp_path):
    """grade-all resumes from saved records: one in an older shape (Gradescope's
    `visibility` in the core result) is not revived into a crash but graded again."""
    from autograder import batch

    test = {"name": "t", "test_id": "t.py::t", "score": 1.0, "max_score": 1.0,
            "feedback": "", "detail": ""}
    result = {"tests": [test], "seconds": 1.0, "submission": "s", "notes": [], "output": "",
              "isolation": "", "ungradable": ""}
    path = tmp_path / "record.json"
    for shape, kept in (({"shown_now": True}, True), ({"visibility": "visible"}, False)):
        path.write_text(json.dumps({"result": {**result, "tests": [{**test, **shape}]}}))
        assert (batch._load(path) is not None) == kept
