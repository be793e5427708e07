"""softmax(x): exp(x) / exp(x).sum() along the last axis, stable for large inputs."""

import pytest

from autograder.checks import fail


@pytest.mark.points(1)
@pytest.mark.visible
def test_softmax_example(submission, hidden, feedback):
    """3. softmax(): each row of [[1, 2, 3], [0, 0, 0]] sums to 1"""
    x = hidden.PUBLIC["softmax"]
    out = feedback.run(submission, "softmax", "softmax()", x=x)
    problem = feedback.softmax_problem(out, hidden.softmax(x), x, visible=True)
    if problem:
        fail(problem)


@pytest.mark.points(1)
def test_softmax_hidden(submission, hidden, feedback, cases):
    """4. softmax() on other data, 1-d and 2-d: along the last axis"""
    for case in cases.softmax:
        out = feedback.run(submission, "softmax", "softmax()", **case)
        problem = feedback.softmax_problem(out, hidden.softmax(**case), case["x"],
                                           visible=False)
        if problem:
            fail(problem)


@pytest.mark.points(2)
def test_softmax_large_inputs(submission, hidden, feedback, cases):
    """5. softmax() on inputs far beyond 700, positive and negative: no overflow, no NaN"""
    for case in cases.softmax_large:
        out = feedback.run(submission, "softmax", "softmax()", **case)
        problem = feedback.softmax_problem(out, hidden.softmax(**case), case["x"],
                                           visible=False)
        if problem:
            fail(problem)
