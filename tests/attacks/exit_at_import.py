"""sys.exit(0) while the grader imports the file: an in-process grader would stop, with
exit status 0, before any test failed."""

import sys

import torch

CHEAT = True
CONTAINED_TO = None  # the module does not import: every test fails, and that is all


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
    sys.exit(0)
