"""clip_norm(v, max_norm): v scaled down to norm max_norm if longer, else v as it is."""

import pytest

from autograder.checks import fail


def _check(submission, hidden, feedback, v, max_norm, *, visible):
    out = feedback.run(submission, "clip_norm", "clip_norm()", v=v, max_norm=max_norm)
    problem = feedback.clip_norm_problem(out, hidden.clip_norm(v, max_norm), v,
                                         visible=visible)
    if problem:
        fail(problem)


@pytest.mark.points(1)
@pytest.mark.visible
def test_clip_norm_example(submission, hidden, feedback):
    """6. clip_norm(): [3, 4] with max_norm 1 becomes [0.6, 0.8]; [0.3, 0.4] stays"""
    for v in (hidden.PUBLIC["clip_long"], hidden.PUBLIC["clip_short"]):
        _check(submission, hidden, feedback, v, hidden.PUBLIC["max_norm"], visible=True)


@pytest.mark.points(1)
def test_clip_norm_long(submission, hidden, feedback, cases):
    """7. clip_norm() on other vectors longer than max_norm: scaled down, same direction"""
    for case in cases.clip_long:
        _check(submission, hidden, feedback, **case, visible=False)


@pytest.mark.points(1)
def test_clip_norm_short(submission, hidden, feedback, cases):
    """8. clip_norm() on other vectors within max_norm: unchanged, and so is the caller's v"""
    for case in cases.clip_short:
        _check(submission, hidden, feedback, **case, visible=False)
