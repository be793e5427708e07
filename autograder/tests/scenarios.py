"""Scenarios: what runs inside the sandbox, one per forked worker.

Each takes the submission module and plain arguments (numbers and lists), builds
tensors from them, calls the student's functions and returns plain data only:
values as lists, shapes, dtypes, flags. No expected value lives here, and nothing is
built at import time: this module is loaded into the zygote and every worker.
"""

import torch

_MAX_VALUES = 10_000  # a result larger than this is described, not sent


def _data(value):
    """A plain number or (nested) list as a float32 tensor that needs no gradient."""
    return torch.tensor(value, dtype=torch.float32)


def _leaf(value):
    """A float32 leaf tensor that requires grad, as the lecture's w and b."""
    return torch.tensor(value, dtype=torch.float32, requires_grad=True)


def _values(tensor):
    """The numbers in a tensor as a float or nested list, or None if there are too many."""
    if tensor.numel() > _MAX_VALUES:
        return None
    try:
        return tensor.detach().to(torch.float64).tolist()
    except (RuntimeError, TypeError):  # complex, say
        return None


def _describe(obj):
    """What a student's function returned, as data: its kind, shape, values and flags.
    A non-tensor is converted when it can be, so the judge can name the mistake."""
    kind = type(obj)
    info = {
        "type": kind.__name__,
        "module": (kind.__module__ or "").split(".")[0],
        "tensor": isinstance(obj, torch.Tensor),
        "shape": None,
        "value": None,
    }
    if isinstance(obj, torch.Tensor) and kind not in (torch.Tensor, torch.nn.Parameter):
        # a subclass's methods are the submission's: nothing is asked of it
        info.update(tensor=False, type=f"{kind.__name__} (a torch.Tensor subclass)")
        return info
    if isinstance(obj, torch.Tensor):
        info.update(
            shape=list(obj.shape),
            dtype=str(obj.dtype),
            requires_grad=bool(obj.requires_grad),
            grad_fn=obj.grad_fn is not None,
            is_leaf=bool(obj.is_leaf),
            value=_values(obj),
        )
        return info
    try:
        converted = torch.as_tensor(obj, dtype=torch.float64)
    except Exception:  # not numbers at all (None, a string, ...)
        return info
    info.update(shape=list(converted.shape), value=_values(converted))
    return info


def _backward(tensor):
    """Run backward from a result; the error's type if autograd refused, else None."""
    try:
        (tensor if tensor.dim() == 0 else tensor.sum()).backward()
    except Exception as exc:
        return type(exc).__name__
    return None


def _grad(tensor):
    return None if tensor.grad is None else _values(tensor.grad)


def predict(sub, x, w, b):
    """forward(x, w, b) with w and b leaf tensors; then whether gradients reach w and b."""
    xt, wt, bt = _data(x), _leaf(w), _leaf(b)
    before = xt.clone()
    y = sub.forward(xt, wt, bt)
    out = {"result": _describe(y), "x_unchanged": bool(torch.equal(xt, before)),
           "backward_error": None, "grad_w": None, "grad_b": None}
    if isinstance(y, torch.Tensor) and y.requires_grad:
        out["backward_error"] = _backward(y)
        out["grad_w"], out["grad_b"] = _grad(wt), _grad(bt)
    return out


def loss(sub, t1, t2):
    """mse(predictions, targets) where the predictions carry a graph back to a leaf (as
    forward's output does); then whether the inputs were left alone and the gradient."""
    leaf = _leaf(t1)
    preds = leaf * 1.0
    targets = _data(t2)
    preds_before, targets_before = preds.detach().clone(), targets.clone()
    result = sub.mse(preds, targets)
    out = {
        "result": _describe(result),
        "inputs_unchanged": bool(torch.equal(preds.detach(), preds_before)
                                 and torch.equal(targets, targets_before)),
        "backward_error": None,
        "grad": None,
    }
    if isinstance(result, torch.Tensor) and result.requires_grad:
        out["backward_error"] = _backward(result)
        out["grad"] = _grad(leaf)
    return out


def gradients(sub, x, y, w, b):
    """The lecture's backward pass through the student's own forward and mse."""
    xt, yt, wt, bt = _data(x), _data(y), _leaf(w), _leaf(b)
    preds = sub.forward(xt, wt, bt)
    out = {"preds": _describe(preds), "loss": None, "backward_error": None,
           "grad_w": None, "grad_b": None}
    if not isinstance(preds, torch.Tensor):
        return out
    result = sub.mse(preds, yt)
    out["loss"] = _describe(result)
    if isinstance(result, torch.Tensor) and result.requires_grad:
        out["backward_error"] = _backward(result)
        out["grad_w"], out["grad_b"] = _grad(wt), _grad(bt)
    return out


def _param(tensor):
    return {
        "value": _values(tensor),
        "shape": list(tensor.shape),
        "dtype": str(tensor.dtype),
        "is_leaf": bool(tensor.is_leaf),
        "requires_grad": bool(tensor.requires_grad),
        "grad": _grad(tensor),
    }


def update_steps(sub, x, y, w, b, lr, steps):
    """`steps` rounds of: the lecture's loss (computed here, not with the student's forward
    and mse, so only update() is tested), loss.backward(), update(w, b, lr). After each
    round: w and b as data, and what update() returned. Finally the loss at the end."""
    xt, yt, wt, bt = _data(x), _data(y), _leaf(w), _leaf(b)
    records = []
    for _ in range(steps):
        if not (wt.requires_grad and bt.requires_grad):
            break  # the student turned gradients off: the record before says so
        ((wt * xt + bt - yt) ** 2).mean().backward()
        w_before, b_before = wt, bt
        returned = sub.update(wt, bt, lr)
        record = {"w": _param(wt), "b": _param(bt), "returned": type(returned).__name__,
                  "returned_new": False}
        if isinstance(returned, (tuple, list)):
            record["returned_new"] = any(isinstance(r, torch.Tensor)
                                         and r is not w_before and r is not b_before
                                         for r in returned)
        elif isinstance(returned, torch.Tensor):
            record["returned_new"] = returned is not w_before and returned is not b_before
        records.append(record)
    with torch.no_grad():
        final = ((wt * xt + bt - yt) ** 2).mean()
    return {"steps": records, "loss_after": _values(final)}
