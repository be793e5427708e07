"""A correct submission written another way: mse() averages with keepdim=True and then
squeezes the kept dimension away, so the loss is still a 0-dim tensor."""

import torch

inputs = torch.tensor([-40.0, -10.0, 15.0, 30.0, 50.0])
targets = torch.tensor([-40.0, 14.0, 59.0, 86.0, 122.0])


def forward(x, w, b):
    return torch.add(w * x, b)


def mse(t1, t2):
    squared = (t1 - t2).reshape(-1) ** 2
    return squared.mean(dim=0, keepdim=True).squeeze(0)


@torch.no_grad()
def update(w, b, lr=1e-4):
    w.sub_(lr * w.grad)
    b.sub_(lr * b.grad)
    w.grad.zero_()
    b.grad.zero_()
