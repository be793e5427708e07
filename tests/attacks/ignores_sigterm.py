"""A worker that ignores SIGTERM (and SIGINT, SIGHUP), then loops forever while being
imported: only SIGKILL stops it. Graded with a 2-second wall-clock limit."""

import signal

import torch

CHEAT = True
CONTAINED_TO = None


def forward(x, w, b):
    return w * x + b


def mse(t1, t2):
    diff = t1 - t2
    return torch.mean(diff**2)


def update(w, b, lr=1e-4):
    with torch.no_grad():
        w -= w.grad * lr
        b -= b.grad * lr
    w.grad.zero_()
    b.grad.zero_()


if CHEAT:
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    while True:
        try:
            signal.pause()
        except BaseException:
            pass
