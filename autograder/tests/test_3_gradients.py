"""loss.backward(): the gradients that reach w and b through forward(), and through mse().
Each test computes the other function itself, so a mistake costs only its own function's
test."""

import pytest

from autograder.checks import shape_of
from autograder.judge import fail
from autograder.tests import hidden
from autograder.tests.feedback import forward_gradients_problem, loss_gradients_problem, run
from autograder.tests.hidden import LECTURE


@pytest.mark.points(1)
@pytest.mark.visible
def test_lecture_gradients(submission, reference):
    """6. forward(): the lecture's loss gives w, b (390, -0.4) and x gradients; public test q4"""
    data = {"x": LECTURE["inputs"], "y": LECTURE["targets"], "w": LECTURE["w"], "b": LECTURE["b"]}
    out = run(submission, "gradients", "forward()", **data)
    problem = forward_gradients_problem(out, hidden.gradients(reference, **data),
                                        x_shape=shape_of(data["x"]), visible=True)
    if problem:
        fail(problem)


@pytest.mark.points(1)
def test_gradients_hidden(submission, reference, cases):
    """7. mse(): gradients reach w and b through either argument, on other data"""
    out = run(submission, "loss_gradients", "mse()", **cases.gradients)
    problem = loss_gradients_problem(out, hidden.gradients(reference, **cases.gradients))
    if problem:
        fail(problem)
