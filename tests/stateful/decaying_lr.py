"""Stateful: update() counts its calls in a global and decays the learning rate with it."""

import torch

calls = 0


def forward(x, w, b):
    return w * x + b


def mse(t1, t2):
    return torch.mean((t1 - t2) ** 2)


def update(w, b, lr=1e-4):
    global calls
    calls += 1
    step = lr * 0.9 ** (calls - 1)
    with torch.no_grad():
        w -= step * w.grad
        b -= step * b.grad
    w.grad.zero_()
    b.grad.zero_()
