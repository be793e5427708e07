"""Question 6: the predictions and the loss after one update (the lecture: loss 25.8098)."""

import torch
from otter.test_files import test_case

OK_FORMAT = False  # otter: this is an exception-based test file
name = "q6"
points = 1

INPUTS = [-40.0, -10.0, 15.0, 30.0, 50.0]
TARGETS = [-40.0, 14.0, 59.0, 86.0, 122.0]
PREDICTIONS_AFTER = [-48.44, 10.39, 59.415, 88.83, 128.05]  # the lecture's, after one update
LOSS_AFTER = 25.8098


@test_case()
def test_predictions_and_loss_after_update(forward, mse, update):
    inputs, targets = torch.tensor(INPUTS), torch.tensor(TARGETS)
    w = torch.tensor(2.0, requires_grad=True)
    b = torch.tensor(30.0, requires_grad=True)
    mse(forward(inputs, w, b), targets).backward()
    update(w, b)
    preds = forward(inputs, w, b)
    assert isinstance(preds, torch.Tensor) and preds.shape == (5,), (
        f"after one update, forward(inputs, w, b) should be a tensor of shape (5,); "
        f"it returned {preds!r}"
    )
    got = preds.detach().double()
    assert torch.allclose(got, torch.tensor(PREDICTIONS_AFTER).double(), rtol=1e-4, atol=1e-3), (
        f"after one update (lr=1e-4), forward(inputs, w, b) should be {PREDICTIONS_AFTER}; "
        f"it returned {[round(v, 5) for v in got.tolist()]}"
    )
    loss = mse(preds, targets)
    assert isinstance(loss, torch.Tensor) and abs(loss.item() - LOSS_AFTER) <= 3e-3, (
        f"after one update (lr=1e-4), the loss mse(forward(inputs, w, b), targets) should be "
        f"{LOSS_AFTER} (down from 39.4); it returned {loss!r}"
    )
