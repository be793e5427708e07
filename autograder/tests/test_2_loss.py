"""mse(t1, t2): the mean squared error, a 0-dim tensor that gradients flow through."""

import pytest

from autograder.judge import fail
from autograder.tests import hidden
from autograder.tests.feedback import loss_problem, run
from autograder.tests.hidden import LECTURE


@pytest.mark.points(1)
@pytest.mark.visible
def test_lecture_loss(submission, reference):
    """4. mse(): the loss of the lecture's predictions (39.4); public test q3"""
    preds, targets = LECTURE["preds"], LECTURE["targets"]
    out = run(submission, "loss", "mse()", t1=preds, t2=targets)
    want = hidden.loss(reference, preds, targets)
    problem = loss_problem(out, want, visible=True, lecture=LECTURE["loss"])
    if problem:
        fail(problem)


@pytest.mark.points(1)
def test_loss_hidden(submission, reference, cases):
    """5. mse() on other data (1-d to 3-d, float64 kept): a 0-dim tensor, inputs left alone"""
    for case in cases.loss:
        out = run(submission, "loss", "mse()", **case)
        want = hidden.loss(reference, **case)
        problem = loss_problem(out, want, visible=False)
        if problem:
            fail(problem)
