"""A correct submission written another way: .data updates and `grad = None`, no no_grad()."""

import torch

inputs = torch.tensor([-40.0, -10.0, 15.0, 30.0, 50.0])
targets = torch.tensor([-40.0, 14.0, 59.0, 86.0, 122.0])


def forward(x, w, b):
    return torch.addcmul(b, x, w)


def mse(t1, t2):
    return (t1 - t2).pow(2).sum() / t1.numel()


def update(w, b, lr=1e-4):
    w.data = w.data - lr * w.grad.data
    b.data -= lr * b.grad.data
    w.grad = None
    b.grad = None
