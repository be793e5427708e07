"""Question 3: the MSE loss of the predictions [-50, 10, 60, 90, 130]."""

import torch
from otter.test_files import test_case

OK_FORMAT = False  # otter: this is an exception-based test file
name = "q3"
points = 1


@test_case()
def test_mse_of_predictions(mse):
    preds = torch.tensor([-50.0, 10.0, 60.0, 90.0, 130.0], requires_grad=True)
    targets = torch.tensor([-40.0, 14.0, 59.0, 86.0, 122.0])
    loss = mse(preds, targets)
    assert isinstance(loss, torch.Tensor), (
        f"mse(preds, targets) should return a tensor; it returned {type(loss).__name__} {loss!r}"
    )
    assert loss.shape == (), (
        f"mse(preds, targets) should be a 0-dim tensor (one number); "
        f"it has shape {tuple(loss.shape)}"
    )
    assert abs(loss.item() - 39.4) <= 1e-3 + 1e-4 * 39.4, (
        f"mse(preds, targets) with preds {preds.tolist()} and targets {targets.tolist()} "
        f"should be 39.4; it returned {loss.item():g}"
    )


@test_case()
def test_mse_passes_gradients(mse):
    preds = torch.tensor([-50.0, 10.0, 60.0, 90.0, 130.0], requires_grad=True)
    targets = torch.tensor([-40.0, 14.0, 59.0, 86.0, 122.0])
    loss = mse(preds, targets)
    assert isinstance(loss, torch.Tensor) and loss.requires_grad, (
        "mse(preds, targets) with preds that require grad should return a tensor that requires "
        "grad, so loss.backward() works: keep it a tensor (no .item(), float() or .detach())"
    )
    loss.backward()
    expected = [-4.0, -1.6, 0.4, 1.6, 3.2]  # 2 * (preds - targets) / 5
    assert preds.grad is not None, (
        "after mse(preds, targets).backward(), preds.grad is None: the loss is not computed "
        "from preds through the graph"
    )
    got = preds.grad.double()
    assert torch.allclose(got, torch.tensor(expected).double(), rtol=1e-4, atol=1e-3), (
        f"after mse(preds, targets).backward(), preds.grad should be {expected} (the mean's "
        f"gradient); it is {[round(v, 4) for v in got.tolist()]}"
    )
