"""Correct, and spends 2 CPU-seconds at import (a student's own demo at the top of the
file): at half a CPU that is 4 s of wall clock, and it must still earn full marks."""

import time

import torch

_started = time.process_time()
while time.process_time() - _started < 2.0:
    pass


def forward(x, w, b):
    return w * x + b


def mse(t1, t2):
    return torch.mean((t1 - t2) ** 2)


def update(w, b, lr=1e-4):
    with torch.no_grad():
        w -= lr * w.grad
        b -= lr * b.grad
    w.grad.zero_()
    b.grad.zero_()
