"""A correct submission written another way: torch functions, F.mse_loss, torch.optim.SGD.

SGD.zero_grad() sets the gradients to None rather than zero, which the spec allows.
"""

import torch
import torch.nn.functional as F

inputs = torch.tensor([-40.0, -10.0, 15.0, 30.0, 50.0])
targets = torch.tensor([-40.0, 14.0, 59.0, 86.0, 122.0])


def forward(x, w, b):
    return torch.add(torch.mul(x, w), b)


def mse(t1, t2):
    return F.mse_loss(t1, t2)


def update(w, b, lr=1e-4):
    optimizer = torch.optim.SGD([w, b], lr=lr)
    optimizer.step()
    optimizer.zero_grad()
