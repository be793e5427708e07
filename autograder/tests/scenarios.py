"""Scenarios: what runs inside the sandbox. Each takes the submission module and plain
arguments, builds tensors, calls the student's functions and returns plain data only.
No expected value lives here: this module is loaded into every worker."""

import torch


def forward(sub, x, w, b):
    wt = torch.tensor(w, requires_grad=True)
    bt = torch.tensor(b, requires_grad=True)
    y = sub.forward(torch.tensor(x), wt, bt)
    return {"value": y.tolist()}
