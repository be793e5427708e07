"""loss.backward() through the student's own forward() and mse()."""

import pytest

from autograder.judge import fail
from autograder.tests import hidden
from autograder.tests.feedback import gradients_problem, run
from autograder.tests.hidden import LECTURE


@pytest.mark.points(1)
@pytest.mark.visible
def test_lecture_gradients(submission, reference):
    """6. Gradients of the lecture's loss for w and b (390 and -0.4)"""
    data = {"x": LECTURE["inputs"], "y": LECTURE["targets"], "w": LECTURE["w"], "b": LECTURE["b"]}
    out = run(submission, "gradients", "forward() or mse()", **data)
    problem = gradients_problem(out, hidden.gradients(reference, **data), visible=True)
    if problem:
        fail(problem)


@pytest.mark.points(1)
def test_gradients_hidden(submission, reference, cases):
    """7. Gradients for w and b on other data"""
    out = run(submission, "gradients", "forward() or mse()", **cases.gradients)
    problem = gradients_problem(out, hidden.gradients(reference, **cases.gradients),
                                visible=False)
    if problem:
        fail(problem)
