"""Question 4: the gradients of the loss for w and b (the backpropagation signal)."""

import torch
from otter.test_files import test_case

OK_FORMAT = False  # otter: this is an exception-based test file
name = "q4"
points = 1


@test_case()
def test_gradients(forward, mse):
    inputs = torch.tensor([-40.0, -10.0, 15.0, 30.0, 50.0])
    targets = torch.tensor([-40.0, 14.0, 59.0, 86.0, 122.0])
    w = torch.tensor(2.0, requires_grad=True)
    b = torch.tensor(30.0, requires_grad=True)
    loss = mse(forward(inputs, w, b), targets)
    assert isinstance(loss, torch.Tensor) and loss.requires_grad, (
        "mse(forward(inputs, w, b), targets) should be a tensor that requires grad, "
        "so that loss.backward() can reach w and b"
    )
    loss.backward()
    for label, param, expected in (("w", w, 390.0), ("b", b, -0.4)):
        assert param.grad is not None, (
            f"after loss.backward(), {label}.grad is None: the loss does not reach {label} "
            "through the graph"
        )
        got = param.grad.item()
        assert abs(got - expected) <= 1e-3 + 1e-4 * abs(expected), (
            f"with w=2, b=30, loss = mse(forward(inputs, w, b), targets) and loss.backward(), "
            f"{label}.grad should be {expected:g}; it is {got:g}"
        )
