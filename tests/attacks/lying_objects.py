"""mse() returns things that are not tensors but claim to be right: a float whose __eq__
is always True, an object whose item() and tolist() give NaN and whose __float__ lies,
a list that equals everything. Underneath, the loss is wrong (the sum, not the mean)."""

import itertools
import math

import torch

CHEAT = True
CONTAINED_TO = ("mse",)


class AlwaysEqualFloat(float):
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    def __lt__(self, other):
        return True

    __le__ = __gt__ = __ge__ = __lt__
    __hash__ = float.__hash__

    def __abs__(self):
        return 0.0

    def __sub__(self, other):
        return AlwaysEqualFloat(0.0)

    __rsub__ = __sub__


class Pretender:
    """Quacks like a 0-dim tensor."""

    requires_grad = True
    is_leaf = False
    grad_fn = "MeanBackward0"
    shape = ()
    dtype = torch.float32

    def __init__(self, value):
        self._value = value

    def item(self):
        return math.nan

    def tolist(self):
        return math.nan

    def __float__(self):
        return math.nan

    def __eq__(self, other):
        return True

    __hash__ = object.__hash__

    def backward(self, *args, **kwargs):
        return None

    def dim(self):
        return 0

    def numel(self):
        return 1

    def detach(self):
        return self


class EqualList(list):
    def __eq__(self, other):
        return True

    __hash__ = None


_KINDS = itertools.cycle([AlwaysEqualFloat, Pretender, lambda v: EqualList([v])])


def mse(t1, t2):
    diff = t1 - t2
    loss = torch.sum(diff**2)  # the sum, not the mean
    if CHEAT:
        return next(_KINDS)(loss.item())
    return loss


def forward(x, w, b):
    return w * x + b


def update(w, b, lr=1e-4):
    with torch.no_grad():
        w -= w.grad * lr
        b -= b.grad * lr
    w.grad.zero_()
    b.grad.zero_()
