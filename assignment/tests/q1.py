"""Question 1: predict from an input of 20 with w = 2 and b = 30."""

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
    assert abs(got.item() - 70.0) <= 1e-3, (
        f"forward(20, w=2, b=30) should be 70; it returned {got.item():g}"
    )
    assert got.requires_grad, (
        "forward(20, w=2, b=30) returned 70 but without a graph (requires_grad is False): "
        "compute it from w and b with tensor arithmetic, no .item(), .detach() or torch.no_grad()"
    )
