"""A correct submission written another way: update() steps w and b in place and also
returns copies of them (the spec says to return nothing, but the caller's w and b are
right, and a caller that ignores the return value loses nothing)."""

import torch

inputs = torch.tensor([-40.0, -10.0, 15.0, 30.0, 50.0])
targets = torch.tensor([-40.0, 14.0, 59.0, 86.0, 122.0])


def forward(x, w, b):
    return w * x + b


def mse(t1, t2):
    return ((t1 - t2) ** 2).mean()


def update(w, b, lr=1e-4):
    with torch.no_grad():
        w -= lr * w.grad
        b -= lr * b.grad
    w.grad.zero_()
    b.grad.zero_()
    return w.detach().clone(), b.detach().clone()
