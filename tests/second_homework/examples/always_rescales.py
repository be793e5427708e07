"""A typical mistake: clip_norm() rescales every vector to max_norm, even a short one."""

import numpy as np


def standardize(x):
    return (x - x.mean()) / x.std()


def softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def clip_norm(v, max_norm):
    return v * (max_norm / np.linalg.norm(v))  # the mistake: a short vector must stay as it is
