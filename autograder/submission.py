"""Find the file to grade in what a student uploaded, and say which one was used."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


class NoSubmission(Exception):
    """Nothing gradable was found; the message is written for the student."""


@dataclass
class Located:
    path: Path  # a Python source file the sandbox can import
    notes: list[str] = field(default_factory=list)


def locate(upload: Path, module: str) -> Located:
    """A `module`.py file, or a folder holding one (as Gradescope lays out uploads)."""
    wanted = f"{module}.py"
    if not upload.exists():
        raise NoSubmission(f"{upload} does not exist")
    if upload.is_file():
        if upload.suffix != ".py":
            raise NoSubmission(f"{upload.name} is not a Python file: upload {wanted}")
        return Located(upload)
    direct = upload / wanted
    if direct.is_file():
        return Located(direct)
    found = sorted(p for p in upload.rglob("*.py") if not _hidden(p.relative_to(upload)))
    if len(found) == 1:
        note = f"No {wanted} was found; graded {found[0].relative_to(upload)} instead."
        return Located(found[0], [note])
    if not found:
        raise NoSubmission(f"No {wanted} was found in the submission: upload {wanted}.")
    names = ", ".join(str(p.relative_to(upload)) for p in found)
    raise NoSubmission(f"No {wanted} was found, and several other files were ({names}): "
                       f"upload {wanted}.")


def _hidden(relative: Path) -> bool:
    return any(part.startswith(".") or part == "__pycache__" for part in relative.parts)
