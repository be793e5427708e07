"""PrairieLearn's external-grader results.json, as its docs ("External Grading",
"Grading results") describe it: `score` from 0 to 1, `tests` with `points`,
`max_points` and `message`, and `gradable: false` with `format_errors` for an upload
that holds nothing to grade (no attempt is counted, no points given or taken). A module
that does not import (a syntax error) is graded, 0 with its message, as on Gradescope:
the same upload earns the same score on either platform.

PrairieLearn shows a result at once and has no "after grades are published", so tests
that are hidden until then are folded into one entry: their points count in the score
(it is the grade), but no hidden test's name, message, or points alone are shown. What
the submission printed is left out too: it may hold the hidden tests' inputs.
"""

from __future__ import annotations

import json
from pathlib import Path

from autograder.results import GradingResult, shrunk_to_fit, write_atomic

RESULTS_JSON_BYTES = 1_000_000  # "this file should be limited to 1 MB"
HIDDEN_NAME = "Hidden tests"


def to_prairielearn(result: GradingResult) -> dict:
    if result.ungradable:
        return {"gradable": False, "format_errors": [result.ungradable],
                "message": "\n\n".join(result.notes) or result.ungradable}
    shown = [t for t in result.tests if t.shown_now]
    hidden = [t for t in result.tests if not t.shown_now]
    tests = [{"name": t.name, "points": t.score, "max_points": t.max_score,
              "message": t.feedback or "Passed."} for t in shown]
    if hidden:
        points = sum(t.max_score for t in hidden)
        tests.append({
            "name": HIDDEN_NAME,
            "description": f"{len(hidden)} more tests worth {points:g} points, of "
                           f"{result.max_score:g} in all.",
            "points": sum(t.score for t in hidden),
            "max_points": points,
            "message": "They count in your score; which of them pass, and what they "
                       "check, are not shown.",
        })
    score = result.score / result.max_score if result.max_score > 0 else 0.0
    return {"gradable": True, "score": min(max(score, 0.0), 1.0),
            "message": "\n\n".join(result.notes), "tests": tests}


def prairielearn_json(result: GradingResult) -> str:
    """results.json's text: ASCII JSON, never over RESULTS_JSON_BYTES."""
    return shrunk_to_fit(lambda r: json.dumps(to_prairielearn(r), indent=2) + "\n", result,
                         RESULTS_JSON_BYTES)


def write(result: GradingResult, path: Path) -> None:
    write_atomic(path, prairielearn_json(result))
