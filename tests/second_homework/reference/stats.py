"""Three small numpy functions a model's pipeline uses: z-scores, a softmax, norm clipping.

- ``standardize(x)``: the z-scores of a 1-d array, ``(x - mean) / std`` with the
  population standard deviation (numpy's default, ``ddof=0``).
- ``softmax(x)``: the softmax along the last axis, stable for large inputs.
- ``clip_norm(v, max_norm)``: ``v`` scaled down so that its L2 norm is at most
  ``max_norm``; ``v`` as it is if its norm is already within.

Each returns a new float numpy array and leaves its input as it was.
"""

import numpy as np


def standardize(x: np.ndarray) -> np.ndarray:
    """The z-scores of a 1-d array: how many standard deviations each value is from the
    mean. Use the population standard deviation (np.std's default, ddof=0). ``x`` holds
    at least two different values."""
    return (x - x.mean()) / x.std()


def softmax(x: np.ndarray) -> np.ndarray:
    """The softmax of ``x`` along its last axis: every row (the last axis) becomes
    positive numbers that sum to 1. Stable: inputs of 1000 or more give no overflow."""
    shifted = x - x.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)


def clip_norm(v: np.ndarray, max_norm: float) -> np.ndarray:
    """``v`` scaled down to L2 norm ``max_norm`` if its norm is larger; else ``v``
    unchanged. The direction never changes, and the caller's ``v`` is left as it was."""
    norm = np.linalg.norm(v)
    if norm > max_norm:
        return v * (max_norm / norm)
    return v.copy()
