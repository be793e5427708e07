"""mse() grabs memory until it runs out: first one huge tensor, then, if that fails,
16 MB at a time (touched, so the pages are real), swallowing the errors it can."""

import torch

CHEAT = True
CONTAINED_TO = ("mse",)
_hoard = []


def forward(x, w, b):
    return w * x + b


def mse(t1, t2):
    if CHEAT:
        try:
            _hoard.append(torch.ones(2**36))  # 256 GiB
        except RuntimeError:
            pass
        while True:
            _hoard.append(torch.ones(2**22))  # 16 MiB, written
    diff = t1 - t2
    return torch.mean(diff**2)


def update(w, b, lr=1e-4):
    with torch.no_grad():
        w -= w.grad * lr
        b -= b.grad * lr
    w.grad.zero_()
    b.grad.zero_()

