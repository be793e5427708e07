"""The limits every sandbox worker runs under: the one place a TA changes them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """Per-worker limits. A worker runs one scenario call, or a submission's planned calls
    one after another; either way each worker gets all of these."""

    # The student's code is judged by the CPU time it uses, which a busy machine or a
    # container throttled to half a CPU does not inflate. A worker of the reference uses
    # ~20 ms; 5 s is room for a slow machine and a student's top-level demo code, and an
    # endless loop ends there (SIGXCPU; SIGKILL a second later if it is caught).
    cpu_seconds: int = 5
    # The wall clock is only a backstop, for code that waits (sleep, a blocking read) or a
    # machine slowed far below one CPU: then SIGTERM, and SIGKILL after the grace.
    wall_seconds: float = 20.0
    kill_grace_seconds: float = 0.5
    # What a worker may add to what the zygote already maps (its preloaded libraries), at
    # most: the zygote lowers it to what this machine (or container) really has free, so
    # a worker over it is told so and the grader itself is never the one out of memory.
    memory_mb: int = 512
    scratch_mb: int = 64  # what a worker may write in its folder (a tmpfs, where one can be made)
    output_bytes: int = 1_000_000  # stdout + stderr a worker may write; more fails the write
    result_bytes: int = 4_000_000  # plain data a scenario may send back
    feedback_chars: int = 2_000  # how much captured output is kept for the TA


DEFAULT_LIMITS = Limits()

# Memory kept free for the grader itself (the judge grows while a worker runs) when the
# zygote fits a worker's allowance to what is free.
GRADER_MARGIN_MB = 96
SMALLEST_ALLOWANCE_MB = 64  # below this a worker could hardly import a submission at all
