"""An endless loop in update(). Graded with a 2-second wall-clock limit (see the test)."""

import torch

CHEAT = True
CONTAINED_TO = ("update",)


def forward(x, w, b):
    return w * x + b


def mse(t1, t2):
    diff = t1 - t2
    return torch.mean(diff**2)


def update(w, b, lr=1e-4):
    while CHEAT:
        pass
    with torch.no_grad():
        w -= w.grad * lr
        b -= b.grad * lr
    w.grad.zero_()
    b.grad.zero_()
