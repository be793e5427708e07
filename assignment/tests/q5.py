"""Question 5: one gradient-descent update of w and b."""

import torch
from otter.test_files import test_case

OK_FORMAT = False  # otter: this is an exception-based test file
name = "q5"
points = 1


def _parameters_after_backward():
    """w = 2, b = 30 with the lecture's gradients (390 and -0.4) in w.grad and b.grad."""
    inputs = torch.tensor([-40.0, -10.0, 15.0, 30.0, 50.0])
    targets = torch.tensor([-40.0, 14.0, 59.0, 86.0, 122.0])
    w = torch.tensor(2.0, requires_grad=True)
    b = torch.tensor(30.0, requires_grad=True)
    ((w * inputs + b - targets) ** 2).mean().backward()
    return w, b


@test_case()
def test_update_one_step(update):
    w, b = _parameters_after_backward()
    update(w, b)
    assert abs(w.item() - 1.961) <= 1e-3, (
        f"after update(w, b) with w=2, w.grad=390 and the default lr=1e-4, w should be 1.961; "
        f"it is {w.item():.7g}"
    )
    assert abs(b.item() - 30.00004) <= 5e-6, (
        f"after update(w, b) with b=30, b.grad=-0.4 and the default lr=1e-4, b should be "
        f"30.00004; it is {b.item():.7g}"
    )


@test_case()
def test_update_uses_lr(update):
    w, b = _parameters_after_backward()
    update(w, b, lr=0.01)
    assert abs(w.item() - (-1.9)) <= 1e-4 and abs(b.item() - 30.004) <= 1e-4, (
        f"after update(w, b, lr=0.01) with w=2, w.grad=390, b=30, b.grad=-0.4, w and b should "
        f"be -1.9 and 30.004; they are {w.item():.7g} and {b.item():.7g}"
    )


@test_case()
def test_update_keeps_leaves_and_clears_gradients(update):
    w, b = _parameters_after_backward()
    update(w, b)
    for label, param in (("w", w), ("b", b)):
        assert param.requires_grad and param.is_leaf, (
            f"after update(w, b), {label} should still be a leaf tensor with requires_grad=True; "
            f"it has requires_grad={param.requires_grad}, is_leaf={param.is_leaf}"
        )
        assert param.grad is None or bool((param.grad == 0).all()), (
            f"after update(w, b), {label}.grad should be zero (or None), so the next backward() "
            f"starts fresh; it is {param.grad.tolist()}"
        )
