"""One grading result, in the engine's own words, and its views: a terminal report here,
a platform's results.json in autograder.platforms, a gradebook row. Only the judge builds a
GradingResult, after every worker has ended."""

from __future__ import annotations

import dataclasses
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from autograder.text import MESSAGE_CHARS, clean

OUTPUT_CHARS = 20_000  # what a submission printed, kept for the TA
MAX_NOTES = 20  # notes on one result (files used, cells skipped, why it did not import)


@dataclass
class TestResult:
    name: str  # what the student sees: the test's docstring
    test_id: str  # pytest's node id, stable across runs: the gradebook's column key
    score: float
    max_score: float
    feedback: str = ""  # for the student
    detail: str = ""  # for the TA only (a fault in the test itself)
    shown_now: bool = False  # the student sees it at once; else once grades are published

    @property
    def passed(self) -> bool:
        return self.score >= self.max_score


@dataclass
class GradingResult:
    tests: list[TestResult]
    seconds: float
    submission: str
    notes: list[str] = field(default_factory=list)  # for the student: import failure, file used
    output: str = ""  # what the submission printed: for the TA, never shown to students
    isolation: str = ""  # how the workers were confined, and what was missing
    ungradable: str = ""  # why nothing could be graded (no module.py, ambiguous upload)

    @property
    def score(self) -> float:
        return sum(t.score for t in self.tests)

    @property
    def max_score(self) -> float:
        return sum(t.max_score for t in self.tests)


def before_publishing(result: GradingResult) -> GradingResult:
    """What a student sees before grades are published: the tests shown now, the notes."""
    return dataclasses.replace(result, tests=[t for t in result.tests if t.shown_now])


def write_atomic(path: Path, text: str) -> None:
    """Write via a temporary file and a rename: a reader never sees half a file. The file
    gets the mode open() would give it (0666 less the umask), not mkstemp's 0600."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, 0o666 & ~_umask())
        # UTF-8 whatever the locale; text from outside is clean (autograder.text) by now,
        # and anything else that cannot be encoded is replaced, not a crash mid-batch
        with os.fdopen(fd, "w", encoding="utf-8", errors="replace") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _umask() -> int:
    """The process's umask, read without changing it where Linux tells it."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # elsewhere: read by setting, and put straight back
    os.umask(mask)
    return mask


def shrunk_to_fit(render: Callable[[GradingResult], str], result: GradingResult,
                  limit: int) -> str:
    """render(result), never over `limit` characters (a platform's cap on results.json,
    whose ASCII JSON has a byte per character): if it would be, every message is cut
    shorter until it fits."""
    chars = MESSAGE_CHARS
    while True:
        text = render(result)
        if len(text) <= limit or chars < 100:
            return text
        chars //= 4
        result = dataclasses.replace(
            result, notes=[clean(note, chars) for note in result.notes[:MAX_NOTES]],
            tests=[dataclasses.replace(t, feedback=clean(t.feedback, chars))
                   for t in result.tests])


def bounded(result: GradingResult) -> GradingResult:
    """The result with every text clean (autograder.text) and capped: each message at
    MESSAGE_CHARS, what the submission printed at OUTPUT_CHARS. Cleaning is idempotent,
    so this last pass costs nothing where the text was cleaned where it came in."""
    for t in result.tests:
        t.feedback = clean(t.feedback)
        t.detail = clean(t.detail, 4 * MESSAGE_CHARS)
    result.notes = [clean(note) for note in result.notes[:MAX_NOTES]]
    result.output = clean(result.output, OUTPUT_CHARS)
    result.ungradable = clean(result.ungradable)
    result.submission = clean(result.submission, 500)
    result.isolation = clean(result.isolation)
    return result


def report(result: GradingResult, staff: bool = True) -> str:
    """The readable report. With staff=False it is exactly what the student may see."""
    lines = [f"Submission: {result.submission}"]
    lines += [f"Note: {n}" for n in result.notes]
    width = max((len(t.name) for t in result.tests), default=10)
    for t in result.tests:
        mark = "PASS" if t.passed else "FAIL"
        hidden = "" if t.shown_now else " (hidden)"
        lines.append(f"  {mark}  {t.name:<{width}}  {t.score:g}/{t.max_score:g}{hidden}")
        said_above = t.feedback in result.notes  # e.g. "could not be imported": said once
        for text in (t.feedback if not (t.passed or said_above) else "",
                     t.detail if staff else ""):
            lines += [f"        {line}" for line in text.splitlines()]
    lines.append(f"Score: {result.score:g}/{result.max_score:g}  ({result.seconds:.2f} s)")
    if staff:
        if result.isolation:
            lines.append(f"Sandbox: {result.isolation}")
        if result.output:
            lines.append("What the submission printed (staff only):")
            lines += [f"  | {line}" for line in result.output.splitlines()[:40]]
    return "\n".join(lines)
