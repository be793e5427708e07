"""Question 3: the MSE loss of the predictions [-50, 10, 60, 90, 130] (the lecture: 39.4)."""

import math

import torch
from otter.test_files import test_case

OK_FORMAT = False  # otter: this is an exception-based test file
name = "q3"
points = 1

PREDICTIONS = [-50.0, 10.0, 60.0, 90.0, 130.0]
TARGETS = [-40.0, 14.0, 59.0, 86.0, 122.0]
LOSS = 39.4  # the lecture's loss
# what common mistakes give on these numbers, to name the cause
SUM_OF_SQUARES = 197.0
ROOT_OF_LOSS = math.sqrt(39.4)
NOT_SQUARED = (5.4, -0.2)  # the mean of the absolute differences, of the differences
GRADIENT = [-4.0, -1.6, 0.4, 1.6, 3.2]  # of the loss with respect to each prediction


def _near(got, expected):
    return abs(got - expected) <= 1e-3 + 1e-4 * abs(expected)


@test_case()
def test_mse_of_predictions(mse):
    preds = torch.tensor(PREDICTIONS, requires_grad=True)
    targets = torch.tensor(TARGETS)
    loss = mse(preds, targets)
    assert isinstance(loss, torch.Tensor), (
        f"mse(preds, targets) returned {type(loss).__name__} {loss!r}, not a tensor, so no "
        "gradient can flow back (loss.backward() needs a tensor): no .item() or float()"
    )
    assert loss.shape == (), (
        "mse() must return a single number, a 0-dim tensor, but returned a tensor with "
        f"{loss.dim()} dimension(s) (it has shape {tuple(loss.shape)}): average all the "
        "squared differences into one number (torch.mean)."
    )
    got = loss.item()
    if _near(got, SUM_OF_SQUARES):
        cause = (" The loss is too large by a factor of 5 (the number of elements): it is the "
                 "sum of the squared differences, not their mean. Average them (torch.mean) "
                 "instead of summing.")
    elif _near(got, ROOT_OF_LOSS):
        cause = " The loss is the square root of the MSE (the RMSE): leave out the square root."
    elif any(_near(got, value) for value in NOT_SQUARED):
        cause = " The differences are not squared."
    else:
        cause = ""
    assert _near(got, LOSS), (
        f"mse(preds, targets) with preds {PREDICTIONS} and targets {TARGETS} should be "
        f"{LOSS}; it returned {got:g}.{cause}"
    )


@test_case()
def test_mse_passes_gradients(mse):
    preds = torch.tensor(PREDICTIONS, requires_grad=True)
    targets = torch.tensor(TARGETS)
    loss = mse(preds, targets)
    assert isinstance(loss, torch.Tensor) and loss.requires_grad, (
        "mse(preds, targets) with preds that require grad should return a tensor that requires "
        "grad, so loss.backward() works: keep it a tensor (no .item(), float() or .detach())"
    )
    loss.backward()
    assert preds.grad is not None, (
        "after mse(preds, targets).backward(), preds.grad is None: the loss is not computed "
        "from preds through the graph"
    )
    got = preds.grad.double()
    assert torch.allclose(got, torch.tensor(GRADIENT).double(), rtol=1e-4, atol=1e-3), (
        f"after mse(preds, targets).backward(), preds.grad should be {GRADIENT} (the mean's "
        f"gradient); it is {[round(v, 4) for v in got.tolist()]}"
    )
