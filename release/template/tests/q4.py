"""Question 4: the gradients of the loss for w and b (the lecture: 390 and -0.4)."""

import torch
from otter.test_files import test_case

OK_FORMAT = False  # otter: this is an exception-based test file
name = "q4"
points = 1

INPUTS = [-40.0, -10.0, 15.0, 30.0, 50.0]
TARGETS = [-40.0, 14.0, 59.0, 86.0, 122.0]
GRAD_W, GRAD_B = 390.0, -0.4  # the lecture's backpropagation signal


def _near(got, expected):
    return abs(got - expected) <= 1e-3 + 1e-4 * abs(expected)


@test_case()
def test_gradients(forward, mse):
    w = torch.tensor(2.0, requires_grad=True)
    b = torch.tensor(30.0, requires_grad=True)
    loss = mse(forward(torch.tensor(INPUTS), w, b), torch.tensor(TARGETS))
    assert isinstance(loss, torch.Tensor) and loss.requires_grad, (
        "mse(forward(inputs, w, b), targets) should be a tensor that requires grad, "
        "so that loss.backward() can reach w and b"
    )
    assert loss.shape == (), (
        "loss.backward() needs a single number: mse() must return a 0-dim tensor, the mean of "
        "the squared differences."
    )
    loss.backward()
    if b.grad is None and w.grad is not None:
        raise AssertionError(
            "b.grad is None after loss.backward(): b did not take part in the computation. "
            "Did forward() forget the bias (w * x + b)?"
        )
    for label, param in (("w", w), ("b", b)):
        assert param.grad is not None, (
            f"after loss.backward(), {label}.grad is None: the loss does not reach {label} "
            "through the graph"
        )
    got_w, got_b = w.grad.item(), b.grad.item()
    cause = ""
    if _near(got_w, 5 * GRAD_W) and _near(got_b, 5 * GRAD_B):
        cause = (" The gradients are too large by a factor of 5 (the number of data points): "
                 "mse() sums the squared differences instead of averaging them.")
    assert _near(got_w, GRAD_W) and _near(got_b, GRAD_B), (
        f"with w=2, b=30, loss = mse(forward(inputs, w, b), targets) and loss.backward(), "
        f"w.grad should be {GRAD_W:g} and b.grad {GRAD_B:g}; they are {got_w:g} and "
        f"{got_b:g}.{cause}"
    )
