"""A typical mistake: clip_norm() returns a Python list instead of a numpy array."""

import numpy as np


def standardize(x):
    return (x - x.mean()) / x.std()


def softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def clip_norm(v, max_norm):
    norm = np.linalg.norm(v)
    scale = min(1.0, max_norm / norm)
    return [value * scale for value in v]  # the mistake: a list, not an array
