"""The limits every sandbox worker runs under: the one place a TA changes them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """Per-scenario limits. Each scenario runs in its own worker, so each gets all of these."""

    # A worker of the reference takes ~20 ms: 5 s is room for a slow machine and a student's
    # top-level demo code, and a class's endless loops do not each hold a batch up for long.
    wall_seconds: float = 5.0  # then SIGTERM, and SIGKILL after `kill_grace_seconds`
    kill_grace_seconds: float = 0.5
    cpu_seconds: int = 10  # above the wall limit, so an endless loop reads as "timeout"
    memory_mb: int = 512  # address space the worker may add to what torch already maps
    scratch_mb: int = 64  # what a worker may write in its folder (a tmpfs, when run as root)
    output_bytes: int = 1_000_000  # stdout + stderr a worker may write; more fails the write
    result_bytes: int = 4_000_000  # plain data a scenario may send back
    feedback_chars: int = 2_000  # how much captured output is kept for the TA


DEFAULT_LIMITS = Limits()
