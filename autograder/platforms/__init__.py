"""One module per grading platform, each turning the core result (autograder.results)
into that platform's results.json: the core knows no platform's words.

To add a platform: a module here with `to_<platform>(result) -> dict` and
`write(result, path)`, an entry in PLATFORMS, and a JSON Schema of its documented
format in tests/ that its test validates against.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from autograder.platforms import gradescope, prairielearn
from autograder.results import GradingResult


@dataclass(frozen=True)
class Platform:
    write: Callable[[GradingResult, Path], None]  # its results.json, written atomically
    # Whether the grading run's stdout is for staff only. Gradescope hides it from students
    # (stdout_visibility "hidden"); PrairieLearn's docs promise no such thing, so there
    # stdout gets only what the student may see before grades are published.
    stdout_private: bool


PLATFORMS = {
    "gradescope": Platform(gradescope.write, stdout_private=True),
    "prairielearn": Platform(prairielearn.write, stdout_private=False),
}
DEFAULT = "gradescope"
