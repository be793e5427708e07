"""forward(x, w, b): the prediction w * x + b, a tensor of x's shape that keeps the graph."""

import pytest

from autograder.checks import shape_of
from autograder.judge import fail
from autograder.tests import hidden
from autograder.tests.feedback import forward_problem, run
from autograder.tests.hidden import LECTURE


def _check_lecture(submission, reference, x):
    out = run(submission, "predict", "forward()", x=x, w=LECTURE["w"], b=LECTURE["b"])
    want = hidden.predict(reference, x, LECTURE["w"], LECTURE["b"])
    problem = forward_problem(out, want, x_shape=shape_of(x), visible=True)
    if problem:
        fail(problem)


@pytest.mark.points(1)
@pytest.mark.visible
def test_predict_from_20(submission, reference):
    """1. forward(): predict from an input of 20 (the lecture: 70); public test q1"""
    _check_lecture(submission, reference, LECTURE["x"])


@pytest.mark.points(1)
@pytest.mark.visible
def test_predictions_on_the_inputs(submission, reference):
    """2. forward(): predictions on the lecture's inputs ([-50, 10, 60, 90, 130]); public test q2"""
    _check_lecture(submission, reference, LECTURE["inputs"])
    _check_lecture(submission, reference, [[x] for x in LECTURE["inputs"]])


@pytest.mark.points(1)
def test_forward_hidden(submission, reference, cases):
    """3. forward() on other inputs and parameters: 0-d to 3-d x, negative w, float64 kept"""
    for case in cases.forward:
        what = f"forward() on a {len(shape_of(case['x']))}-d input"
        out = run(submission, "predict", what, **case)
        want = hidden.predict(reference, **case)
        problem = forward_problem(out, want, x_shape=shape_of(case["x"]), visible=False)
        if problem:
            fail(problem)
