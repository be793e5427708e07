"""grade-all's progress, on stderr: a tqdm bar with the time left on a terminal; on
anything else (a log, CI, a pipe) one plain line per submission, with the time left too."""

from __future__ import annotations

import os
import sys
import time
from typing import TextIO

from tqdm import tqdm


class Progress:
    """What the batch tells the TA while it grades. `failures` collects the submissions
    the grader itself failed on (key -> why), for the gradebook and the summary."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.failures: dict[str, str] = {}
        self.total = self.done = 0
        self.first: float | None = None  # when the first submission was done
        self.bar: tqdm | None = None

    def start(self, total: int, skipped: int) -> None:
        self.total, self.done, self.first = total, 0, None
        if skipped:
            self.note(f"{skipped} already graded (kept); {total} to grade")
        elif total:
            self.note(f"{total} to grade")
        if self.tty and total:
            # a terminal that says its size (a pty may say 0 x 0: tqdm would then draw
            # nothing, taking 0 rows for "no room")
            columns, lines = _size(self.stream)
            sized = columns > 0 and lines > 0
            self.bar = tqdm(total=total, file=self.stream, unit="submission", smoothing=0.3,
                            dynamic_ncols=sized, ncols=None if sized else (columns or 100),
                            nrows=None if sized else 20,
                            bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed} so far, "
                            "{remaining} left{postfix}]")

    def graded(self, key: str, result: dict) -> None:
        score = sum(t["score"] for t in result["tests"])
        maximum = sum(t["max_score"] for t in result["tests"])
        why = f"  (not graded: {result['ungradable']})" if result.get("ungradable") else ""
        self._advance(f"{key}: {score:g}/{maximum:g}{why}", quiet=True)

    def failed(self, key: str, why: str) -> None:
        self.failures[key] = why
        self._advance(f"{key}: could not be graded: {why}", quiet=False)

    def note(self, text: str) -> None:
        if self.bar is not None:
            self.bar.write(text, file=self.stream)
        else:
            self.stream.write(text + "\n")
            self.stream.flush()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def left(self) -> str:
        """The time left, from the pace since the first submission was done (before it,
        the grading processes were starting: each imports the homework's libraries once)."""
        now = time.monotonic()
        if self.first is None:
            self.first = now
        if self.done < 2 or self.done >= self.total:
            return ""
        seconds = (now - self.first) / (self.done - 1) * (self.total - self.done)
        return f"  ~{seconds:.0f} s left" if seconds < 90 else f"  ~{seconds / 60:.0f} min left"

    def _advance(self, text: str, quiet: bool) -> None:
        """One submission done: the bar moves (a failure is also written above it), or a
        plain line says which and how long is left."""
        self.done += 1
        line = f"[{self.done}/{self.total}] {text}"
        if self.bar is None:
            self.note(line + self.left())
            return
        if not quiet:
            self.note(line)
        self.bar.set_postfix_str(text[:40], refresh=False)
        self.bar.update(1)
        if self.done >= self.total:
            self.close()


def _size(stream: TextIO) -> tuple[int, int]:
    try:
        return tuple(os.get_terminal_size(stream.fileno()))
    except (OSError, ValueError, AttributeError):
        return 0, 0
