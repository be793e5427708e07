"""From what a worker sent back to feedback a student of the stats homework can act on.

The generic part (running a scenario, checking its data, comparing numbers, a closed
vocabulary of names) is the engine's: autograder.checks. What is here is about this
homework's mistakes: each is named by comparing the result with what that mistake gives
on the same inputs (hidden.py computes both). Messages of hidden tests carry no number;
visible tests may show the public examples' expected and actual values.
"""

from __future__ import annotations

from typing import Any

from autograder.checks import NUMPY_TYPES, SHAPE, VALUES, Runner, close, fmt, fmt_shape, shape_of

# What each scenario sends (scenarios.py), checked before a test reads any of it.
DESCRIBED = {"type": str, "module": str, "array": bool, "subclass": bool, "shape": (None, SHAPE),
             "dtype": (None, str), "value": (None, VALUES), "finite": bool}
CALLED = {"result": DESCRIBED, "input_unchanged": bool}
RUNNER = Runner(
    {"standardize": CALLED, "softmax": CALLED, "clip_norm": CALLED},
    hints=[("overflow encountered in exp",
            "Hint: np.exp overflows for inputs above about 709; subtract the maximum first."),
           ("axis 1 is out of bounds for array of dimension 1",
            "Hint: the function must work on 1-d arrays too: name the last axis axis=-1, "
            "not axis=1.")],
    malformed=("What came back from {what} is not what this test's own code sends, so it "
               "cannot be judged. That happens when a submission changes numpy or the "
               "grader's code in its worker, or returns an object that does: use plain numpy "
               "operations, and leave numpy as it is."),
)
run = RUNNER.run


def returned_problem(desc: dict, what: str) -> str | None:
    """A result that is not a float numpy array, named for what it is (with names from
    the closed vocabulary only)."""
    if not desc["array"]:
        kind, module = desc["type"], desc["module"]
        if desc["subclass"]:
            if module == "numpy" and kind == "matrix":
                return (f"{what} returned a numpy matrix, not an array: np.matrix is always "
                        "2-d and multiplies as matrices. Return a plain np.ndarray.")
            return (f"{what} returned an object of a subclass of numpy.ndarray, not a plain "
                    "numpy array.")
        if module == "numpy" and kind in NUMPY_TYPES:
            return (f"{what} returned a numpy number ({kind}), not an array: keep one value "
                    "per input value.")
        if module == "builtins" and kind in ("list", "tuple"):
            return (f"{what} returned a Python {kind}, not a numpy array: numpy arithmetic "
                    "on arrays gives arrays (no .tolist()), and np.array(...) makes one of "
                    "a list.")
        if module == "builtins" and kind == "NoneType":
            return f"{what} returned None: is a `return` missing?"
        if module == "builtins" and kind in ("float", "int"):
            return f"{what} returned a Python {kind}, not a numpy array of the results."
        return f"{what} returned an object of another kind, not a numpy array."
    dtype = desc["dtype"]
    if not (isinstance(dtype, str) and dtype.startswith("float")):
        name = dtype if dtype in NUMPY_TYPES else "another dtype"
        return (f"{what} returned an array of {name}, not of floats: z-scores, probabilities "
                "and scaled vectors have fractions.")
    return None


def _common(out: dict, what: str, given: list, *, visible: bool) -> str | None:
    """What every function must get right: a float array of its input's shape, finite
    values, the caller's array left alone."""
    desc = out["result"]
    problem = returned_problem(desc, what)
    if problem:
        return problem
    shape = shape_of(given)
    if desc["shape"] != shape:
        shown = (f" of shape {fmt_shape(desc['shape'] or [])} for an input of shape "
                 f"{fmt_shape(shape)}") if visible else ""
        return (f"{what} returned an array{shown} of another shape than its input: it gives "
                "one value per input value.")
    if not out["input_unchanged"]:
        return (f"{what} changed the array it was given (in place: *=, -=, /= or out=): compute "
                "a new array instead; the caller still needs its data.")
    if not desc["finite"]:
        return f"{what} returned NaN or infinite values."
    return None


def _shown(text: str, want: Any, got: Any, visible: bool) -> str:
    return text + (f" Expected {fmt(want)}, got {fmt(got)}." if visible else "")


# ---------------------------------------------------------------- standardize()

_STANDARDIZE_MISTAKES = {
    "sample_std": ("standardize() divides by the sample standard deviation (ddof=1): z-scores "
                   "here use the population standard deviation, np.std's default (ddof=0)."),
    "not_centered": "standardize() does not subtract the mean before dividing by the std.",
    "not_scaled": "standardize() subtracts the mean but does not divide by the std.",
    "by_variance": ("standardize() divides by the variance, not by the standard deviation "
                    "(its square root)."),
}


def standardize_problem(out: dict, want: dict, x: list, *, visible: bool) -> str | None:
    """What is wrong with standardize(x), or None. `want` is hidden.standardize(x)."""
    problem = _common(out, "standardize()", x, visible=visible)
    if problem:
        return problem
    got = out["result"]["value"]
    if close(got, want["value"]):
        return None
    text = next((message for mistake, message in _STANDARDIZE_MISTAKES.items()
                 if close(got, want[mistake])),
                "standardize() does not give the z-scores (x - mean) / std.")
    return _shown(text, want["value"], got, visible)


# ---------------------------------------------------------------- softmax()

UNSTABLE = ("softmax() returned NaN or infinite values for large inputs: np.exp overflows "
            "(exp(1000) is inf, and inf / inf is NaN). Subtract each row's maximum "
            "(x.max(axis=-1, keepdims=True)) before np.exp: the softmax stays the same and "
            "nothing overflows.")
_SOFTMAX_MISTAKES = {
    "whole_array": ("softmax() normalizes the whole array at once: each row (the last axis) "
                    "must sum to 1 by itself. Take the max and the sum along axis=-1, with "
                    "keepdims=True."),
    "first_axis": ("softmax() normalizes along the first axis (axis=0): the softmax goes along "
                   "the last axis (axis=-1), so that each row sums to 1."),
}


def softmax_problem(out: dict, want: dict, x: list, *, visible: bool) -> str | None:
    """What is wrong with softmax(x), or None. `want` is hidden.softmax(x)."""
    desc = out["result"]
    if desc["array"] and not desc["finite"] and out["input_unchanged"]:
        return UNSTABLE
    problem = _common(out, "softmax()", x, visible=visible)
    if problem:
        return problem
    got = desc["value"]
    if close(got, want["value"]):
        return None
    text = next((message for mistake, message in _SOFTMAX_MISTAKES.items()
                 if close(got, want[mistake])),
                "softmax() does not give exp(x) / exp(x).sum() along the last axis.")
    return _shown(text, want["value"], got, visible)


# ---------------------------------------------------------------- clip_norm()

ALWAYS = ("clip_norm() changed a vector whose norm is already within max_norm: only a "
          "vector longer than max_norm is scaled down; a shorter one comes back as it is.")
_CLIP_MISTAKES = {
    "always_rescaled": ALWAYS,
    "unit_norm": ("clip_norm() scales v to norm 1, not to max_norm: multiply by "
                  "max_norm / norm."),
    "elementwise": ("clip_norm() clips each element to [-max_norm, max_norm] (np.clip): it "
                    "must scale the whole vector by max_norm / norm, which keeps its "
                    "direction."),
    "not_divided": ("clip_norm() multiplies v by max_norm without dividing by v's norm: "
                    "scale by max_norm / norm."),
}


def clip_norm_problem(out: dict, want: dict, v: list, *, visible: bool) -> str | None:
    """What is wrong with clip_norm(v, max_norm), or None. `want` is hidden.clip_norm()."""
    problem = _common(out, "clip_norm()", v, visible=visible)
    if problem:
        return problem
    got = out["result"]["value"]
    if close(got, want["value"]):
        return None
    text = next((message for mistake, message in _CLIP_MISTAKES.items()
                 if close(got, want[mistake])),
                "clip_norm() does not give v scaled to norm max_norm (when v is longer), "
                "or v itself (when it is not).")
    return _shown(text, want["value"], got, visible)
