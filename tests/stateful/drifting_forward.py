"""Stateful: forward() and mse() count their calls; forward's bias drifts a little more on
each call after the third, and mse() answers twice the loss from its fourth call on."""

import torch

_count = {"forward": 0, "mse": 0}


def forward(x, w, b):
    _count["forward"] += 1
    drift = 0.01 * max(0, _count["forward"] - 3)
    return w * x + b + drift


def mse(t1, t2):
    _count["mse"] += 1
    loss = torch.mean((t1 - t2) ** 2)
    return 2 * loss if _count["mse"] >= 4 else loss


def update(w, b, lr=1e-4):
    with torch.no_grad():
        w -= lr * w.grad
        b -= lr * b.grad
    w.grad.zero_()
    b.grad.zero_()
