"""Stateful: update() zeroes the gradients on its first call only, after that it
forgets (a flag in a global)."""

import torch

_zeroed_once = False


def forward(x, w, b):
    return w * x + b


def mse(t1, t2):
    return torch.mean((t1 - t2) ** 2)


def update(w, b, lr=1e-4):
    global _zeroed_once
    with torch.no_grad():
        w -= lr * w.grad
        b -= lr * b.grad
    if not _zeroed_once:
        w.grad.zero_()
        b.grad.zero_()
        _zeroed_once = True
