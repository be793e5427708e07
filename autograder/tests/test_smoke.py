import pytest

from autograder.judge import fail


@pytest.mark.points(1)
@pytest.mark.visible
def test_predict_20(submission):
    """Q1 predict from 20"""
    out = submission.call("forward", what="forward()", x=20.0, w=2.0, b=30.0)
    if abs(out["value"] - 70) > 1e-4:
        fail(f"forward(20) gave {out['value']}, expected 70")
