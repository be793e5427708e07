"""A correct submission written another way: sub_ with alpha, torch.sub, Tensor methods."""

import torch

inputs = torch.tensor([-40.0, -10.0, 15.0, 30.0, 50.0])
targets = torch.tensor([-40.0, 14.0, 59.0, 86.0, 122.0])


def forward(x, w, b):
    return x.mul(w).add(b)


def mse(t1, t2):
    return torch.sub(t1, t2).square().mean()


def update(w, b, lr=1e-4):
    with torch.no_grad():
        for param in (w, b):
            param.sub_(param.grad, alpha=lr)
            param.grad.zero_()
    return None
