"""Gradescope's results.json (its "Autograder Specifications"): Markdown output, a
summary of what is hidden, tags, and a visibility per test in Gradescope's words."""

from __future__ import annotations

import json
import re
from pathlib import Path

from autograder.results import GradingResult, TestResult, shrunk_to_fit, write_atomic

RESULTS_JSON_BYTES = 1_000_000  # Gradescope's results.json, at most


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
            "visibility": "visible" if t.shown_now else "after_published",
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
    shown = [t for t in result.tests if t.shown_now]
    hidden = [t for t in result.tests if not t.shown_now]
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


def gradescope_json(result: GradingResult) -> str:
    """results.json's text: valid JSON (ASCII, every other character escaped), and never
    over RESULTS_JSON_BYTES (results.shrunk_to_fit)."""
    return shrunk_to_fit(lambda r: json.dumps(to_gradescope(r), indent=2) + "\n", result,
                         RESULTS_JSON_BYTES)


def write(result: GradingResult, path: Path) -> None:
    write_atomic(path, gradescope_json(result))

