"""Question 5: one gradient-descent update of w and b (the lecture: w 1.961, b 30.00004)."""

import torch
from otter.test_files import test_case

OK_FORMAT = False  # otter: this is an exception-based test file
name = "q5"
points = 1

# The causes, word for word as the autograder's feedback names them.
REBINDS = ("update() did not change w or b: the caller's tensors stay as they were. (If it "
           "writes `w = w - ...`, that only rebinds a local name.) Change them in place (an "
           "in-place operator or a method ending in _), inside torch.no_grad().")
RETURNS_NEW = ("update() returned new tensors instead of changing w and b in place: the caller "
               "keeps its own w and b, which did not move. Change them in place and return "
               "nothing.")
NOT_ZEROED = ("update() left the gradients in w.grad and b.grad. backward() adds to .grad, so "
              "the next step would use old and new gradients together: zero them after the "
              "step (w.grad.zero_(), or w.grad = None).")
UPHILL = ("w and b moved uphill: the step followed the gradient, which makes the loss "
          "bigger. Gradient descent steps against the gradient.")
NONE_GRAD = ("In update(), after `w = w - ...` the name w holds a new tensor without a .grad; "
             "change w in place instead (w -= ...).")
LR_IGNORED = ("update() seems to ignore its lr argument: it stepped as if lr were 1e-4. "
              "Use the learning rate it is given.")


def _parameters_after_backward():
    """w = 2 and b = 30 holding the lecture's gradients, as after loss.backward()."""
    w = torch.tensor(2.0, requires_grad=True)
    b = torch.tensor(30.0, requires_grad=True)
    w.grad = torch.tensor(390.0)
    b.grad = torch.tensor(-0.4)
    return w, b


def _call(update, w, b, **lr):
    """update(w, b, **lr), its usual crash explained: a .grad that is None after a rebinding."""
    try:
        return update(w, b, **lr)
    except AttributeError as error:
        if "NoneType" not in str(error):
            raise
        raise AssertionError(f"update() raised AttributeError: {error}. {NONE_GRAD}") from None


def _check_step(update, lr, w_after, b_after, step_w, step_b):
    """Call update(w, b[, lr]) and compare w and b with the expected values, naming a cause."""
    w, b = _parameters_after_backward()
    returned = _call(update, w, b) if lr is None else _call(update, w, b, lr=lr)
    call = "update(w, b)" if lr is None else f"update(w, b, lr={lr:g})"
    got_w, got_b = w.item(), b.item()
    if got_w == 2.0 and got_b == 30.0:
        raise AssertionError(RETURNS_NEW if returned is not None else REBINDS)
    if got_b == 30.0:
        raise AssertionError("update() did not change b: step both w and b.")
    if got_w == 2.0:
        raise AssertionError("update() did not change w: step both w and b.")
    right = abs(got_w - w_after) <= 1e-3 * step_w and abs(got_b - b_after) <= 1e-3 * step_b + 8e-6
    if right:
        return w, b
    uphill = abs(got_w - (4.0 - w_after)) <= 1e-3 * step_w
    cause = UPHILL if uphill else ""
    if lr is not None and abs(got_w - 1.961) <= 1e-4:
        cause = LR_IGNORED
    raise AssertionError(
        f"after {call} with w=2, w.grad=390, b=30 and b.grad=-0.4, w and b should be "
        f"{w_after:.7g} and {b_after:.7g}; they are {got_w:.7g} and {got_b:.7g}. {cause}".strip()
    )


@test_case()
def test_update_one_step(update):
    _check_step(update, None, 1.961, 30.00004, step_w=0.039, step_b=4e-5)


@test_case()
def test_update_uses_lr(update):
    _check_step(update, 0.01, -1.9, 30.004, step_w=3.9, step_b=4e-3)


@test_case()
def test_update_keeps_leaves_and_clears_gradients(update):
    w, b = _parameters_after_backward()
    _call(update, w, b)
    for label, param in (("w", w), ("b", b)):
        assert param.is_leaf, (
            f"After update(), {label} is no longer a leaf tensor: do the step inside "
            "`with torch.no_grad():` so that it is not recorded in the graph."
        )
        assert param.requires_grad, (
            f"After update(), {label} no longer requires grad (requires_grad is False), so the "
            "next loss.backward() cannot reach it. Leave requires_grad alone."
        )
        assert param.grad is None or bool((param.grad == 0).all()), NOT_ZEROED
