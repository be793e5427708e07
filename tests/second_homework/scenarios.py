"""Scenarios of the stats homework: what runs inside the sandbox, one call per scenario.

Each takes the submission module `sub` and plain JSON arguments (lists and numbers),
builds float64 numpy arrays from them, calls one of the student's functions and returns
plain data only: what came back (its kind, shape, dtype and values as lists) and whether
the caller's array was left alone. No expected value lives here, and nothing is built at
import time: this module is loaded into the zygote and every worker.
"""

import numpy as np

_MAX_VALUES = 10_000  # a result larger than this is described, not sent
_FLOAT_KINDS = "biuf"  # dtypes whose values are sent (as float64): bool, ints, floats
# bound at load: the submission's patches of numpy last only while its own code runs
# (the guard), but the scenario's checks must not depend on that
_array, _asarray, _equal, _isfinite, _float64 = (np.array, np.asarray, np.array_equal,
                                                 np.isfinite, np.float64)


def _describe(obj):
    """What a student's function returned, as data. A numpy array gives its shape, dtype
    and values; anything else is converted to one when it can be (a list of numbers, a
    float), so the judge can say what it is; values that are NaN or infinite are not
    sent (finite: False)."""
    kind = type(obj)
    module = getattr(kind, "__module__", None)
    info = {
        "type": str(kind.__name__)[:100],
        "module": module.split(".")[0][:100] if isinstance(module, str) else "",
        "array": kind is np.ndarray,  # a subclass's methods are the submission's:
        "subclass": isinstance(obj, np.ndarray) and kind is not np.ndarray,  # not asked
        "shape": None,
        "dtype": None,
        "value": None,
        "finite": True,
    }
    if info["subclass"] or obj is None:  # (np.asarray(None) would be a NaN)
        return info
    if kind is np.ndarray:
        info.update(shape=[int(n) for n in obj.shape], dtype=obj.dtype.name[:40])
        if obj.dtype.kind in _FLOAT_KINDS and obj.size <= _MAX_VALUES:  # (no huge copy)
            info.update(_values(obj.astype(_float64)))
        return info
    try:
        converted = _asarray(obj, dtype=_float64)
    except Exception:  # not numbers at all (None, a string, ...)
        return info
    info.update(shape=[int(n) for n in converted.shape], **_values(converted))
    return info


def _values(array):
    """The values of a float64 array as a (nested) list, unless too many or not finite."""
    if array.size > _MAX_VALUES:
        return {}
    if not bool(_isfinite(array).all()):
        return {"finite": False}
    return {"value": array.tolist()}


def _call(function, values, *args):
    """Call a student's function on a fresh float64 array of `values`; what it returned,
    and whether the array it was given is still as it was."""
    given = _array(values, dtype=_float64)
    before = given.copy()
    result = function(given, *args)
    return {"result": _describe(result),
            "input_unchanged": bool(given.shape == before.shape and _equal(given, before))}


def standardize(sub, x):
    """standardize(x) on a 1-d array."""
    return _call(sub.standardize, x)


def softmax(sub, x):
    """softmax(x) on an array of any shape (1-d or 2-d here)."""
    return _call(sub.softmax, x)


def clip_norm(sub, v, max_norm):
    """clip_norm(v, max_norm) on a 1-d array and a float."""
    return _call(sub.clip_norm, v, float(max_norm))
