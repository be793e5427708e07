"""Update Examples: fit Celsius -> Fahrenheit with a line, one gradient step at a time.

This homework follows the lecture "Representation Learning: Update Examples".
A line ``prediction = w * x + b`` starts at ``w = 2``, ``b = 30`` and should learn
the true formula ``f = 9c/5 + 32``. You write the three pieces of one training
step, by hand, with PyTorch autograd:

- ``forward(x, w, b)``: the prediction,
- ``mse(t1, t2)``: how wrong the predictions are (the loss),
- ``update(w, b, lr)``: one gradient-descent step on ``w`` and ``b``.

Run ``python regression.py`` to walk through the lecture's questions with your
functions, and ``python -m pytest`` (or ``otter check regression.py``) to check them.
"""

import torch

# The lecture's data: Celsius in, Fahrenheit out (exactly 9c/5 + 32).
inputs = torch.tensor([-40.0, -10.0, 15.0, 30.0, 50.0])
targets = torch.tensor([-40.0, 14.0, 59.0, 86.0, 122.0])


def initial_parameters() -> tuple[torch.Tensor, torch.Tensor]:
    """Return fresh leaf tensors ``w = 2.0`` and ``b = 30.0`` that require gradients.

    A function rather than module-level globals, so every experiment (and every
    test) starts from the lecture's starting point with no gradients left over.
    """
    w = torch.tensor(2.0, requires_grad=True)
    b = torch.tensor(30.0, requires_grad=True)
    return w, b


def forward(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Predict Fahrenheit from Celsius with the line ``w * x + b``.

    ``x`` may have any shape (one temperature, or a tensor of them); the result
    has the same shape as ``x``. Use tensor arithmetic only (no ``.item()``, no
    ``.detach()``, no ``torch.no_grad()``), so that autograd records how the
    prediction depends on ``w`` and ``b`` and ``loss.backward()`` can reach them.
    """
    # YOUR CODE HERE (replace the raise below)
    raise NotImplementedError("forward() is not implemented yet")


def mse(t1: torch.Tensor, t2: torch.Tensor) -> torch.Tensor:
    """Return the mean squared error between two tensors of the same shape.

    Square the element-wise differences, then average them (the mean, not the
    sum). The result is a 0-dim tensor (print it and you see ``tensor(...)``)
    that still carries the graph, so ``loss.backward()`` works on it. Keep it a
    tensor: a Python float from ``.item()`` has no gradient.
    """
    # YOUR CODE HERE (replace the raise below)
    raise NotImplementedError("mse() is not implemented yet")


def update(w: torch.Tensor, b: torch.Tensor, lr: float = 1e-4) -> None:
    """Take one gradient-descent step on ``w`` and ``b`` in place, then clear their gradients.

    Call it after ``loss.backward()``, which stored the gradients in ``w.grad``
    and ``b.grad``. Each parameter moves a step of size ``lr`` *against* its
    gradient (downhill).

    Hints:
    - Change the tensors in place (``-=`` or an in-place method ending in ``_``).
      Writing ``w = ...`` only rebinds a local name: the caller's ``w`` would not
      change, and a new tensor would not be a leaf of the graph any more.
    - PyTorch refuses an in-place change of a leaf that requires grad while it is
      recording; do the step inside a ``with torch.no_grad():`` block.
    - ``backward()`` *adds* to ``.grad``. Reset both gradients (for example with
      ``.zero_()``) after the step, or the next step would use stale gradients.
    - Return nothing: ``w`` and ``b`` must stay the same tensors, still with
      ``requires_grad=True``.
    """
    # YOUR CODE HERE (replace the raise below)
    raise NotImplementedError("update() is not implemented yet")


def _fmt(t: torch.Tensor) -> str:
    """Format a tensor's values for the walk-through, rounded like the lecture's slides."""
    values = t.detach().reshape(-1).tolist()
    text = ", ".join(f"{v:.6g}" for v in values)
    return text if t.dim() == 0 else f"[{text}]"


def main() -> None:
    """Walk through the lecture's questions in order, printing each answer."""
    w, b = initial_parameters()

    print("1. Predict from an input of 20")
    x = torch.tensor(20.0)
    print(f"   forward(20) = {_fmt(forward(x, w, b))}   (the true value is {9 * 20 / 5 + 32:g})")

    print("2. Predictions on the inputs")
    preds = forward(inputs, w, b)
    print(f"   inputs  = {_fmt(inputs)}")
    print(f"   targets = {_fmt(targets)}")
    print(f"   preds   = {_fmt(preds)}")

    print("3. MSE loss of these predictions")
    loss = mse(preds, targets)
    print(f"   loss = {_fmt(loss)}")

    print("4. Gradients of the loss (backpropagation signal)")
    loss.backward()
    print(f"   w = {_fmt(w)}, w.grad = {_fmt(w.grad)}")
    print(f"   b = {_fmt(b)}, b.grad = {_fmt(b.grad)}")

    print("5. What the gradients say")
    for name, param in (("w", w), ("b", b)):
        direction = "smaller" if param.grad.item() > 0 else "bigger"
        print(f"   {name}.grad is {_fmt(param.grad)}, so the loss drops if {name} gets {direction}")
    print("   (for comparison, the correct formula is f = 9c/5 + 32 = 1.8c + 32)")

    print("6. One update with learning rate 1e-4")
    update(w, b, lr=1e-4)
    print(f"   w = {w.item():.6g}, b = {b.item():.7g}")

    print("7. Predictions and loss now")
    new_preds = forward(inputs, w, b)
    print(f"   preds = {_fmt(new_preds)}")
    print(f"   loss  = {_fmt(mse(new_preds, targets))}")


if __name__ == "__main__":
    try:
        main()
    except NotImplementedError as error:
        message = f"Stopped: {error}. Write it in regression.py, then run this again."
        raise SystemExit(message) from None
