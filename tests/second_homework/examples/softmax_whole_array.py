"""A typical mistake: softmax() normalizes over the whole array, not along the last axis."""

import numpy as np


def standardize(x):
    return (x - x.mean()) / x.std()


def softmax(x):
    e = np.exp(x - x.max())
    return e / e.sum()  # the mistake: each row must sum to 1, not the whole array


def clip_norm(v, max_norm):
    norm = np.linalg.norm(v)
    if norm > max_norm:
        return v * (max_norm / norm)
    return v.copy()
