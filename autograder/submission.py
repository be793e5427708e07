"""Find the file to grade in what a student uploaded, and say which one was used.

A notebook is turned into a module here, in the judge: its code cells in order, with
IPython-only lines (magics, shell escapes) and the otter `grader.check` cells left out
and Jupyter's display() defined, so it is graded by the same hidden tests and the same
sandbox as a `.py` file.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

MAX_NOTEBOOK_BYTES = 20_000_000
# cell magics whose body is still Python; the body of any other (%%bash, %%html) is not
_PYTHON_CELL_MAGICS = {"time", "timeit", "capture", "prun"}
# the otter-grader cells of the student notebook: they need otter's tests folder, which a
# sandboxed worker does not have, and grading does not need them
_OTTER_LINE = re.compile(r"^\s*(import otter\b|from otter\b|grader\s*=\s*otter\.|grader\.\w+\()")


class NoSubmission(Exception):
    """Nothing gradable was found; the message is written for the student."""


@dataclass
class Located:
    path: Path  # the uploaded file to grade: a .py, or a notebook
    notes: list[str] = field(default_factory=list)

    def module_source(self) -> str:
        """The Python source the sandbox imports."""
        if self.path.suffix == ".ipynb":
            return notebook_to_module(self.path)
        return self.path.read_text(errors="replace")


def locate(upload: Path, module: str) -> Located:
    """A `module`.py or a notebook, or a folder holding one (as Gradescope lays it out)."""
    wanted = f"{module}.py"
    if not upload.exists():
        raise NoSubmission(f"{upload} does not exist")
    if upload.is_file():
        if upload.suffix not in (".py", ".ipynb"):
            raise NoSubmission(f"{upload.name} is neither a .py file nor a notebook: "
                               f"upload {wanted}")
        return Located(upload)
    found = sorted(p for p in upload.rglob("*") if p.suffix in (".py", ".ipynb") and p.is_file()
                   and not _hidden(p.relative_to(upload)))
    scripts = [p for p in found if p.suffix == ".py"]
    notebooks = [p for p in found if p.suffix == ".ipynb"]
    named = upload / wanted
    if named.is_file():
        chosen = named
    elif len(scripts) == 1:
        chosen = scripts[0]
    elif not scripts and len(notebooks) == 1:
        chosen = notebooks[0]
    elif not found:
        raise NoSubmission(f"No {wanted} (or notebook) was found in the submission: "
                           f"upload {wanted}.")
    else:
        names = ", ".join(str(p.relative_to(upload)) for p in found)
        raise NoSubmission(f"Ambiguous submission: no {wanted}, and several candidate files "
                           f"({names}). Upload only {wanted}.")
    notes = []
    if chosen.name != wanted and chosen.suffix == ".py":
        notes.append(f"No {wanted} was found; graded {chosen.relative_to(upload)} instead.")
    if chosen.suffix == ".py" and notebooks:
        notes.append(f"Graded {chosen.relative_to(upload)}; the notebook "
                     f"{', '.join(str(p.relative_to(upload)) for p in notebooks)} was ignored.")
    return Located(chosen, notes)


def _hidden(relative: Path) -> bool:
    return any(part.startswith(".") or part == "__pycache__" for part in relative.parts)


def notebook_to_module(path: Path) -> str:
    """The notebook's code cells, in order, as one module. Line-for-line: a line that
    cannot run outside IPython becomes a comment (`%time stmt` becomes `stmt`), so error
    line numbers stay meaningful."""
    if path.stat().st_size > MAX_NOTEBOOK_BYTES:
        raise NoSubmission(f"{path.name} is larger than {MAX_NOTEBOOK_BYTES // 1_000_000} MB")
    try:
        notebook = json.loads(path.read_bytes())
        cells = notebook["cells"]
        if not isinstance(cells, list):
            raise TypeError("cells is not a list")
    except (ValueError, KeyError, TypeError) as exc:
        raise NoSubmission(f"{path.name} is not a valid Jupyter notebook ({exc}). Re-download "
                           "it from Jupyter or Colab (File > Download > .ipynb).") from exc
    chunks = []
    for number, cell in enumerate(cells, 1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(line, str) for line in source):
            source = "".join(source)
        if not isinstance(source, str):  # a hand-edited file: not something Jupyter saves
            raise NoSubmission(f"{path.name} is not a valid Jupyter notebook (cell {number} "
                               "holds no text). Re-download it from Jupyter or Colab "
                               "(File > Download > .ipynb).")
        text = source
        if text.strip():
            chunks.append(f"# --- cell {number} ---\n{_python_only(text)}")
    if not chunks:
        raise NoSubmission(f"{path.name} has no code cells: nothing to grade.")
    return _DISPLAY + "\n\n".join(chunks) + "\n"


# Jupyter gives a notebook display() without an import; as a module the name would not
# exist, and one display(w) in a cell would fail the whole import. A student's own
# display (an import from IPython, say) replaces this one.
_DISPLAY = "def display(*objects, **options): print(*objects)  # as in Jupyter\n\n"


def _python_only(cell: str) -> str:
    lines = cell.splitlines()
    first = lines[0].strip() if lines else ""
    if first.startswith("%%"):
        magic = first[2:].split()[0] if first[2:].split() else ""
        if magic not in _PYTHON_CELL_MAGICS:
            return "\n".join(f"# {line}" for line in lines)
        lines[0] = f"# {lines[0]}"
    out = []
    for line in lines:
        stripped = line.lstrip()
        indent = line[: len(line) - len(stripped)]
        if stripped.startswith("%time ") and stripped[6:].strip():
            # `%time x = f()` runs its statement once in the notebook's namespace: keep it,
            # or a later cell that uses x fails the whole import
            out.append(f"{indent}{stripped[6:].lstrip()}")
        elif stripped.startswith(("%", "!")) or _OTTER_LINE.match(line):
            out.append(f"{indent}pass  # {stripped}" if indent else f"# {stripped}")
        else:
            out.append(line)
    return "\n".join(out)
