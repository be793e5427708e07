"""The grading engine: a trusted judge (pytest) and an untrusted sandbox worker."""

import os
import sys
from typing import NoReturn


def exit_now(code: int = 0) -> NoReturn:
    """End a process that holds a large library without tearing the interpreter down: that
    takes 0.3 to 0.8 s, saves nothing, and someone (a TA, a batch, a judge) waits for it."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
