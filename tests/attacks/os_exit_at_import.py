"""os._exit(0) while the grader imports the file: no exception to catch, the process is
simply gone, with exit status 0."""

import os

import torch

CHEAT = True
CONTAINED_TO = None


def forward(x, w, b):
    return w * x + b


def mse(t1, t2):
    diff = t1 - t2
    return torch.mean(diff**2)


def update(w, b, lr=1e-4):
    with torch.no_grad():
        w -= w.grad * lr
        b -= b.grad * lr
    w.grad.zero_()
    b.grad.zero_()


if CHEAT:
    os._exit(0)
