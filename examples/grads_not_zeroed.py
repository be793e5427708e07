"""A typical mistake: update() steps but never zeroes the gradients."""

import torch

inputs = torch.tensor([-40.0, -10.0, 15.0, 30.0, 50.0])
targets = torch.tensor([-40.0, 14.0, 59.0, 86.0, 122.0])


def initial_parameters():
    w = torch.tensor(2.0, requires_grad=True)
    b = torch.tensor(30.0, requires_grad=True)
    return w, b


def forward(x, w, b):
    return w * x + b


def mse(t1, t2):
    diff = t1 - t2
    return torch.mean(diff**2)


def update(w, b, lr=1e-4):
    with torch.no_grad():
        w -= w.grad * lr
        b -= b.grad * lr
    # the mistake: w.grad and b.grad are not zeroed, so the next backward() adds to them
