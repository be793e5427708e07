"""Question 1: predict from an input of 20 with w = 2 and b = 30 (the lecture: 70)."""

import torch
from otter.test_files import test_case

OK_FORMAT = False  # otter: this is an exception-based test file
name = "q1"
points = 1


@test_case()
def test_predict_from_20(forward):
    w = torch.tensor(2.0, requires_grad=True)
    b = torch.tensor(30.0, requires_grad=True)
    got = forward(torch.tensor(20.0), w, b)
    assert isinstance(got, torch.Tensor), (
        f"forward(20, w=2, b=30) should return a tensor; it returned {type(got).__name__} {got!r}"
    )
    assert got.shape == (), (
        f"forward(20, w=2, b=30) should be a 0-dim tensor like its input 20; "
        f"it has shape {tuple(got.shape)}"
    )
    value = got.item()
    if abs(value - 40.0) <= 1e-3:  # 2 * 20
        cause = " The prediction equals w * x: the bias is missing (the line is w * x + b)."
    elif abs(value - 602.0) <= 1e-3:  # 30 * 20 + 2
        cause = " The prediction equals b * x + w: w and b are swapped (the line is w * x + b)."
    else:
        cause = ""
    assert abs(value - 70.0) <= 1e-3, (
        f"forward(20, w=2, b=30) should be 70; it returned {value:g}.{cause}"
    )
    assert got.requires_grad, (
        "forward(20, w=2, b=30) returned 70 but without an autograd graph (requires_grad is "
        "False), so loss.backward() cannot reach w and b. Avoid .item(), .detach(), .data, "
        ".numpy() and torch.no_grad() in forward()."
    )
