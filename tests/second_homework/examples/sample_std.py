"""A typical mistake: standardize() divides by the sample standard deviation (ddof=1)."""

import numpy as np


def standardize(x):
    return (x - x.mean()) / x.std(ddof=1)  # the mistake: z-scores use the population std


def softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def clip_norm(v, max_norm):
    norm = np.linalg.norm(v)
    if norm > max_norm:
        return v * (max_norm / norm)
    return v.copy()
