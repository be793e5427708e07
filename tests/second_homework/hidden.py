"""The judge's side of the stats homework: the public examples, the hidden inputs, and the
reference's answers on them (with what the usual mistakes give). Trusted code only: the
whole folder is off limits to workers, and nothing here but PUBLIC may reach a student.

The hidden inputs come from a fixed seed, so a regrade gives the same score: two-decimal
numbers, never whole. The answers are computed with numpy, imported only in the functions
that compute them: a grading reads them from answers.json (autograder.judge.expected),
so the judge imports neither numpy nor the reference to grade.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from autograder.checks import numbers_in
from autograder.homework import Homework, load_module
from autograder.judge import expected

HERE = Path(__file__).resolve().parent
SEED = 20506  # changing it changes every hidden input: do it only between terms

# What the visible tests use; their values may be shown to students.
PUBLIC = {
    "standardize": [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0],  # mean 5, population std 2
    "standardize_z": [-1.5, -0.5, -0.5, -0.5, 0.0, 0.0, 1.0, 2.0],
    "softmax": [[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]],  # 2-d: each row sums to 1
    "clip_long": [3.0, 4.0],  # norm 5
    "clip_short": [0.3, 0.4],  # norm 0.5
    "max_norm": 1.0,
}


# ---------------------------------------------------------------- the reference


def load_reference() -> ModuleType:
    """The reference (homework.toml's), imported by path under a name no submission uses."""
    return load_module(Homework.load(HERE).reference, "_reference_stats")


# ---------------------------------------------------------------- the hidden inputs


def _number(rng: random.Random, low: float, high: float) -> float:
    """A two-decimal number in [low, high] that is not a whole number."""
    while True:
        value = round(rng.uniform(low, high), 2)
        if round(value * 100) % 100 != 0:
            return value


def _vector(rng: random.Random, n: int, low: float, high: float) -> list[float]:
    return [_number(rng, low, high) for _ in range(n)]


def _norm(values: list[float]) -> float:
    return sum(v * v for v in values) ** 0.5


@dataclass(frozen=True)
class Hidden:
    """Every hidden input, as the plain data the scenarios receive."""

    standardize: list[dict]  # x: 1-d
    softmax: list[dict]  # x: 1-d and 2-d, moderate values
    softmax_large: list[dict]  # x: values far beyond exp's range (|x| > 710)
    clip_long: list[dict]  # v, max_norm: the norm of v is well above max_norm
    clip_short: list[dict]  # v, max_norm: the norm of v is well below max_norm


def hidden_inputs(seed: int = SEED) -> Hidden:
    rng = random.Random(seed)
    standardize = [{"x": _vector(rng, n, low, high)}
                   for n, low, high in ((5, -50, 50), (9, 0, 10), (13, -3, 3), (6, 990, 1010))]
    softmax = [{"x": _vector(rng, 6, -5, 5)},
               {"x": [_vector(rng, 4, -5, 5) for _ in range(3)]},
               {"x": [_vector(rng, 2, -5, 5) for _ in range(4)]}]
    softmax_large = [{"x": _vector(rng, 5, 750, 1000)},
                     {"x": [_vector(rng, 4, 750, 1000), _vector(rng, 4, -1000, -750)]}]

    def clip(n: int, *, long: bool) -> dict:
        """A vector whose norm is well above max_norm (long) or well below it."""
        while True:
            if long:
                v, max_norm = _vector(rng, n, -9, 9), _number(rng, 0.5, 6)
            else:
                v, max_norm = _vector(rng, n, -1, 1), _number(rng, 3, 9)
            if (_norm(v) > 1.5 * max_norm) if long else (_norm(v) < 0.7 * max_norm):
                return {"v": v, "max_norm": max_norm}

    clip_long = [clip(n, long=True) for n in (3, 5, 8)]
    clip_short = [clip(n, long=False) for n in (3, 4, 6)]
    return Hidden(standardize, softmax, softmax_large, clip_long, clip_short)


# ---------------------------------------------------------------- the expected answers


def _answer(function: str, compute: Any, **args: Any) -> dict:
    """An expected answer (autograder.judge.expected): read from answers.json when a
    grading runs, else computed now (with numpy and the reference) and saved with the plan."""
    key = json.dumps(["stats", function, args], sort_keys=True)
    return expected(key, lambda: compute(load_reference(), **args))


def _plain(array: Any) -> Any:
    import numpy as np

    return np.asarray(array, dtype=np.float64).tolist()


def _standardize(ref: ModuleType, x: list[float]) -> dict:
    import numpy as np

    a = np.array(x, dtype=np.float64)
    centered = a - a.mean()
    return {"value": _plain(ref.standardize(a.copy())),
            "sample_std": _plain(centered / a.std(ddof=1)),
            "not_centered": _plain(a / a.std()),
            "not_scaled": _plain(centered),
            "by_variance": _plain(centered / a.var())}


def _softmax(ref: ModuleType, x: list) -> dict:
    import numpy as np

    a = np.array(x, dtype=np.float64)
    whole = np.exp(a - a.max())
    first = np.exp(a - a.max(axis=0, keepdims=True))
    return {"value": _plain(ref.softmax(a.copy())),
            "whole_array": _plain(whole / whole.sum()),
            "first_axis": _plain(first / first.sum(axis=0, keepdims=True))}


def _clip_norm(ref: ModuleType, v: list[float], max_norm: float) -> dict:
    import numpy as np

    a = np.array(v, dtype=np.float64)
    norm = float(np.linalg.norm(a))
    return {"value": _plain(ref.clip_norm(a.copy(), max_norm)),
            "always_rescaled": _plain(a * (max_norm / norm)),
            "unit_norm": _plain(a / norm),
            "elementwise": _plain(np.clip(a, -max_norm, max_norm)),
            "not_divided": _plain(a * max_norm)}


def standardize(x: list[float]) -> dict:
    return _answer("standardize", _standardize, x=x)


def softmax(x: list) -> dict:
    return _answer("softmax", _softmax, x=x)


def clip_norm(v: list[float], max_norm: float) -> dict:
    return _answer("clip_norm", _clip_norm, v=v, max_norm=max_norm)


def all_hidden_numbers(seed: int = SEED) -> list[float]:
    """Every hidden input and every answer on them: what must never reach a student. For
    the package's own tests, which scan the feedback for them."""
    h = hidden_inputs(seed)
    data: list[Any] = []
    for case in h.standardize:
        data += [case, standardize(**case)]
    for case in h.softmax + h.softmax_large:
        data += [case, softmax(**case)]
    for case in h.clip_long + h.clip_short:
        data += [case, clip_norm(**case)]
    return numbers_in(*data)
