"""The public tests, run as a student runs them, in a copy of assignment/.

Both runners are exercised with real subprocesses: ``python -m pytest`` (through
assignment/conftest.py) and ``otter check regression.py`` (otter's own runner).
The skeleton must fail every question with "not implemented yet", and the
solution and other correct solutions (tests/alternatives/) must pass. Common
mistakes are run in-process through otter's test-file loader, which is fast and
is the same loader both runners use.
"""

import ast
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = ROOT / "assignment"
SOLUTION = ROOT / "solutions" / "regression.py"
ALTERNATIVES = sorted((ROOT / "tests" / "alternatives").glob("*.py"))
TEST_FILES = sorted((ASSIGNMENT / "tests").glob("*.py"))
QUESTIONS = [p.stem for p in TEST_FILES]
CASES = {p.stem: p.read_text().count("@test_case(") for p in TEST_FILES}
OTTER = Path(sys.executable).with_name("otter")
ENV = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}


def release_copy(tmp_path: Path, submission: Path | None = None) -> Path:
    """A copy of assignment/, as a student unzips it, optionally with another regression.py.

    The copy sits under a folder whose pyproject.toml would break pytest, so the
    runs also show that assignment/pytest.ini keeps outside configuration away.
    """
    (tmp_path / "pyproject.toml").write_text(
        '[tool.pytest.ini_options]\naddopts = "--option-from-outside-assignment"\n'
    )
    copy = tmp_path / "assignment"
    shutil.copytree(
        ASSIGNMENT, copy, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache", ".OTTER_*")
    )
    if submission is not None:
        shutil.copyfile(submission, copy / "regression.py")
    return copy


def run_pytest(copy: Path) -> dict[str, tuple[str, str]]:
    """Run ``python -m pytest`` in the copy; return {question::test: (outcome, message)}."""
    report = copy.parent / "report.xml"
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", f"--junitxml={report}"],
        cwd=copy,
        capture_output=True,
        text=True,
        timeout=300,
        env=ENV,
    )
    assert run.returncode in (0, 1), f"pytest did not run the tests:\n{run.stdout}\n{run.stderr}"
    assert "Traceback" not in run.stdout, run.stdout
    outcomes = {}
    for case in ET.parse(report).iter("testcase"):
        failure = case.find("failure")
        if failure is None:
            failure = case.find("error")
        key = f"{case.get('classname').split('.')[-1]}::{case.get('name')}"  # q1::test_...
        outcomes[key] = ("passed", "") if failure is None else ("failed", failure.get("message"))
    return outcomes


def run_otter(copy: Path) -> str:
    """Run ``otter check regression.py`` in the copy (otter finds ./tests from the cwd)."""
    run = subprocess.run(
        [str(OTTER), "check", "regression.py"],
        cwd=copy,
        capture_output=True,
        text=True,
        timeout=300,
        env=ENV,
    )
    assert run.returncode == 0, f"otter check crashed:\n{run.stdout}\n{run.stderr}"
    return run.stdout


def otter_cases(stdout: str) -> dict[str, list[str]]:
    """Split otter check's report into {question: [one text block per test case]}."""
    sections = re.split(r"^(q\d+) results:$", stdout, flags=re.MULTILINE)
    return {
        question: re.split(r"^\s+q\d+ - \d+ result:$", body, flags=re.MULTILINE)[1:]
        for question, body in zip(sections[1::2], sections[2::2], strict=True)
    }


def test_skeleton_fails_every_question_with_not_implemented_under_pytest(tmp_path):
    outcomes = run_pytest(release_copy(tmp_path))
    assert len(outcomes) == sum(CASES.values()) >= len(QUESTIONS) == 6
    for test, (outcome, message) in outcomes.items():
        question = test.split("::")[0]
        assert outcome == "failed", test
        assert re.fullmatch(
            rf"{question}: (forward|mse|update)\(\) is not implemented yet", message
        )


def test_skeleton_fails_every_question_with_not_implemented_under_otter(tmp_path):
    cases = otter_cases(run_otter(release_copy(tmp_path)))
    assert sorted(cases) == QUESTIONS
    for question, blocks in cases.items():
        assert len(blocks) == CASES[question], blocks
        for block in blocks:
            assert "❌ Test case failed" in block, block
            assert re.search(
                r"NotImplementedError: (forward|mse|update)\(\) is not implemented yet", block
            ), block


def test_solution_passes_every_question_under_pytest(tmp_path):
    outcomes = run_pytest(release_copy(tmp_path, SOLUTION))
    assert len(outcomes) == sum(CASES.values())
    assert all(outcome == "passed" for outcome, _ in outcomes.values()), outcomes


def test_solution_passes_every_question_under_otter(tmp_path):
    stdout = run_otter(release_copy(tmp_path, SOLUTION))
    assert "All tests passed!" in stdout, stdout


@pytest.mark.parametrize("alternative", ALTERNATIVES, ids=lambda p: p.stem)
def test_other_correct_solutions_pass_under_pytest(alternative, tmp_path):
    outcomes = run_pytest(release_copy(tmp_path, alternative))
    assert len(outcomes) == sum(CASES.values())
    failed = {test: message for test, (outcome, message) in outcomes.items() if outcome != "passed"}
    assert not failed, failed


def test_correct_solution_with_its_own_main_block_passes_under_otter(tmp_path):
    """otter runs the file as __main__, so a student's experiments there run too."""
    alternative = ROOT / "tests" / "alternatives" / "students_own_main.py"
    stdout = run_otter(release_copy(tmp_path, alternative))
    assert "All tests passed!" in stdout, stdout


def test_there_are_alternatives_to_check():
    assert len(ALTERNATIVES) >= 3


# Common mistakes, each an edit of the solution: the questions it must fail, and the cause
# the failure must name (in the words of the autograder's feedback, so both agree).
MISTAKES = {
    "forward forgets the bias": (
        "return w * x + b", "return w * x", {"q1", "q2", "q4", "q6"}, "the bias is missing"),
    "forward swaps w and b": (
        "return w * x + b", "return b * x + w", {"q1", "q2", "q4", "q6"},
        "w and b are swapped"),
    "forward detaches the graph": (
        "return w * x + b", "return (w * x + b).detach()", {"q1", "q2", "q4", "q6"},
        "without an autograd graph"),
    "mse sums instead of averaging": (
        "return torch.mean(diff**2)", "return torch.sum(diff**2)", {"q3", "q4", "q6"},
        "the sum of the squared differences, not their mean"),
    "mse is the root of the mean": (
        "return torch.mean(diff**2)", "return torch.mean(diff**2).sqrt()", {"q3", "q4", "q6"},
        "the square root of the MSE"),
    "mse returns a float": (
        "return torch.mean(diff**2)", "return torch.mean(diff**2).item()", {"q3", "q4", "q6"},
        "not a tensor"),
    "update forgets to zero the gradients": (
        "    w.grad.zero_()\n    b.grad.zero_()\n", "", {"q5"},
        "zero them after the step"),
    "update ignores lr": (
        "w -= w.grad * lr\n        b -= b.grad * lr",
        "w -= w.grad * 1e-4\n        b -= b.grad * 1e-4", {"q5"},
        "ignore its lr argument"),
    "update goes uphill": (
        "w -= w.grad * lr\n        b -= b.grad * lr",
        "w += w.grad * lr\n        b += b.grad * lr", {"q5", "q6"},
        "moved uphill"),
    # b's step is 4e-5, below what q6's tolerance on the predictions can see: q5 catches it.
    "update only moves w": ("        b -= b.grad * lr\n", "", {"q5"}, "did not change b"),
    # w = w - ... then w.grad.zero_(): the new w has no .grad, so update() raises
    "update rebinds local names": (
        "w -= w.grad * lr\n        b -= b.grad * lr",
        "w = w - w.grad * lr\n        b = b - b.grad * lr", {"q5", "q6"},
        "holds a new tensor without a .grad"),
    "update rebinds local names and zeroes nothing": (
        "w -= w.grad * lr\n        b -= b.grad * lr\n    w.grad.zero_()\n    b.grad.zero_()",
        "w = w - w.grad * lr\n        b = b - b.grad * lr", {"q5", "q6"},
        "rebinds a local name"),
    "update returns new tensors": (
        "    w.grad.zero_()\n    b.grad.zero_()\n",
        "    return w - w.grad * lr, b - b.grad * lr\n", {"q5", "q6"},
        "returned new tensors instead of changing w and b in place"),
}


def mistake_file(mistake: str, folder: Path) -> Path:
    """The solution with one mistake made, as regression.py in ``folder``."""
    original, replacement, _, _ = MISTAKES[mistake]
    source = SOLUTION.read_text()
    assert original in source, f"the mistake no longer applies to the solution: {original!r}"
    if mistake == "update returns new tensors":  # the step must not change w and b either
        source = source.replace("w -= w.grad * lr\n        b -= b.grad * lr", "pass")
    submission = folder / "regression.py"
    submission.write_text(source.replace(original, replacement, 1))
    return submission


@pytest.fixture(scope="module")
def otter_test_files():
    with warnings.catch_warnings():  # otter's imports warn about traitlets; not ours to fix
        warnings.simplefilter("ignore", DeprecationWarning)
        from otter.nbmeta_config import NBMetadataConfig
        from otter.test_files import create_test_file

    return {path.stem: create_test_file(str(path), NBMetadataConfig()) for path in TEST_FILES}


def public_failures(submission: Path, otter_test_files) -> dict[str, str]:
    """{question: the messages of its failed test cases}, run through otter's loader."""
    spec = importlib.util.spec_from_file_location(f"mistake_{submission.parent.name}", submission)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    failed = {}
    for question, test_file in otter_test_files.items():
        test_file.run(vars(module))
        results = test_file.test_case_results
        assert len(results) == CASES[question]
        messages = [result.message for result in results if not result.passed]
        if messages:
            failed[question] = "\n".join(messages)
    return failed


@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_common_mistakes_fail_exactly_their_questions_naming_the_cause(
        mistake, otter_test_files, tmp_path):
    _, _, must_fail, cause = MISTAKES[mistake]
    failed = public_failures(mistake_file(mistake, tmp_path), otter_test_files)
    assert set(failed) == must_fail
    assert all("NotImplementedError" not in text for text in failed.values())
    assert any(cause in text for text in failed.values()), failed


def test_otter_check_ends_with_status_0_even_when_tests_fail_and_pytest_does_not(tmp_path):
    """What the README says: use `python -m pytest` for an exit status; otter's is always 0."""
    copy = release_copy(tmp_path)
    stdout = run_otter(copy)  # asserts status 0
    assert "All tests passed!" not in stdout
    run = subprocess.run([sys.executable, "-m", "pytest", "-q"], cwd=copy, capture_output=True,
                         text=True, timeout=300, env=ENV)
    assert run.returncode == 1, run.stdout


def test_public_tests_name_update_mistakes_in_the_autograders_words():
    """One wording per cause: q5's messages are the autograder feedback's, word for word."""
    from autograder.tests import feedback

    tree = ast.parse((ASSIGNMENT / "tests" / "q5.py").read_text())
    public = {node.targets[0].id: ast.literal_eval(node.value) for node in tree.body
              if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant | ast.Tuple)
              and isinstance(node.targets[0], ast.Name) and node.targets[0].id.isupper()}
    assert public.pop("NONE_GRAD") in " ".join(hint for _, hint in feedback._HINTS)
    assert public == {
        "OK_FORMAT": False, "REBINDS": feedback.REBINDS, "RETURNS_NEW": feedback.RETURNS_NEW,
        "NOT_ZEROED": feedback.NOT_ZEROED, "UPHILL": feedback.MISTAKES["uphill"],
        "LR_IGNORED": feedback.MISTAKES["lr_ignored"]}


@pytest.fixture(scope="module")
def grader():
    from autograder.grade import Grader

    with Grader() as grader:
        yield grader


def test_every_public_question_is_named_by_a_visible_autograder_test(grader):
    result = grader.grade(SOLUTION)
    visible = [test.name for test in result.tests if test.shown_now]
    for question in QUESTIONS:
        assert any(re.search(rf"\b{question}\b", name) for name in visible), (question, visible)


@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_visible_autograder_tests_fail_the_same_mistakes_naming_the_same_cause(
        mistake, grader, tmp_path):
    """Parity: a mistake the public tests catch, a visible Gradescope test catches too, with
    the same cause named, so local and Gradescope never disagree before publication."""
    _, _, _, cause = MISTAKES[mistake]
    result = grader.grade(mistake_file(mistake, tmp_path))
    failed = {test.name: test.feedback for test in result.tests
              if test.shown_now and test.score < test.max_score}
    assert failed, f"every visible autograder test passes with: {mistake}"
    assert any(cause in feedback for feedback in failed.values()), failed
