"""Question 2: the predictions on the lecture's inputs, with w = 2 and b = 30."""

import torch
from otter.test_files import test_case

OK_FORMAT = False  # otter: this is an exception-based test file
name = "q2"
points = 1


@test_case()
def test_predictions_on_inputs(forward):
    inputs = torch.tensor([-40.0, -10.0, 15.0, 30.0, 50.0])
    expected = torch.tensor([-50.0, 10.0, 60.0, 90.0, 130.0])
    w = torch.tensor(2.0, requires_grad=True)
    b = torch.tensor(30.0, requires_grad=True)
    got = forward(inputs, w, b)
    assert isinstance(got, torch.Tensor), (
        f"forward(inputs, w=2, b=30) should return a tensor; it returned {type(got).__name__}"
    )
    assert got.shape == inputs.shape, (
        f"forward(inputs, w=2, b=30) should have the inputs' shape {tuple(inputs.shape)}; "
        f"it has shape {tuple(got.shape)}"
    )
    assert torch.allclose(got.detach().double(), expected.double(), rtol=1e-4, atol=1e-3), (
        f"forward(inputs, w=2, b=30) with inputs {inputs.tolist()} should be "
        f"{expected.tolist()}; it returned {[round(v, 4) for v in got.tolist()]}"
    )
    assert got.requires_grad, (
        "forward(inputs, w=2, b=30) has the right values but no graph (requires_grad is False): "
        "compute it from w and b with tensor arithmetic, no .item(), .detach() or torch.no_grad()"
    )


@test_case()
def test_predictions_keep_any_shape(forward):
    column = torch.tensor([[-40.0], [-10.0], [15.0], [30.0], [50.0]])
    expected = torch.tensor([[-50.0], [10.0], [60.0], [90.0], [130.0]])
    w = torch.tensor(2.0, requires_grad=True)
    b = torch.tensor(30.0, requires_grad=True)
    got = forward(column, w, b)
    assert isinstance(got, torch.Tensor) and got.shape == column.shape, (
        f"forward(x, w=2, b=30) on the inputs as a column of shape {tuple(column.shape)} should "
        f"return that shape; it returned {type(got).__name__} of shape "
        f"{tuple(getattr(got, 'shape', ()))}"
    )
    assert torch.allclose(got.detach().double(), expected.double(), rtol=1e-4, atol=1e-3), (
        f"forward(x, w=2, b=30) on the inputs as a column should be {expected.tolist()}; "
        f"it returned {[[round(v, 4) for v in row] for row in got.tolist()]}"
    )
