"""This lecture's feedback: from what a worker sent back about forward(), mse() and
update() (torch tensors, their graph, their dtype) to feedback a student can act on.

The generic checks (comparing numbers, the data's schemas, the closed vocabulary, running
a scenario) are autograder.checks'; here are this homework's SCHEMAS, its hints and its
mistakes. When a result is wrong, the usual cause is named by replaying that mistake on
the same inputs (a sum instead of a mean, a missing bias, gradients not zeroed, a step
uphill, ...). Messages of hidden tests carry no number from the hidden inputs or answers;
visible tests (the lecture's numbers) may show expected and actual values.
"""

from __future__ import annotations

import math
from typing import Any

from autograder.checks import (
    BUILTIN_TYPES,
    NUMPY_TYPES,
    SHAPE,
    VALUES,
    Runner,
    close,
    error_name,
    fmt,
    fmt_shape,
    is_number,
)
from autograder.tests.hidden import LECTURE

FLOAT32_EPS = 2.0**-23


# ---------------------------------------------------------------- comparing numbers


def close_as(got: Any, want: Any, dtype: str) -> bool:
    """`close` at the precision of the inputs' dtype: a float64 result computed in float64
    differs from the reference's by float64 rounding only, so a float32 step on the way
    (a `.float()` on one argument) shows."""
    if dtype == "torch.float64":
        return close(got, want, rel=1e-9, abs_=1e-9)
    return close(got, want)


def step_close(got: float, want: float, before: float) -> bool:
    """A parameter after a step: right to within 1e-5 of the step (a float32 step is
    computed to 1e-7; a float16 one, to 1e-3, is not right), plus a few float32 rounding
    steps of the value (a step of 4e-5 on 30 is only ~20 of them)."""
    if not is_number(got) or math.isnan(got):
        return False
    return abs(got - want) <= 1e-5 * abs(want - before) + 8 * FLOAT32_EPS * max(abs(want), 1e-6)


# ---------------------------------------------------------------- what a worker may send

# The shape of each scenario's data (scenarios.py), checked before a test reads any of it
# (the schemas of autograder.checks.valid).
DESCRIBED = {"type": str, "module": str, "tensor": bool, "shape": (None, SHAPE),
             "value": (None, VALUES), "tensor_subclass?": bool, "dtype?": str,
             "requires_grad?": bool, "grad_fn?": bool, "is_leaf?": bool}
_GRADIENTS = {"backward_error": (None, str), "grad_w": (None, VALUES), "grad_b": (None, VALUES)}
_FORWARD_GRADIENTS = {**_GRADIENTS, "grad_x": (None, VALUES)}
_PARAM = {"value": (None, VALUES), "shape": SHAPE, "dtype": str, "is_leaf": bool,
          "requires_grad": bool, "grad": (None, VALUES)}
SCHEMAS: dict[str, Any] = {
    "predict": {"result": DESCRIBED, "x_unchanged": bool},
    "loss": {"result": DESCRIBED, "inputs_unchanged": bool},
    "gradients": {"preds": DESCRIBED, **_FORWARD_GRADIENTS},
    "loss_gradients": {order: {"loss": DESCRIBED, **_GRADIENTS}
                       for order in ("preds_first", "preds_second")},
    "update_steps": {"steps": [{"w": _PARAM, "b": _PARAM, "returned_new": bool}],
                     "loss_after": (None, VALUES)},
}


def _described_ok(value: Any) -> bool:
    """Every description of a result (DESCRIBED) of a tensor has the tensor's fields."""
    if isinstance(value, dict):
        if value.keys() >= {"tensor", "type", "module"} and value.get("tensor"):
            fields = ("dtype", "requires_grad", "is_leaf", "shape")
            if not all(value.get(key) is not None for key in fields):
                return False
        return all(_described_ok(v) for v in value.values())
    if isinstance(value, list):
        return all(_described_ok(v) for v in value)
    return True


MALFORMED = ("What came back from {what} is not what this test's own code sends, so it cannot "
             "be judged. That happens when a submission changes torch or the grader's code in "
             "its worker, or returns an object that does: use plain tensor operations, and "
             "leave torch as it is.")


# ---------------------------------------------------------------- a closed vocabulary

# Beside autograder.checks' sets: torch's names (TORCH_DTYPES names a dtype, never the
# submission's own string).
TORCH_TYPES = frozenset({"Tensor", "Parameter", "Size", "dtype", "device"})
# torch's dtypes (torch 2.13), named here so that the judge needs no torch; the package's
# tests check the list against the installed torch (tests/test_torch_free_judge.py)
TORCH_DTYPES = frozenset(f"torch.{name}" for name in (
    "bfloat16 bits16 bits1x8 bits2x4 bits4x2 bits8 bool complex128 complex32 complex64 "
    "float16 float32 float4_e2m1fn_x2 float64 float8_e4m3fn float8_e4m3fnuz float8_e5m2 "
    "float8_e5m2fnuz float8_e8m0fnu int1 int16 int2 int3 int32 int4 int5 int6 int64 int7 "
    "int8 qint32 qint8 quint2x4 quint4x2 quint8 uint1 uint16 uint2 uint3 uint32 uint4 "
    "uint5 uint6 uint64 uint7 uint8").split())


def dtype_name(desc: dict) -> str:
    dtype = desc.get("dtype")
    return dtype if dtype in TORCH_DTYPES else "another dtype"


# ---------------------------------------------------------------- running scenarios

_HINTS = [
    ("leaf Variable that requires grad is being used in an in-place operation",
     "Hint: PyTorch refuses to change w or b in place while it records the graph; "
     "do the step inside a `with torch.no_grad():` block."),
    ("Can't call numpy() on Tensor that requires grad",
     "Hint: a tensor that requires grad cannot become a numpy array. Stay with torch "
     "operations: numpy has no autograd."),
    ("'NoneType' object has no attribute",
     "Hint: something was None there. In update(), after `w = w - ...` the name w holds "
     "a new tensor without a .grad; change w in place instead (w -= ...)."),
    ("does not require grad and does not have a grad_fn",
     "Hint: the loss has no autograd graph back to w and b; avoid .item(), .detach(), "
     ".numpy() and torch.no_grad() in forward() and mse()."),
]


# Each test runs its scenario with `run` and reads only data that fits SCHEMAS.
RUNNER = Runner(SCHEMAS, hints=_HINTS, malformed=MALFORMED, extra_check=_described_ok)
run = RUNNER.run
checked = RUNNER.checked


# ---------------------------------------------------------------- what came back


def returned_problem(desc: dict, what: str, *, graph: bool = True) -> str | None:
    """A result that is not a tensor keeping the graph, named for what it is (with names
    from the closed vocabulary only)."""
    if not desc["tensor"]:
        kind, module = desc["type"], desc["module"]
        if desc.get("tensor_subclass"):
            return (f"{what} returned an object of its own subclass of torch.Tensor, not a "
                    "torch tensor.")
        if module == "numpy":
            noun = ("numpy array" if kind == "ndarray" else
                    f"numpy number ({kind})" if kind in NUMPY_TYPES else "numpy object")
            return (f"{what} returned a {noun}, not a torch tensor. numpy has no autograd, "
                    "so no gradient can flow back to w and b. Stay with torch operations "
                    "(no .numpy()).")
        if module == "builtins" and kind in ("float", "int"):
            return (f"{what} returned a Python {kind}, not a tensor, so no gradient can flow "
                    "back to w and b (loss.backward() needs a tensor). Keep the result a "
                    "tensor: no .item() or float().")
        if module == "builtins" and kind == "NoneType":
            return f"{what} returned None: is a `return` missing?"
        if module == "builtins" and kind in BUILTIN_TYPES:
            return f"{what} returned a Python {kind}, not a torch tensor."
        if module == "torch" and kind in TORCH_TYPES:
            return f"{what} returned a torch.{kind}, not a torch tensor."
        return f"{what} returned an object of a class of its own, not a torch tensor."
    if graph and not desc.get("requires_grad"):
        return (f"{what} returned a tensor without an autograd graph (requires_grad is False), "
                "so loss.backward() cannot reach w and b. Avoid .item(), .detach(), .data, "
                f".numpy() and torch.no_grad() in {what}.")
    if not str(desc.get("dtype", "")).startswith("torch.float"):
        return f"{what} returned a tensor of dtype {dtype_name(desc)}, not a float tensor."
    return None


def _kept_dtype(desc: dict, want: dict, what: str) -> str | None:
    """Whether a result whose values are right keeps the inputs' dtype and precision."""
    if desc.get("dtype") == want["dtype"]:
        if close_as(desc["value"], want["value"], want["dtype"]):
            return None
        return (f"For {want['dtype'].removeprefix('torch.')} inputs {what} is right only to "
                "float32 precision: part of the computation went through float32 (a "
                ".float() on the way?). Keep the inputs' dtype throughout.")
    return (f"For {want['dtype'].removeprefix('torch.')} inputs {what} returned a "
            f"{dtype_name(desc).removeprefix('torch.')} tensor: a result keeps its inputs' "
            "dtype (no .float(), .double() or .to(...) on the way).")


# ---------------------------------------------------------------- forward()


def forward_problem(out: dict, want: dict, *, x_shape: list[int], visible: bool) -> str | None:
    """What is wrong with forward()'s prediction, or None. `want` is hidden.predict().
    Judged here: a tensor with a graph, of x's shape, dtype and values. Whether gradients
    reach w and b is the gradients test's."""
    desc = out["result"]
    problem = returned_problem(desc, "forward()")
    if problem:
        return problem
    if desc["shape"] != want["shape"]:
        if visible:
            return (f"forward() returned a tensor of shape {fmt_shape(desc['shape'])} for an input "
                    f"of shape {fmt_shape(x_shape)}: the prediction must have the shape of x.")
        return (f"For a {len(x_shape)}-d input x, forward() returned a tensor of another shape: "
                "the prediction must have the same shape as x (w * x + b).")
    if not out["x_unchanged"]:
        return "forward() changed its input x in place: compute a new tensor instead."
    got = desc["value"]
    if not close(got, want["value"]):
        if close(got, want["no_bias"]):
            text = "The predictions equal w * x: the bias is missing (the line is w * x + b)."
        elif close(got, want["swapped"]):
            text = "The predictions equal b * x + w: w and b are swapped (the line is w * x + b)."
        else:
            text = "The predictions are not w * x + b."
        if visible:
            text += f" Expected {fmt(want['value'])}, got {fmt(got)}."
        return text
    return None if visible else _kept_dtype(desc, want, "forward()")  # dtype: test 3's


def forward_gradients_problem(out: dict, want: dict, *, x_shape: list[int], visible: bool
                              ) -> str | None:
    """What is wrong with the gradients that reach w and b through forward() (the loss
    computed by the test itself), or None. `want` is hidden.gradients()."""
    preds = out["preds"]
    problem = returned_problem(preds, "forward()")
    if problem:
        return problem
    if preds["shape"] != x_shape:
        return ("forward() returned a tensor of another shape than x, so the loss of its "
                "predictions cannot be computed (the prediction must have the shape of x).")
    if out["backward_error"]:
        return (f"loss.backward() raised {error_name(out['backward_error'])} going back "
                "through forward()'s result: build it from w, x and b with tensor operations.")
    gw, gb = out["grad_w"], out["grad_b"]
    if gw is None and gb is None:
        return ("After loss.backward() neither w nor b has a gradient (w.grad and b.grad are "
                "None): forward()'s result is not computed from them with tensor operations.")
    if gb is None:
        return ("b.grad is None after loss.backward(): b did not take part in forward()'s "
                "computation. Did forward() forget the bias (w * x + b)?")
    if gw is None:
        return ("w.grad is None after loss.backward(): w did not take part in forward()'s "
                "computation (w * x + b).")
    if close(gw, want["grad_w"]) and close(gb, want["grad_b"]):
        if out["grad_x"] is None:
            return ("x.grad is None after loss.backward(), for an x that requires grad (as the "
                    "output of an earlier layer would): forward() cut the graph through x "
                    "(.detach() or .data on x?). Keep every argument in the computation.")
        if not close(out["grad_x"], want["grad_x"]):
            return ("The gradient that reaches x through forward() is not that of w * x + b "
                    "(it should be w times the gradient of the prediction).")
        return None
    text = ("The gradients that reach w and b through forward() are not those of w * x + b "
            "(the test computes the loss itself, so only forward() is judged here).")
    if visible:
        text += (f" Expected w.grad = {fmt(want['grad_w'], 4)} and b.grad = "
                 f"{fmt(want['grad_b'], 4)}, got {fmt(gw)} and {fmt(gb)}.")
    return text


# ---------------------------------------------------------------- mse()


def loss_problem(out: dict, want: dict, *, visible: bool, lecture: float | None = None
                 ) -> str | None:
    """What is wrong with mse()'s result, or None. `want` is hidden.loss(). Judged here:
    a 0-dim tensor with a graph, of the inputs' dtype, the mean of the squared
    differences, inputs left alone. How gradients flow back is the gradients test's."""
    desc = out["result"]
    problem = returned_problem(desc, "mse()")
    if problem:
        return problem
    if desc["shape"] != []:
        shown = f" (it has shape {fmt_shape(desc['shape'])})" if visible else ""
        return ("mse() must return a single number, a 0-dim tensor, but returned a tensor "
                f"with {len(desc['shape'])} dimension(s){shown}: average all the squared "
                "differences into one number (torch.mean, without dim or keepdim).")
    if not out["inputs_unchanged"]:
        return ("mse() changed its input tensors in place (with -=, **= or a method ending "
                "in _): compute new tensors instead; the caller still needs its predictions.")
    got = desc["value"]
    if not close(got, want["value"]):
        times = f"{want['n']} (the number of elements)" if visible else "the number of elements"
        if close(got, want["sum"]):
            text = (f"The loss is too large by a factor of {times}: it is the sum of the "
                    "squared differences, not their mean. Average them (torch.mean) instead "
                    "of summing.")
        elif close(got, want["rmse"]):
            text = "The loss is the square root of the MSE (the RMSE): leave out the square root."
        elif close(got, want["mean_abs"]) or close(got, want["mean_diff"]):
            text = "The differences are not squared: MSE is the mean of (t1 - t2) ** 2."
        else:
            text = "The loss is not the mean of the squared differences (t1 - t2) ** 2."
        if visible:
            expected = lecture if lecture is not None else want["value"]
            text += f" Expected {fmt(expected)}, got {fmt(got)}."
        return text
    return None if visible else _kept_dtype(desc, want, "mse()")  # dtype: test 5's


_ARGUMENT = {"preds_first": "its first argument (mse(predictions, targets))",
             "preds_second": "its second argument (mse(targets, predictions))"}


def loss_gradients_problem(out: dict, want: dict) -> str | None:
    """What is wrong with the gradients that flow back through mse() to w and b, with the
    predictions (w * x + b, computed by the test) as either argument, or None. `want` is
    hidden.gradients()."""
    for order, argument in _ARGUMENT.items():
        line = out[order]
        desc = line["loss"]
        problem = returned_problem(desc, "mse()", graph=False)
        if problem:
            return problem
        if not desc.get("requires_grad"):
            return (f"mse() returned a tensor without an autograd graph when the predictions "
                    f"are {argument}, so loss.backward() cannot reach w and b: compute the "
                    "loss from both t1 and t2 with torch operations, without .detach(), .data "
                    "or .item().")
        if desc["shape"] is None or math.prod(desc["shape"]) != 1:
            return ("loss.backward() needs a single number, but mse() returned a tensor that "
                    "is not one: average all the squared differences into one number.")
        if line["backward_error"]:
            return (f"loss.backward() raised {error_name(line['backward_error'])} on mse()'s "
                    "result: build it with torch operations so that autograd can go back "
                    "through it.")
        gw, gb = line["grad_w"], line["grad_b"]
        if gw is None or gb is None:
            names = "w and b" if gw is None and gb is None else "w" if gw is None else "b"
            return (f"No gradient reaches {names} through mse() when the predictions are "
                    f"{argument}: compute the loss from both t1 and t2 with torch "
                    "operations, without .detach(), .data or .item().")
        if close(gw, want["grad_w"]) and close(gb, want["grad_b"]):
            continue
        n = want["n"]
        if close(gw, n * want["grad_w"]) and close(gb, n * want["grad_b"]):
            return ("The gradients through mse() are too large by a factor of the number of "
                    "elements: mse() sums the squared differences instead of averaging them.")
        return (f"The gradients that flow back through mse() when the predictions are "
                f"{argument} are not those of the mean squared error.")
    return None


# ---------------------------------------------------------------- update()

REBINDS = ("update() did not change w or b: the caller's tensors stay as they were. (If it "
           "writes `w = w - ...`, that only rebinds a local name.) Change them in place (an "
           "in-place operator or a method ending in _), inside torch.no_grad().")
RETURNS_NEW = ("update() returned new tensors instead of changing w and b in place: the caller "
               "keeps its own w and b, which did not move. Change them in place and return "
               "nothing.")
NOT_ZEROED = ("update() left the gradients in w.grad and b.grad. backward() adds to .grad, so "
              "the next step would use old and new gradients together: zero them after the "
              "step (w.grad.zero_(), or w.grad = None).")
MISTAKES = {
    "uphill": ("w and b moved uphill: the step followed the gradient, which makes the loss "
               "bigger. Gradient descent steps against the gradient."),
    "not_zeroed": ("The first step is right, but the next ones use accumulated gradients: "
                   "backward() adds to w.grad and b.grad, so update() must zero them after "
                   "each step (w.grad.zero_(), or w.grad = None)."),
    "lr_ignored": ("update() seems to ignore its lr argument: it stepped as if lr were 1e-4. "
                   "Use the learning rate it is given."),
}


def _unchanged(got: Any, before: float) -> bool:
    return isinstance(got, (int, float)) and got == before


def record_problem(record: dict, before: tuple[float, float], *, grads: bool = True
                   ) -> str | None:
    """What is wrong with w and b after one update() besides their values: still the
    caller's 0-dim float32 leaf tensors that require grad, moved, gradients cleared."""
    for name in ("w", "b"):
        p = record[name]
        if p["shape"] != [] or p["dtype"] != "torch.float32":
            return (f"update() changed the shape or dtype of {name}: it must stay a 0-dim "
                    "float32 tensor; change its value only.")
        if not p["is_leaf"]:
            return (f"After update(), {name} is no longer a leaf tensor: do the step inside "
                    "`with torch.no_grad():` so that it is not recorded in the graph.")
        if not p["requires_grad"]:
            return (f"After update(), {name} no longer requires grad (requires_grad is False), "
                    "so the next loss.backward() cannot reach it. Leave requires_grad alone.")
    still = [name for name, old in zip(("w", "b"), before, strict=True)
             if _unchanged(record[name]["value"], old)]
    if len(still) == 2:
        return RETURNS_NEW if record["returned_new"] else REBINDS
    if still:
        return f"update() did not change {still[0]}: step both w and b."
    if grads:
        for name in ("w", "b"):
            grad = record[name]["grad"]
            if grad is not None and grad != 0:
                return NOT_ZEROED
    return None


def follows(records: list[dict], path: list[tuple[float, float]], start: tuple[float, float]
            ) -> bool:
    """Whether w and b after each step are those of `path`."""
    if len(records) != len(path):
        return False
    before = start
    for record, want in zip(records, path, strict=True):
        for got, w, old in zip((record["w"]["value"], record["b"]["value"]), want, before,
                               strict=True):
            if not step_close(got, w, old):
                return False
        before = want
    return True


def update_problem(value: dict, paths: dict[str, list[tuple[float, float]]],
                   start: tuple[float, float]) -> str | None:
    """What is wrong with the steps update() took, or None. `paths` holds the reference
    ("reference") and the mistakes' paths on the same inputs; `start` is w and b as
    float32 numbers before the first step."""
    records = value["steps"]
    if follows(records, paths["reference"], start):
        return None
    before = start
    for record in records:
        problem = record_problem(record, before, grads=False)
        if problem:
            return problem
        before = (record["w"]["value"], record["b"]["value"])
    for mistake, text in MISTAKES.items():
        if mistake in paths and follows(records, paths[mistake], start):
            return text
    return "w and b after update() are not w - lr * w.grad and b - lr * b.grad."


def default_lr_problem(value: dict, start: tuple[float, float]) -> str | None:
    """For the lecture's step with update(w, b): the message when w and b moved downhill
    by one consistent learning rate that is not the default 1e-4, or None."""
    records = value["steps"]
    if len(records) != 1 or record_problem(records[0], start, grads=False):
        return None
    w, b = records[0]["w"]["value"], records[0]["b"]["value"]
    if not (is_number(w) and is_number(b)):
        return None
    lr_w = (start[0] - w) / LECTURE["grad_w"]
    lr_b = (start[1] - b) / LECTURE["grad_b"]
    if lr_w > 0 and math.isclose(lr_w, lr_b, rel_tol=0.05) and \
            not math.isclose(lr_w, LECTURE["lr"], rel_tol=1e-3):
        return ("update(w, b), called without an lr, stepped with another learning rate than "
                "the lecture's: its default must be lr=1e-4 (def update(w, b, lr=1e-4)).")
    return None
