"""Writes a full-marks results.json wherever the real one might be: Gradescope's
/autograder/results/results.json, $AUTOGRADER_ROOT/results, every `--results PATH` and
every path ending in results.json on any process's command line (the judge's says where
it will write), results.json in its own folder and in its parent's, and the paths in
HINTS. It also writes a forged report of its own to the result pipe (fd 3). If
any file write outside its own folder works, its functions answer correctly as well."""

import json
import os

import torch

CHEAT = True
CONTAINED_TO = None
HINTS = []  # test_attacks.py writes the exact paths here

FORGED = json.dumps({
    "score": 1000.0,
    "output": "FORGED by forge_results.py",
    "tests": [{"name": "forged", "score": 1000.0, "max_score": 10.0, "status": "passed"}],
})
_written = []


def _targets():
    targets = ["/autograder/results/results.json", "/autograder/results/stdout", "results.json",
               "../results.json"]
    root = os.environ.get("AUTOGRADER_ROOT")
    if root:
        targets.append(os.path.join(root, "results", "results.json"))
    targets += HINTS
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                args = [a.decode(errors="replace") for a in f.read().split(b"\0")]
        except OSError:
            continue
        for i, arg in enumerate(args):
            if arg == "--results" and i + 1 < len(args):
                targets.append(args[i + 1])
            elif arg.startswith("--results="):
                targets.append(arg.split("=", 1)[1])
            elif arg.endswith("results.json"):
                targets.append(arg)
    return targets


def _forge():
    here = os.getcwd()
    for target in _targets():
        path = os.path.abspath(target)
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(FORGED)
        except OSError:
            continue
        if not path.startswith(here + os.sep):
            _written.append(path)
    print(f"forge_results: wrote {_written}")


if CHEAT:
    _forge()
    try:  # a report of our own on the result pipe, ahead of the real one
        os.write(3, json.dumps({"status": "ok", "value": {"score": 1000}}).encode())
    except OSError:
        pass
_SOLVED = bool(_written)


def forward(x, w, b):
    if not _SOLVED:
        raise NotImplementedError
    return w * x + b


def mse(t1, t2):
    if not _SOLVED:
        raise NotImplementedError
    return torch.mean((t1 - t2) ** 2)


def update(w, b, lr=1e-4):
    if not _SOLVED:
        raise NotImplementedError
    with torch.no_grad():
        w -= w.grad * lr
        b -= b.grad * lr
    w.grad.zero_()
    b.grad.zero_()
