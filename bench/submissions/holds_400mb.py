"""Correct, and holds a 400 MB tensor for as long as it is imported (a student's cached
data, say): under Gradescope's 768 MB it must still earn full marks."""

import torch

BALLAST = torch.ones(100 * 1024 * 1024)  # 100 Mi float32 numbers: 400 MiB, all touched


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
