"""A correct submission written another way: it names dtypes on purpose and keeps the
inputs' own (float64 stays float64), with a module-level counter that changes nothing."""

import torch

inputs = torch.tensor([-40.0, -10.0, 15.0, 30.0, 50.0])
targets = torch.tensor([-40.0, 14.0, 59.0, 86.0, 122.0])
steps_taken = 0


def forward(x, w, b):
    return (w.to(x.dtype) * x + b.to(x.dtype)).to(torch.promote_types(x.dtype, w.dtype))


def mse(t1, t2):
    diff = t1 - t2
    return (diff * diff).sum() / torch.tensor(diff.numel(), dtype=diff.dtype)


def update(w, b, lr=1e-4):
    global steps_taken
    steps_taken += 1
    w.data.sub_(w.grad.data * lr)
    b.data.sub_(b.grad.data * lr)
    w.grad.data.zero_()
    b.grad.data.zero_()
