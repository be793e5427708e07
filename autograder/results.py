"""One grading result, three views: Gradescope's results.json, a terminal report, a
gradebook row. Only the judge builds a GradingResult, after every worker has ended."""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from autograder.text import MESSAGE_CHARS, clean

RESULTS_JSON_BYTES = 1_000_000  # Gradescope's results.json, at most
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
    visibility: str = "after_published"  # Gradescope: "visible" or "after_published"

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
    ungradable: str = ""  # why nothing could be graded (no regression.py, ambiguous upload)

    @property
    def score(self) -> float:
        return sum(t.score for t in self.tests)

    @property
    def max_score(self) -> float:
        return sum(t.max_score for t in self.tests)


def to_gradescope(result: GradingResult) -> dict:
    """The Gradescope autograder results format. Student output is not in it: the
    autograder's stdout (where the TA sees it) is hidden from students."""
    tests = []
    for t in result.tests:
        tests.append({
            "name": t.name,
            "score": t.score,
            "max_score": t.max_score,
            "status": "passed" if t.passed else "failed",
            "output": t.feedback or "Passed.",
            "visibility": t.visibility,
        })
    return {
        "score": result.score,
        "execution_time": round(result.seconds, 3),
        "output": "\n".join(result.notes),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def write_atomic(path: Path, text: str) -> None:
    """Write via a temporary file and a rename: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        # UTF-8 whatever the locale; text from outside is clean (autograder.text) by now,
        # and anything else that cannot be encoded is replaced, not a crash mid-batch
        with os.fdopen(fd, "w", encoding="utf-8", errors="replace") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def write_results_json(result: GradingResult, path: Path) -> None:
    write_atomic(path, gradescope_json(result))


def gradescope_json(result: GradingResult) -> str:
    """results.json's text: valid JSON (ASCII, every other character escaped), and never
    over RESULTS_JSON_BYTES: if it would be, every message is cut shorter until it fits."""
    limit = MESSAGE_CHARS
    while True:
        text = json.dumps(to_gradescope(result), indent=2) + "\n"
        if len(text) <= RESULTS_JSON_BYTES or limit < 100:
            return text
        limit //= 4
        result = dataclasses.replace(
            result, notes=[clean(note, limit) for note in result.notes[:MAX_NOTES]],
            tests=[dataclasses.replace(t, feedback=clean(t.feedback, limit))
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
        hidden = "" if t.visibility == "visible" else " (hidden)"
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
