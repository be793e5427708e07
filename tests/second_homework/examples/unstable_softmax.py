"""A typical mistake: softmax() exponentiates the inputs as they are: large ones overflow."""

import numpy as np


def standardize(x):
    return (x - x.mean()) / x.std()


def softmax(x):
    e = np.exp(x)  # the mistake: exp(1000) is inf, and inf / inf is nan
    return e / e.sum(axis=-1, keepdims=True)


def clip_norm(v, max_norm):
    norm = np.linalg.norm(v)
    if norm > max_norm:
        return v * (max_norm / norm)
    return v.copy()
