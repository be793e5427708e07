"""What a student reads of a scenario's outcome that went wrong.

A visible test shows the student their own exception message. A hidden test shows only
what cannot carry data out of the worker: the student's message could hold the hidden
inputs, and so could the name of an exception class of their own.
"""

from __future__ import annotations

from autograder.sandbox import Outcome
from autograder.text import BUILTIN_EXCEPTIONS


def explain(outcome: Outcome, what: str, *, module: str, public: bool,
            source_lines: list[str]) -> str:
    """What went wrong with `what` (a function's name, say), for the student; `module` is
    the module the student wrote, `source_lines` the judge's copy of it."""
    if outcome.status == "not_implemented":
        return f"{what} is not implemented yet (it raises NotImplementedError)."
    if outcome.status == "import_error":
        return f"{module}.py could not be imported: {error_text(outcome, public, source_lines)}"
    if outcome.status == "error":
        return f"{what} raised {error_text(outcome, public, source_lines)}"
    return f"{what} {outcome.message}."


def error_text(outcome: Outcome, public: bool, source_lines: list[str]) -> str:
    """The exception an outcome reports: its type, its message when `public`, and the line
    it was raised at, read from the judge's copy of the source (never the worker's text).
    A hidden test names only a built-in exception's type."""
    error = outcome.error or {}
    kind = str(error.get("type") or "")
    if not public and kind not in BUILTIN_EXCEPTIONS:
        kind = "an exception"
    text = kind or "an exception"
    if public and error.get("message"):
        text += f": {error['message']}"
    line = error.get("line")
    if isinstance(line, int) and 0 < line <= len(source_lines):
        function = error.get("function")
        known = function and any(f"def {function}(" in s for s in source_lines)
        where = f" in {function}()" if known else ""
        text += f"\n  at line {line}{where}: {source_lines[line - 1].strip()}"
    return text
