"""A Grader runs the hidden tests' scenario calls (its fixed plan, learnt once from the
hidden tests) in one worker (Submission.prefetch), not one worker per call. For a
submission without state from call to call, that must change nothing but the speed:
the same scores and feedback, also when one call of the group hangs or ends its worker
(the calls after it then run when asked, first in a fresh worker, as without a plan), and
when the calls together would meet a limit that each call alone stays under."""

from __future__ import annotations

import re
import shutil
import textwrap
from pathlib import Path

import pytest
import torch

from autograder.grade import Grader, Homework
from autograder.judge import ANSWERS_FILE, PLAN_FILE, Plan, PlanRecorder, plan_key, stored_plan
from autograder.limits import Limits
from autograder.sandbox.child import load_scenarios
from autograder.sandbox.client import IMPORT_ONLY

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "solutions" / "regression.py"
HIDDEN = ROOT / "autograder" / "tests"
BASE = REFERENCE.read_text().split('if __name__ == "__main__":')[0]

# Each replaces forward() with one that fails only on some inputs, in a way that ends or
# stalls the worker: in a group, the calls before it are kept and the ones after it rerun.
VARIANTS = {
    "hangs_on_2d_input": """
        def forward(x, w, b):
            while x.dim() == 2:
                pass
            return w * x + b
        """,
    "exits_on_1d_input": """
        import os

        def forward(x, w, b):
            if x.dim() == 1:
                os._exit(0)
            return w * x + b
        """,
    "raises_on_0d_input": """
        def forward(x, w, b):
            if x.dim() == 0:
                raise ValueError("no scalars")
            return w * x + b
        """,
}
# ...and ones that never import: the first group must say so, as the import check would
NO_IMPORT = {
    "loops_at_import": "\nwhile True:\n    pass\n",
    "exits_at_import": "\nimport sys\nsys.exit(3)\n",
    "syntax_error": "\ndef forward(x, w, b:\n    return x\n",
}
# right, but each call of forward() takes 0.4 s: alone, a call stays well under the 2 s
# limit below; the planned calls together (forward() runs in seven) would not
SLOW = """
    import time

    def forward(x, w, b):
        time.sleep(0.4)
        return w * x + b
    """
# the hang costs its limit: keep it short (and the CPU limit out of the wall limit's way)
LIMITS = Limits(wall_seconds=2, cpu_seconds=10)


@pytest.fixture(scope="module")
def submissions(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("plan")
    paths = {}
    for name, body in {**VARIANTS, **NO_IMPORT, "slow": SLOW}.items():
        paths[name] = folder / f"{name}.py"
        paths[name].write_text(BASE + textwrap.dedent(body))
    return paths


@pytest.fixture(scope="module")
def graders():
    with Grader(limits=LIMITS) as planned, Grader(limits=LIMITS) as unplanned:
        assert planned._plan.calls, "the Grader has no plan"
        unplanned._plan = Plan()  # one worker per call, as a grading without a plan
        yield planned, unplanned


def _view(result) -> list[tuple[str, float, str]]:
    return [(t.test_id, t.score, _steady(t.feedback)) for t in result.tests]


def _steady(text: str) -> str:
    """A message without the CPU time a stopped worker had used, which a busy machine
    changes from run to run ("it used 0.7 s of CPU"): the rest must be the same."""
    return re.sub(r"\d+(\.\d+)? s of CPU", "_ s of CPU", text)


def _count_workers(grader: Grader) -> list[str]:
    """Which worker runs a grading starts: wraps the sandbox's two entry points."""
    started: list[str] = []
    sandbox = grader.sandbox
    run, run_many = sandbox.run, sandbox.run_many

    def one(*args, **kwargs):
        started.append(args[2])
        return run(*args, **kwargs)

    def many(submission, module, calls):
        started.append(f"{calls[0][0]} x{len(calls)}")
        return run_many(submission, module, calls)

    sandbox.run, sandbox.run_many = one, many
    return started


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_a_plan_changes_nothing_but_speed(graders, submissions, name):
    planned, unplanned = graders
    alone = unplanned.grade(submissions[name])
    grouped = planned.grade(submissions[name])
    assert _view(grouped) == _view(alone)
    assert 0 < grouped.score < grouped.max_score


@pytest.mark.parametrize("name", sorted(NO_IMPORT))
def test_a_plan_reports_an_import_failure_as_the_import_check_does(graders, submissions,
                                                                    name):
    planned, unplanned = graders
    alone = unplanned.grade(submissions[name])
    grouped = planned.grade(submissions[name])
    assert grouped.score == alone.score == 0
    assert [_steady(n) for n in grouped.notes] == [_steady(n) for n in alone.notes]
    assert grouped.notes
    assert _view(grouped) == _view(alone)


def test_a_planned_grading_starts_few_workers(graders):
    planned, unplanned = graders
    alone_runs, planned_runs = _count_workers(unplanned), _count_workers(planned)
    alone, grouped = unplanned.grade(REFERENCE), planned.grade(REFERENCE)
    assert grouped.score == alone.score == grouped.max_score
    # one worker for every call (it also tells that the submission imports), against an
    # import check and then one worker per call
    calls = planned._plan.calls
    assert planned_runs == [f"{calls[0][0]} x{len(calls)}"], planned_runs
    assert len(alone_runs) == 1 + len(calls), alone_runs


def test_calls_that_meet_a_limit_only_together_run_again_alone(graders, submissions):
    planned, unplanned = graders
    runs = _count_workers(planned)
    alone = unplanned.grade(submissions["slow"])
    grouped = planned.grade(submissions["slow"])
    assert alone.score == alone.max_score, _view(alone)
    assert _view(grouped) == _view(alone)
    assert len(runs) > 1, runs  # the group timed out part way, and the rest ran after


def test_the_guard_puts_back_torch_modes_a_call_may_change():
    """Calls share a worker: what one call switches in torch must not reach the next."""
    guard = load_scenarios(Homework.load().scenarios, [torch])[IMPORT_ONLY].guard
    try:
        torch.set_default_dtype(torch.float64)
        torch.set_grad_enabled(False)
        guard.restore()
        assert torch.get_default_dtype() is torch.float32
        assert torch.is_grad_enabled()
    finally:
        torch.set_default_dtype(torch.float32)
        torch.set_grad_enabled(True)


def test_a_plan_runs_every_visible_tests_call_before_any_hidden_ones():
    """In a shared worker, what hidden calls gave a submission must not reach a later
    visible call (tests/test_grading.py grades a submission that tries)."""
    recorder = PlanRecorder()
    recorder.learn(("predict", "lecture"), visible=True)
    recorder.learn(("predict", "hidden"), visible=False)
    recorder.learn(("loss", "lecture"), visible=True)
    recorder.learn(("loss", "hidden"), visible=False)
    recorder.learn(("loss", "lecture"), visible=False)  # a hidden test makes it too: it stays
    recorder.learn(("predict", "hidden"), visible=True)  # a visible test makes it too: moves
    plan = recorder.plan()
    assert plan.calls == (("predict", "lecture"), ("loss", "lecture"), ("predict", "hidden"),
                          ("loss", "hidden"))
    assert plan.visible == 3
    assert Plan.from_json(plan.to_json()) == plan


def test_the_plan_holds_every_call_the_hidden_tests_make_on_the_reference(graders):
    """Saved with the hidden tests, learnt from them as they are: every call a grading of
    the reference makes (one worker per call) is in it, and nothing else."""
    planned, unplanned = graders
    homework = planned.homework
    assert stored_plan(homework.folder, homework.secrets) == planned._plan
    runs = _count_workers(unplanned)
    unplanned.grade(REFERENCE)
    made = [name for name in runs if name != "__import__"]
    assert sorted(made) == sorted(name for name, _ in planned._plan.calls)
    assert 0 < planned._plan.visible < len(planned._plan.calls)


def test_a_stale_plan_is_learnt_again_and_saved(tmp_path):
    """Editing the hidden tests (a copy of them here) makes the saved plan stale: the next
    Grader learns it again, from the tests as they are now, and saves it."""
    tests = tmp_path / "tests"
    shutil.copytree(HIDDEN, tests, ignore=shutil.ignore_patterns("__pycache__", PLAN_FILE))
    (tests / "homework.toml").write_text((HIDDEN / "homework.toml").read_text().replace(
        '"../../', f'"{ROOT}/'))  # the copy's paths to the checkout's reference, examples
    homework = Homework.load(tests)
    assert stored_plan(tests, homework.secrets) is None
    with Grader(homework) as grader:
        first = grader._plan
    assert stored_plan(tests, homework.secrets) == first
    stale = plan_key(homework.secrets)
    # a new visible test making the last call (a hidden one): it moves to the visible part
    name, args = first.calls[-1]
    (tests / "test_0_new.py").write_text(textwrap.dedent(f"""
        import json
        import pytest

        @pytest.mark.points(0)
        @pytest.mark.visible
        def test_new(submission):
            submission.run({name!r}, **json.loads({args!r}))
        """))
    assert plan_key(homework.secrets) != stale and stored_plan(tests, homework.secrets) is None
    with Grader(homework) as grader:
        again = grader._plan
    assert again.visible == first.visible + 1 and again.calls[0] == (name, args)  # runs first
    assert sorted(again.calls) == sorted(first.calls)
    assert stored_plan(tests, homework.secrets) == again


@pytest.mark.parametrize("name", [PLAN_FILE, ANSWERS_FILE])
def test_a_worker_cannot_read_the_plan(graders, tmp_path, name):
    """The plan holds the hidden inputs, and the answers beside it the reference's answers
    on them: they are kept with the hidden tests, out of a worker's reach. This submission
    is right, unless it can read them."""
    planned, _ = graders
    plan = planned.homework.folder / name
    assert plan.is_file()
    spy = tmp_path / "spy.py"
    spy.write_text(BASE + textwrap.dedent(f"""
        try:
            with open({str(plan)!r}, "rb") as f:
                f.read(1)
        except OSError:
            pass
        else:
            raise SystemExit("read the plan")
        """))
    result = planned.grade(spy)
    assert result.score == result.max_score, _view(result)


def test_what_a_group_printed_is_labelled_with_the_whole_group(graders, tmp_path):
    """One worker's print-out covers every call of its group: the TA's log says so rather
    than putting it all on the first call. One worker per call labels each by its call."""
    path = tmp_path / "prints.py"
    path.write_text(BASE.replace("def mse(t1", 'print("imported")\n\n\ndef mse(t1', 1))
    planned, unplanned = graders
    grouped = planned.grade(path).output
    first = planned._plan.calls[0][0]
    assert f"[{first} and the {len(planned._plan.calls) - 1} calls after it] imported" \
        in grouped, grouped
    alone = unplanned.grade(path).output
    assert "calls after it" not in alone and f"[{first}] imported" in alone, alone
