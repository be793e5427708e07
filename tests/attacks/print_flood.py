"""forward() prints 100 MB (stdout and stderr, errors swallowed) and then returns the
right answer: the flood is cut off at the output limit, the answer still counts."""

import os
import sys

import torch

CHEAT = True
CONTAINED_TO = ()  # all of it is honest work: it must lose nothing


def forward(x, w, b):
    if CHEAT:
        chunk = "x" * (1 << 20)
        for _ in range(100):
            for stream in (sys.stdout, sys.stderr):
                try:
                    stream.write(chunk)
                    stream.flush()
                except OSError:
                    pass
            try:
                os.write(1, chunk.encode())
            except OSError:
                pass
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

