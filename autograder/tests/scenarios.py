"""Scenarios: what runs inside the sandbox, one per forked worker.

Each takes the submission module and plain arguments (numbers and lists), builds
tensors from them, calls the student's functions and returns plain data only:
values as lists, shapes, dtypes, flags. No expected value lives here, and nothing is
built at import time: this module is loaded into the zygote and every worker.

Besides the scenarios (every public function), this module tells the sandbox how to use
torch in forked workers (one thread), and what of torch its guard puts back after every
call into the submission (GUARDED_MODULES, GUARDED_CLASSES, _save_state and
_restore_state: see autograder/sandbox/guard.py).
"""

import math

import numpy
import torch

_MAX_VALUES = 10_000  # a result larger than this is described, not sent

# ---------------------------------------------------------------- torch in the sandbox

# Loaded in the zygote before it forks: a worker's CPU limit is one CPU's worth, and a
# thread pool started before a fork is of no use in the child. (In a process that already
# ran torch work, as the package's own tests may, the inter-op pool can no longer be set.)
torch.set_num_threads(1)
try:
    torch.set_num_interop_threads(1)
except RuntimeError:
    pass

# What the scenarios below look up, which a submission could rebind: names replaced in or
# removed from these modules come back, names added to a Tensor go. (The guard keeps math
# and every preloaded module anyway; torch is named here too, for a sandbox without it.)
GUARDED_MODULES = (math, numpy, torch, torch.autograd)
GUARDED_CLASSES = (torch.Tensor,)
# bound now: torch._C is no guarded module, so a patch there would outlive a call
_FUNCTION_MODES = (torch._C._len_torch_function_stack, torch._C._pop_torch_function_stack)
_DISPATCH_MODES = (torch._C._len_torch_dispatch_stack, torch._C._pop_torch_dispatch_stack)


def _save_state():
    """What of torch's global state the scenarios rely on: grad mode and default dtype."""
    return torch.is_grad_enabled(), torch.get_default_dtype()


def _restore_state(saved):
    """After every call into the submission: no torch function or dispatch mode left on
    (it would run the submission's code inside the scenario), grad mode and default dtype
    as they were."""
    grad, dtype = saved
    for length, pop in (_FUNCTION_MODES, _DISPATCH_MODES):
        while length():
            pop()
    torch.set_grad_enabled(grad)
    if torch.get_default_dtype() is not dtype:
        torch.set_default_dtype(dtype)


# ---------------------------------------------------------------- scenarios' helpers

_DTYPES = {"float32": torch.float32, "float64": torch.float64}


def _data(value, dtype="float32"):
    """A plain number or (nested) list as a tensor that needs no gradient."""
    return torch.tensor(value, dtype=_DTYPES[dtype])


def _leaf(value, dtype="float32"):
    """A leaf tensor that requires grad, as the lecture's w and b."""
    return torch.tensor(value, dtype=_DTYPES[dtype], requires_grad=True)


def _is_tensor(obj):
    """A tensor whose methods are torch's own (a subclass's are the submission's)."""
    return type(obj) in (torch.Tensor, torch.nn.Parameter)


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
        info.update(tensor=False, tensor_subclass=True)
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
    """Run backward from a result as a student would (loss.backward(): one number, of any
    shape); the error's type if autograd refused, else None."""
    try:
        tensor.backward()
    except Exception as exc:
        return type(exc).__name__
    return None


def _grad(tensor):
    return None if tensor.grad is None else _values(tensor.grad)


def predict(sub, x, w, b, dtype="float32"):
    """forward(x, w, b) with x, w and b of one dtype, w and b leaf tensors."""
    xt, wt, bt = _data(x, dtype), _leaf(w, dtype), _leaf(b, dtype)
    before = xt.clone()
    y = sub.forward(xt, wt, bt)
    return {"result": _describe(y), "x_unchanged": bool(torch.equal(xt, before))}


def loss(sub, t1, t2, dtype="float32"):
    """mse(predictions, targets) where the predictions carry a graph back to a leaf (as
    forward's output does); then whether the inputs were left alone."""
    preds = _leaf(t1, dtype) * 1.0
    targets = _data(t2, dtype)
    preds_before, targets_before = preds.detach().clone(), targets.clone()
    result = sub.mse(preds, targets)
    return {
        "result": _describe(result),
        "inputs_unchanged": bool(torch.equal(preds.detach(), preds_before)
                                 and torch.equal(targets, targets_before)),
    }


def _line_gradients(result, wt, bt):
    """loss.backward() from a student's result, then the gradients of w and b."""
    out = {"loss": _describe(result), "backward_error": None, "grad_w": None, "grad_b": None}
    if _is_tensor(result) and result.requires_grad and result.numel() == 1:
        out["backward_error"] = _backward(result)
        out["grad_w"], out["grad_b"] = _grad(wt), _grad(bt)
    return out


def gradients(sub, x, y, w, b):
    """The lecture's loss (computed here, so only forward() is tested) of the student's
    forward(), loss.backward(); the gradients of w, b and x (an input that carries a
    graph, as the output of an earlier layer would)."""
    xt, yt, wt, bt = _leaf(x), _data(y), _leaf(w), _leaf(b)
    preds = sub.forward(xt, wt, bt)
    out = {"preds": _describe(preds), "backward_error": None, "grad_w": None, "grad_b": None,
           "grad_x": None}
    if _is_tensor(preds) and preds.requires_grad and preds.shape == xt.shape:
        out["backward_error"] = _backward(((preds - yt) ** 2).mean())
        out["grad_w"], out["grad_b"], out["grad_x"] = _grad(wt), _grad(bt), _grad(xt)
    return out


def loss_gradients(sub, x, y, w, b):
    """mse() of the line w * x + b (computed here, so only mse() is tested) and targets,
    with the predictions first and then second: loss.backward() must reach w and b
    through either argument."""
    out = {}
    for order in ("preds_first", "preds_second"):
        xt, yt, wt, bt = _data(x), _data(y), _leaf(w), _leaf(b)
        preds = wt * xt + bt
        result = sub.mse(preds, yt) if order == "preds_first" else sub.mse(yt, preds)
        out[order] = _line_gradients(result, wt, bt)
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
    and mse, so only update() is tested), loss.backward(), update(w, b, lr=lr), or
    update(w, b) when lr is None (its default). After each round: w and b as data, and
    whether update() returned new tensors. Finally the loss at the end."""
    xt, yt, wt, bt = _data(x), _data(y), _leaf(w), _leaf(b)
    records = []
    for _ in range(steps):
        if not (wt.requires_grad and bt.requires_grad):
            break  # the student turned gradients off: the record before says so
        ((wt * xt + bt - yt) ** 2).mean().backward()
        w_before, b_before = wt, bt
        returned = sub.update(wt, bt) if lr is None else sub.update(wt, bt, lr=lr)
        record = {"w": _param(wt), "b": _param(bt), "returned_new": False}
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
