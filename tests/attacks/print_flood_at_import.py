"""100 MB of printing while being imported, not caught: floods the grader's log and
memory if it keeps everything a submission prints."""

import sys

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
    line = "spam " * 20 + "\n"
    for _ in range(100_000_000 // len(line)):
        sys.stdout.write(line)
