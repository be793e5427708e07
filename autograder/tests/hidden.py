"""The judge's side of the hidden tests: the lecture's numbers, the hidden inputs, and the
reference solution's answers on them. Trusted code only: this file is never loaded
into a worker (the whole folder is off limits to workers).

The hidden inputs come from a fixed seed, so a regrade gives the same score. They are
plain numbers with two decimals, negative and fractional, in 0-d to 3-d shapes (more than
one shape of each), float32 and float64.
Nothing from here but the lecture's numbers may appear in a message to the student.

The answers are computed with torch, but a grading reads them from answers.json (see
judge.Answers, computed when the plan is settled): torch is imported here only in the
functions that compute them, so the judge process never imports it to grade.
"""

from __future__ import annotations

import functools
import inspect
import json
import math
import os
import random
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from autograder.checks import numbers_in
from autograder.homework import Homework, load_module
from autograder.judge import expected

if TYPE_CHECKING:
    import torch

ROOT = Path(__file__).resolve().parents[2]  # answers are keyed by paths relative to it
REFERENCE = Homework.load(Path(__file__).resolve().parent).reference
SEED = 30417  # changing it changes every hidden input: do it only between terms

# The lecture's data, its starting point, and every number it shows (DESIGN.md).
LECTURE = {
    "inputs": [-40.0, -10.0, 15.0, 30.0, 50.0],
    "targets": [-40.0, 14.0, 59.0, 86.0, 122.0],
    "w": 2.0,
    "b": 30.0,
    "lr": 1e-4,
    "x": 20.0,
    "predict_x": 70.0,
    "preds": [-50.0, 10.0, 60.0, 90.0, 130.0],
    "loss": 39.4,
    "grad_w": 390.0,
    "grad_b": -0.4,
    "w_after": 1.961,
    "b_after": 30.00004,
    "preds_after": [-48.44, 10.39, 59.415, 88.83, 128.05],
    "loss_after": 25.8098,
}


def load_reference(path: Path = REFERENCE) -> ModuleType:
    """The reference solution, imported by path under a name no submission uses."""
    return load_module(path, "_reference_regression")


class Reference:
    """The reference solution by path, imported (and torch with it) only when an answer
    is computed: a grading whose answers all come from answers.json never imports it."""

    def __init__(self, path: Path = REFERENCE) -> None:
        self.__file__ = str(path)

    def __getattr__(self, name: str) -> Any:
        return getattr(load_reference(Path(self.__file__)), name)


# ---------------------------------------------------------------- the hidden inputs


def _number(rng: random.Random, low: float, high: float, *, away_from: float = 0.0) -> float:
    """A two-decimal number in [low, high], not a whole number, at least 0.5 from
    `away_from` (so a missing bias or a wrong sign always shows)."""
    while True:
        value = round(rng.uniform(low, high), 2)
        if round(value * 100) % 10 != 0 and abs(value - away_from) >= 0.5:
            return value


def _vector(rng: random.Random, n: int, low: float, high: float) -> list[float]:
    return [_number(rng, low, high) for _ in range(n)]


@dataclass(frozen=True)
class Hidden:
    """Every hidden input, as the plain data the scenarios receive."""

    forward: list[dict]  # x (0-d to 3-d), w, b, dtype
    loss: list[dict]  # t1, t2 (1-d to 3-d), dtype
    gradients: dict  # x, y, w, b: the line's gradients through mse()
    trajectory: dict  # x, y, w, b, lr, steps


def hidden_inputs(seed: int = SEED) -> Hidden:
    rng = random.Random(seed)

    def params(w_low: float, w_high: float) -> dict:
        return {"w": _number(rng, w_low, w_high, away_from=2.0),
                "b": _number(rng, -40.0, 40.0, away_from=30.0)}

    forward = [
        {"x": _number(rng, -60, 60), **params(-3.5, -0.5)},
        {"x": _vector(rng, 7, -60, 60), **params(0.5, 3.5)},
        {"x": [_vector(rng, 4, -60, 60) for _ in range(3)], **params(-3.5, 3.5)},
    ]
    loss = [
        {"t1": _vector(rng, 7, -90, 90), "t2": _vector(rng, 7, -90, 90)},
        {"t1": [_vector(rng, 3, -20, 20) for _ in range(2)],
         "t2": [_vector(rng, 3, -20, 20) for _ in range(2)]},
    ]
    gradients = {"x": _vector(rng, 6, -50, 50), "y": _vector(rng, 6, -60, 120),
                 **params(-3.5, 3.5)}

    def small_data(n: int) -> dict:
        # small inputs, so that a learning rate well above 1e-4 converges
        return {"x": _vector(rng, n, -3, 3), "y": _vector(rng, n, -9, 9),
                **params(-2.5, 2.5)}

    trajectory = {**small_data(6), "lr": 0.05, "steps": 4}

    def matrix(*shape: int, low: float = -60, high: float = 60) -> list:
        if len(shape) == 1:
            return _vector(rng, shape[0], low, high)
        return [matrix(*shape[1:], low=low, high=high) for _ in range(shape[0])]

    # more shapes of each dimension, 3-d, and float64 (whose results stay float64)
    forward += [
        {"x": matrix(3), **params(0.5, 3.5)},
        {"x": matrix(2, 5), **params(-3.5, -0.5)},
        {"x": matrix(2, 3, 2), **params(-3.5, 3.5)},
        {"x": _number(rng, -60, 60), **params(0.5, 3.5), "dtype": "float64"},
        {"x": matrix(2, 1, 3), **params(-3.5, 3.5), "dtype": "float64"},
    ]
    loss += [
        {"t1": matrix(4, low=-90, high=90), "t2": matrix(4, low=-90, high=90)},
        {"t1": matrix(4, 2, low=-20, high=20), "t2": matrix(4, 2, low=-20, high=20)},
        {"t1": matrix(2, 3, 2, low=-20, high=20), "t2": matrix(2, 3, 2, low=-20, high=20)},
        {"t1": matrix(3, 1, 4, low=-20, high=20), "t2": matrix(3, 1, 4, low=-20, high=20)},
        {"t1": matrix(5, low=-90, high=90), "t2": matrix(5, low=-90, high=90),
         "dtype": "float64"},
        {"t1": matrix(2, 2, 3, low=-20, high=20), "t2": matrix(2, 2, 3, low=-20, high=20),
         "dtype": "float64"},
    ]
    for case in forward + loss:
        case.setdefault("dtype", "float32")
    return Hidden(forward, loss, gradients, trajectory)


# ---------------------------------------------------------------- the reference answers


def _answers(compute: Callable[..., Any]) -> Callable[..., Any]:
    """The reference's answers depend only on the inputs: an expected answer (judge.expected),
    read from answers.json or computed once, keyed by the function, the reference's file
    (relative to the checkout, the same in the zip) and the arguments by name."""
    signature = inspect.signature(compute)

    @functools.wraps(compute)
    def answer(ref: ModuleType, *args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(ref, *args, **kwargs)
        bound.apply_defaults()
        arguments = dict(bound.arguments)
        del arguments[next(iter(signature.parameters))]
        file = getattr(ref, "__file__", None)
        where = os.path.relpath(file, ROOT) if file else repr(ref)  # never shipped
        key = json.dumps([compute.__name__, where, arguments], sort_keys=True, default=repr)
        return expected(key, lambda: compute(ref, *args, **kwargs))

    return answer


def _t(value: Any, dtype: str = "float32") -> torch.Tensor:
    import torch

    return torch.tensor(value, dtype=getattr(torch, dtype))


def _leaf(value: Any, dtype: str = "float32") -> torch.Tensor:
    import torch

    return torch.tensor(value, dtype=getattr(torch, dtype), requires_grad=True)


def _plain(tensor: torch.Tensor) -> Any:
    import torch

    return tensor.detach().to(torch.float64).tolist()


@_answers
def predict(ref: ModuleType, x: Any, w: float, b: float, dtype: str = "float32") -> dict:
    """The reference prediction, its shape and dtype; and what common mistakes give."""
    xt, wt, bt = _t(x, dtype), _leaf(w, dtype), _leaf(b, dtype)
    y = ref.forward(xt, wt, bt)
    return {"value": _plain(y), "shape": list(y.shape), "dtype": str(y.dtype),
            "no_bias": _plain(wt.detach() * xt), "swapped": _plain(bt.detach() * xt + wt.detach())}


@_answers
def loss(ref: ModuleType, t1: Any, t2: Any, dtype: str = "float32") -> dict:
    """The reference loss and its dtype; and what common mistakes give."""
    a, b = _t(t1, dtype), _t(t2, dtype)
    value = ref.mse(a, b)
    diff = a - b
    return {"value": value.item(), "dtype": str(value.dtype), "n": diff.numel(),
            "sum": (diff**2).sum().item(), "rmse": (diff**2).mean().sqrt().item(),
            "mean_abs": diff.abs().mean().item(), "mean_diff": diff.mean().item()}


@_answers
def gradients(ref: ModuleType, x: Any, y: Any, w: float, b: float) -> dict:
    """The gradients of the loss of w * x + b for w, b and x (the reference's forward and
    mse: the same whichever of the two the scenario takes from the student)."""
    xt, wt, bt = _leaf(x), _leaf(w), _leaf(b)
    ref.mse(ref.forward(xt, wt, bt), _t(y)).backward()
    return {"grad_w": wt.grad.item(), "grad_b": bt.grad.item(), "grad_x": _plain(xt.grad),
            "n": len(x)}


def trajectory(step: Any, x: Any, y: Any, w: float, b: float, lr: float, steps: int
               ) -> list[tuple[float, float]]:
    """w and b after each of `steps` rounds of the lecture's loss, backward, and
    `step(w, b, lr)`, with the loss computed as the update_steps scenario does."""
    xt, yt, wt, bt = _t(x), _t(y), _leaf(w), _leaf(b)
    path = []
    for _ in range(steps):
        ((wt * xt + bt - yt) ** 2).mean().backward()
        step(wt, bt, lr)
        path.append((wt.item(), bt.item()))
    return path


def loss_at(x: Any, y: Any, w: float, b: float) -> float:
    return ((_t(w) * _t(x) + _t(b) - _t(y)) ** 2).mean().item()


# The ways an update() commonly goes wrong, as steps the judge can replay.


def _descend(w: torch.Tensor, b: torch.Tensor, lr: float, *, sign: float = 1.0,
             zero: bool = True) -> None:
    import torch

    with torch.no_grad():
        w -= sign * lr * w.grad
        b -= sign * lr * b.grad
    if zero:
        w.grad.zero_()
        b.grad.zero_()


MISTAKEN_UPDATES = {
    "uphill": lambda w, b, lr: _descend(w, b, lr, sign=-1.0),
    "not_zeroed": lambda w, b, lr: _descend(w, b, lr, zero=False),
    "lr_ignored": lambda w, b, lr: _descend(w, b, 1e-4),
}


def all_hidden_numbers(seed: int = SEED) -> list[float]:
    """Every hidden input and every reference answer on them: what must never reach a
    student. For the package's own tests, which scan the feedback for them."""
    ref = load_reference()
    h = hidden_inputs(seed)
    data: list[Any] = []
    for case in h.forward:
        data += [case, predict(ref, **case)]
    for case in h.loss:
        data += [case, loss(ref, **case)]
    data += [h.gradients, gradients(ref, **h.gradients)]
    for case in (h.trajectory,):
        steps = case.get("steps", 1)
        inputs = {k: case[k] for k in ("x", "y", "w", "b", "lr")}
        data += [case, trajectory(ref.update, **inputs, steps=steps),
                 loss_at(case["x"], case["y"], case["w"], case["b"])]
    return numbers_in(*data)


def float32(value: float) -> float:
    """A number as the float32 tensor a scenario builds from it holds it (rounded to the
    nearest float32, as torch.tensor(value, dtype=torch.float32) rounds it)."""
    try:
        return struct.unpack("f", struct.pack("f", value))[0]
    except OverflowError:  # beyond float32's range: torch makes it infinite
        return math.copysign(math.inf, value)


@_answers
def update_paths(ref: ModuleType, x: Any, y: Any, w: float, b: float, lr: float, steps: int
                 ) -> dict[str, list[tuple[float, float]]]:
    """The reference's path of w and b over `steps` updates, and each mistake's path."""
    updates = {"reference": ref.update, **MISTAKEN_UPDATES}
    return {name: trajectory(step, x, y, w, b, lr, steps) for name, step in updates.items()}
