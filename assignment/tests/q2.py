"""Question 2: the predictions on the lecture's inputs, with w = 2 and b = 30."""

import torch
from otter.test_files import test_case

OK_FORMAT = False  # otter: this is an exception-based test file
name = "q2"
points = 1

INPUTS = [-40.0, -10.0, 15.0, 30.0, 50.0]
PREDICTIONS = [-50.0, 10.0, 60.0, 90.0, 130.0]  # the lecture's predictions
WITHOUT_BIAS = [-80.0, -20.0, 30.0, 60.0, 100.0]  # what w * x alone gives
SWAPPED = [-1198.0, -298.0, 452.0, 902.0, 1502.0]  # what b * x + w gives


def _close(got, expected):
    return torch.allclose(got.detach().double().reshape(-1), torch.tensor(expected).double(),
                          rtol=1e-4, atol=1e-3)


@test_case()
def test_predictions_on_inputs(forward):
    inputs = torch.tensor(INPUTS)
    w = torch.tensor(2.0, requires_grad=True)
    b = torch.tensor(30.0, requires_grad=True)
    got = forward(inputs, w, b)
    assert isinstance(got, torch.Tensor), (
        f"forward(inputs, w=2, b=30) should return a tensor; it returned {type(got).__name__}"
    )
    assert got.shape == inputs.shape, (
        f"forward() returned a tensor of shape {tuple(got.shape)} for an input of shape "
        f"{tuple(inputs.shape)}: the prediction must have the shape of x."
    )
    if _close(got, WITHOUT_BIAS):
        cause = " The predictions equal w * x: the bias is missing (the line is w * x + b)."
    elif _close(got, SWAPPED):
        cause = " The predictions equal b * x + w: w and b are swapped (the line is w * x + b)."
    else:
        cause = ""
    assert _close(got, PREDICTIONS), (
        f"forward(inputs, w=2, b=30) with inputs {INPUTS} should be {PREDICTIONS}; "
        f"it returned {[round(v, 4) for v in got.tolist()]}.{cause}"
    )
    assert got.requires_grad, (
        "forward(inputs, w=2, b=30) has the right values but no autograd graph (requires_grad "
        "is False), so loss.backward() cannot reach w and b. Avoid .item(), .detach(), .data, "
        ".numpy() and torch.no_grad() in forward()."
    )


@test_case()
def test_predictions_keep_any_shape(forward):
    column = torch.tensor(INPUTS).reshape(5, 1)
    w = torch.tensor(2.0, requires_grad=True)
    b = torch.tensor(30.0, requires_grad=True)
    got = forward(column, w, b)
    assert isinstance(got, torch.Tensor) and got.shape == column.shape, (
        f"forward() on the inputs as a column of shape {tuple(column.shape)} returned "
        f"{type(got).__name__} of shape {tuple(getattr(got, 'shape', ()))}: the prediction "
        f"must have the shape of x."
    )
    assert _close(got, PREDICTIONS), (
        f"forward(x, w=2, b=30) on the inputs as a column should be {PREDICTIONS} (as a "
        f"column); it returned {[round(v, 4) for v in got.reshape(-1).tolist()]}"
    )
