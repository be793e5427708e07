"""In a grouped run, tries to read the arguments of the calls planned after the current
one, hidden ones included: whatever is waiting on any descriptor it holds (read without
waiting) goes into a visible test's message. Its functions are otherwise honest-wrong
(NotImplementedError), so it earns nothing either way; the test looks for the marker
in every text a student sees."""

import fcntl
import os

CHEAT = True
CONTAINED_TO = None
HINTS = []
MARKER = "peeked-ahead"
_LEAKED = ""
_SOLVED = False


def _peek():
    seen = []
    for fd in range(3, 256):
        try:
            flags = fcntl.fcntl(fd, fcntl.F_GETFL)
            fcntl.fcntl(fd, fcntl.F_SETFL, flags | os.O_NONBLOCK)
            data = os.read(fd, 1 << 16)
        except OSError:
            continue
        if data:
            seen.append(data.decode("latin-1"))
    if seen:
        raise ValueError(f"{MARKER}: {seen}")


def forward(x, w, b):
    if CHEAT:
        _peek()
    raise NotImplementedError


def mse(t1, t2):
    if CHEAT:
        _peek()
    raise NotImplementedError


def update(w, b, lr=1e-4):
    if CHEAT:
        _peek()
    raise NotImplementedError
