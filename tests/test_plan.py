"""A Grader that has learnt the hidden tests' scenario calls runs them all in one worker
(Submission.prefetch), not one worker per call. That must change nothing but the speed:
the same scores and feedback, also when one call of the group hangs or ends its worker
(the calls after it then run when asked, first in a fresh worker, as without a plan), and
when the calls together would meet a limit that each call alone stays under."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import torch

from autograder.grade import Grader
from autograder.judge import Plan
from autograder.limits import Limits
from autograder.sandbox.guard import Guard

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "solutions" / "regression.py"
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
        planned.grade(REFERENCE)  # learns the calls the hidden tests make
        assert planned._plan.calls, "grading learnt no plan"
        yield planned, unplanned


def _view(result) -> list[tuple[str, float, str]]:
    return [(t.test_id, t.score, t.feedback) for t in result.tests]


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
    unplanned._plan = Plan()  # one worker per call, as for the first submission of a grader
    alone = unplanned.grade(submissions[name])
    grouped = planned.grade(submissions[name])
    assert _view(grouped) == _view(alone)
    assert 0 < grouped.score < grouped.max_score


@pytest.mark.parametrize("name", sorted(NO_IMPORT))
def test_a_plan_reports_an_import_failure_as_the_import_check_does(graders, submissions,
                                                                    name):
    planned, unplanned = graders
    unplanned._plan = Plan()
    alone = unplanned.grade(submissions[name])
    grouped = planned.grade(submissions[name])
    assert grouped.score == alone.score == 0
    assert grouped.notes == alone.notes and grouped.notes
    assert _view(grouped) == _view(alone)


def test_a_planned_grading_starts_few_workers(graders):
    planned, unplanned = graders
    unplanned._plan = Plan()
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
    unplanned._plan = Plan()
    runs = _count_workers(planned)
    alone = unplanned.grade(submissions["slow"])
    grouped = planned.grade(submissions["slow"])
    assert alone.score == alone.max_score, _view(alone)
    assert _view(grouped) == _view(alone)
    assert len(runs) > 1, runs  # the group timed out part way, and the rest ran after


def test_the_guard_puts_back_torch_modes_a_call_may_change():
    """Calls share a worker: what one call switches in torch must not reach the next."""
    guard = Guard({})
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
    plan = Plan()
    plan.learn(("predict", "lecture"), visible=True)
    plan.learn(("predict", "hidden"), visible=False)
    plan.learn(("loss", "lecture"), visible=True)
    plan.learn(("loss", "hidden"), visible=False)
    plan.learn(("loss", "lecture"), visible=False)  # a hidden test makes it too: it stays
    plan.learn(("predict", "hidden"), visible=True)  # a visible test makes it too: it moves
    assert plan.calls == [("predict", "lecture"), ("loss", "lecture"), ("predict", "hidden"),
                          ("loss", "hidden")]
    assert plan.visible == 3
