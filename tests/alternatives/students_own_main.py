"""A correct submission with the student's own experiments at the bottom.

The experiments sit under `if __name__ == "__main__":` as the README asks; otter check
runs the file as a script, so they run there, and must not disturb the tests.
"""

import torch

inputs = torch.tensor([-40.0, -10.0, 15.0, 30.0, 50.0])
targets = torch.tensor([-40.0, 14.0, 59.0, 86.0, 122.0])


def forward(x, w, b):
    return x * w + b


def mse(t1, t2):
    return torch.mean((t2 - t1) * (t2 - t1))


def update(w, b, lr=1e-4):
    with torch.no_grad():
        w -= lr * w.grad
        b -= lr * b.grad
        w.grad.zero_()
        b.grad.zero_()


if __name__ == "__main__":
    w = torch.tensor(2.0, requires_grad=True)
    b = torch.tensor(30.0, requires_grad=True)
    for step in range(3):
        loss = mse(forward(inputs, w, b), targets)
        loss.backward()
        update(w, b)
        print(step, loss.item(), w.item(), b.item())
