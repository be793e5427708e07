"""One grading result, three views: Gradescope's results.json, a terminal report, a
gradebook row. Only the judge builds a GradingResult, after every worker has ended."""

from __future__ import annotations

import dataclasses
import json
import os
import re
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
            "output": markdown(t.feedback or "Passed."),
            "tags": tags(t),
            "visibility": t.visibility,
        })
    return {
        "score": result.score,
        "execution_time": round(result.seconds, 3),
        "output": student_summary(result),
        "output_format": "md",
        "test_output_format": "md",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def student_summary(result: GradingResult) -> str:
    """The top of the student's page (Markdown): the notes, then what is shown now and
    what is still hidden, in tests and points (never which ones pass)."""
    shown = [t for t in result.tests if t.visibility == "visible"]
    hidden = [t for t in result.tests if t.visibility != "visible"]
    lines = [markdown(note) for note in result.notes]
    if shown:
        lines.append(f"**Shown now:** {len(shown)} tests worth "
                     f"{sum(t.max_score for t in shown):g} points; you have "
                     f"{sum(t.score for t in shown):g} of them.")
    if hidden:
        lines.append(f"**Hidden until grades are published:** {len(hidden)} more tests "
                     f"worth {sum(t.max_score for t in hidden):g} points, of "
                     f"{result.max_score:g} in all. Passing the tests shown now does not "
                     "mean passing these.")
    return "\n\n".join(lines)


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|~&!])")


def markdown(text: str) -> str:
    """Plain feedback as Markdown that shows exactly that text: `code` spans kept, every
    other character Markdown would read escaped, line breaks and indents kept."""
    out = []
    for line in text.expandtabs(4).splitlines():
        indent = len(line) - len(line.lstrip(" "))
        pieces = re.split(r"(`[^`]+`)", line.strip(" "))
        body = "".join(p if len(p) > 1 and p[0] == p[-1] == "`" else _MD_SPECIAL.sub(r"\\\1", p)
                       for p in pieces)
        if body[:1] in ("-", "+", "="):  # a list item, a rule or a heading's underline
            body = "\\" + body
        body = re.sub(r"^(\d+)([.)])", r"\1\\\2", body)  # a numbered list item
        out.append("&nbsp;" * indent + body)
    return "  \n".join(out)


def tags(test: TestResult) -> list[str]:
    """What a test is about, for Gradescope's tags: the functions its name mentions
    ("update()"), else the topic its file is named after (test_3_gradients.py)."""
    named = re.findall(r"\b([A-Za-z_]\w*)\(\)", test.name)
    if named:
        return sorted(set(named))
    topic = re.match(r"(?:.*/)?test_(?:\d+_)?(\w+)\.py::", test.test_id)
    return [topic.group(1)] if topic else []


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
