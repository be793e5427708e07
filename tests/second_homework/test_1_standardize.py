"""standardize(x): the z-scores (x - mean) / std of a 1-d array, population std."""

import pytest

from autograder.checks import fail


@pytest.mark.points(1)
@pytest.mark.visible
def test_standardize_example(submission, hidden, feedback):
    """1. standardize(): the z-scores of [2, 4, 4, 4, 5, 5, 7, 9] (mean 5, std 2)"""
    x = hidden.PUBLIC["standardize"]
    out = feedback.run(submission, "standardize", "standardize()", x=x)
    problem = feedback.standardize_problem(out, hidden.standardize(x), x, visible=True)
    if problem:
        fail(problem)


@pytest.mark.points(2)
def test_standardize_hidden(submission, hidden, feedback, cases):
    """2. standardize() on other data: negative, fractional, far from 0; input left alone"""
    for case in cases.standardize:
        out = feedback.run(submission, "standardize", "standardize()", **case)
        problem = feedback.standardize_problem(out, hidden.standardize(**case), case["x"],
                                               visible=False)
        if problem:
            fail(problem)
