"""update(w, b, lr): one gradient-descent step in place, then the gradients cleared."""

import pytest

from autograder.checks import close, fmt
from autograder.judge import fail
from autograder.tests import hidden
from autograder.tests.feedback import default_lr_problem, record_problem, run, update_problem
from autograder.tests.hidden import LECTURE


def _steps(submission, reference, case, steps=1, default_lr=False):
    """Run `steps` updates on a case (with `default_lr`, update(w, b) leaves lr to its
    default, which must be case["lr"]); return what came back, the reference's and the
    mistakes' paths on it, and w and b before the first step."""
    data = {key: case[key] for key in ("x", "y", "w", "b", "lr")}
    value = run(submission, "update_steps", "update()",
                **{**data, "lr": None if default_lr else data["lr"]}, steps=steps)
    paths = hidden.update_paths(reference, **data, steps=steps)
    return value, paths, (hidden.float32(case["w"]), hidden.float32(case["b"]))


@pytest.mark.points(1)
@pytest.mark.visible
def test_lecture_update(submission, reference):
    """8. update(w, b), default lr: w 1.961, b 30.00004, loss 25.81 after; public tests q5, q6"""
    case = {"x": LECTURE["inputs"], "y": LECTURE["targets"], "w": LECTURE["w"],
            "b": LECTURE["b"], "lr": LECTURE["lr"]}
    value, paths, start = _steps(submission, reference, case, default_lr=True)
    expected = (f"After loss.backward() and one update(w, b) (its default lr=1e-4) the lecture has "
                f"w = {fmt(LECTURE['w_after'], 7)}, b = {fmt(LECTURE['b_after'], 7)} and "
                f"loss {fmt(LECTURE['loss_after'])}")
    problem = update_problem(value, paths, start)
    if problem:
        problem = default_lr_problem(value, start) or problem
        got = ""
        if value["steps"]:
            record = value["steps"][0]
            got = (f"; got w = {fmt(record['w']['value'], 7)}, "
                   f"b = {fmt(record['b']['value'], 7)}")
        fail(f"{expected}{got}.\n{problem}")
    if not close(value["loss_after"], LECTURE["loss_after"]):
        fail(f"{expected}; got loss {fmt(value['loss_after'])}.")


# The lecture's data with learning rates other than the default: public, like every
# visible test's inputs (public test q5 tries lr=0.01 on them too).
LECTURE_STEP = {"x": LECTURE["inputs"], "y": LECTURE["targets"], "w": LECTURE["w"],
                "b": LECTURE["b"]}
LECTURE_RATES = (0.01, 0.001)


@pytest.mark.points(1)
@pytest.mark.visible
def test_update_in_place(submission, reference):
    """9. update() in place: same leaf tensors, requires_grad kept, grads zeroed; public test q5"""
    value, _, start = _steps(submission, reference, {**LECTURE_STEP, "lr": LECTURE_RATES[0]})
    problem = record_problem(value["steps"][0], start)
    if problem:
        fail(problem)


@pytest.mark.points(0.5)
@pytest.mark.visible
def test_update_learning_rates(submission, reference):
    """10. update() steps by the lr it is given (0.01 and 0.001, lecture's data); public test q5"""
    for lr in LECTURE_RATES:
        value, paths, start = _steps(submission, reference, {**LECTURE_STEP, "lr": lr})
        problem = update_problem(value, paths, start)
        if problem:
            fail(f"With lr={lr:g} on the lecture's data: {problem}")


@pytest.mark.points(0.5)
def test_update_several_steps(submission, reference, cases):
    """11. Several steps in a row follow gradient descent"""
    case = cases.trajectory
    value, paths, start = _steps(submission, reference, case, steps=case["steps"])
    problem = update_problem(value, paths, start)
    if problem:
        fail(problem)
