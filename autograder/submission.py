"""Find the file to grade in what a student uploaded, read it safely, and stage it.

An upload is untrusted: it is read only as regular files inside it, never through a
symbolic link (the judge runs as root, and a link could point at the reference solution,
a hidden test, /proc/self/environ or a file whose read blocks), and only up to a size.
Every name and line from it that a message may quote is cleaned here (autograder.text).

A notebook becomes a module that runs its code cells one at a time, in the worker, as
otter-grader does: a cell that raises, is not Python, or runs too long (CELL_SECONDS, and
CELLS_SECONDS for all of them) is skipped and the next one runs, so a scratch cell or a
demo loop does not cost the functions' points. IPython-only lines (magics, shell escapes,
`name?` help) and the otter `grader.check` lines are left out, and Jupyter's display() is
defined.
"""

from __future__ import annotations

import errno
import hashlib
import inspect
import json
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from autograder.text import BUILTIN_EXCEPTIONS, clean, valid_unicode

MAX_SCRIPT_BYTES = 1_000_000
MAX_NOTEBOOK_BYTES = 20_000_000
MAX_ENTRIES = 10_000  # files and folders looked at in one upload
MAX_NESTING = 100  # lists and objects in a notebook's JSON, one inside another (Jupyter: ~6)
# A notebook cell's top-level code may run this long, and all cells together about this
# long, in every worker: the rest of a worker's time limit is for the calls graded.
CELL_SECONDS = 1.0
CELLS_SECONDS = 2.0
MAX_CELL_NOTES = 10  # skipped cells named one by one; the rest are counted
# cell magics whose body is still Python; the body of any other (%%bash, %%html) is not
_PYTHON_CELL_MAGICS = {"time", "timeit", "capture", "prun"}
# the otter-grader cells of the student notebook: they need otter's tests folder, which a
# sandboxed worker does not have, and grading does not need them
_OTTER_LINE = re.compile(r"^\s*(import otter\b|from otter\b|grader\s*=\s*otter\.|grader\.\w+\()")
_HELP_LINE = re.compile(r"^\s*(\?{1,2}[\w.]+|[\w.]+(\(\))?\?{1,2})\s*$")  # f?, ??os.path
_NEWLINE = re.compile(r"\r\n|\r|\n")  # what Python counts as a line break in source
_SKIPPED = "__autograder_skipped_cells__"  # what the notebook module leaves for the judge


class NoSubmission(Exception):
    """Nothing gradable was found; the message is written for the student."""


@dataclass
class Staged:
    """What the sandbox imports, and what messages about it may quote."""

    source: bytes  # the module the worker imports
    lines: list[str]  # its lines as the student wrote them (cleaned), by the line numbers
    # a worker reports; for a notebook, its code cells laid out one after another
    cells: dict[int, int] = field(default_factory=dict)  # notebook: first line -> cell number

    def where(self, line: int) -> str:
        """`line` as the student can find it: "cell 12, line 3" in a notebook."""
        starts = [start for start in self.cells if start <= line]
        if not starts:
            return f"line {line}"
        start = max(starts)
        return f"cell {self.cells[start]}, line {line - start + 1}"


@dataclass
class Located:
    path: Path  # the uploaded file to grade: a .py, or a notebook
    notes: list[str] = field(default_factory=list)
    root: Path | None = None  # the upload folder it was found in (None: the upload is the file)

    @property
    def name(self) -> str:
        return clean(self.path.name if self.root is None else self.path.relative_to(self.root),
                     300)

    def stage(self) -> Staged:
        """The module the sandbox imports, read without following links, within the caps."""
        notebook = self.path.suffix == ".ipynb"
        cap = MAX_NOTEBOOK_BYTES if notebook else MAX_SCRIPT_BYTES
        root = self.path.parent if self.root is None else self.root
        data = read_regular(root, PurePosixPath(self.path.relative_to(root)), cap, self.name)
        if notebook:
            return notebook_module(data, self.name)
        # the bytes as uploaded: Python reads them (and any coding line) as it would anyway
        return Staged(data, source_lines(data.decode("utf-8", "replace")))


def locate(upload: Path, module: str) -> Located:
    """A `module`.py or a notebook, or a folder holding one (as Gradescope lays it out)."""
    wanted = f"{module}.py"
    shown = clean(upload.name, 300)
    try:
        info = upload.lstat()
    except OSError:
        raise NoSubmission(f"{shown} does not exist") from None
    if stat.S_ISLNK(info.st_mode):
        raise NoSubmission(_link(shown))
    if not stat.S_ISDIR(info.st_mode):
        if upload.suffix not in (".py", ".ipynb"):
            raise NoSubmission(f"{shown} is neither a .py file nor a notebook: upload {wanted}")
        return Located(upload)
    found = [p for p in _walk(upload)
             if p.suffix in (".py", ".ipynb") and not _hidden(p.relative_to(upload))]
    scripts = [p for p in found if p.suffix == ".py"]
    notebooks = [p for p in found if p.suffix == ".ipynb"]
    named = upload / wanted
    nested = [p for p in scripts if p.name == wanted]  # a folder uploaded whole, say
    if named in found:
        chosen = named
    elif len(nested) == 1:
        chosen = nested[0]
    elif len(scripts) == 1:
        chosen = scripts[0]
    elif not scripts and len(notebooks) == 1:
        chosen = notebooks[0]
    elif not found:
        raise NoSubmission(f"No {wanted} (or notebook) was found in the submission: "
                           f"upload {wanted}.")
    else:
        names = clean(", ".join(str(p.relative_to(upload)) for p in found), 500)
        raise NoSubmission(f"Ambiguous submission: no {wanted}, and several candidate files "
                           f"({names}). Upload only {wanted}.")
    located = Located(chosen, root=upload)
    beside = [p for p in scripts if p != chosen]
    if chosen.name == wanted and beside:  # the assignment's tests/ and conftest.py, say
        ignored = clean(", ".join(str(p.relative_to(upload)) for p in beside), 500)
        located.notes.append(f"Graded {located.name}; the other files ({ignored}) were ignored.")
    if chosen.name != wanted and chosen.suffix == ".py":
        located.notes.append(f"No {wanted} was found; graded {located.name} instead.")
    if chosen.suffix == ".py" and notebooks:
        ignored = clean(", ".join(str(p.relative_to(upload)) for p in notebooks), 500)
        located.notes.append(f"Graded {located.name}; the notebook {ignored} was ignored.")
    return located


def _hidden(relative: Path) -> bool:
    return any(part.startswith(".") or part == "__pycache__" for part in relative.parts)


def _link(name: str) -> str:
    return f"{name} is a symbolic link: upload the file itself"


def _walk(folder: Path) -> list[Path]:
    """Every file (anything but a folder: links and special files too, so that they can
    be named when refused) under `folder`, sorted. Links to folders are not followed."""
    found, pending, seen = [], [folder], 0
    while pending:
        current = pending.pop()
        try:
            entries = list(os.scandir(current))
        except OSError:
            continue  # unreadable: as if empty
        for entry in entries:
            seen += 1
            if seen > MAX_ENTRIES:
                raise NoSubmission(f"The submission holds more than {MAX_ENTRIES} files and "
                                   "folders: upload only your work.")
            if entry.is_dir(follow_symlinks=False):
                pending.append(Path(entry.path))
            else:
                found.append(Path(entry.path))
    return sorted(found)


# --- reading without following links ------------------------------------------------------


def read_regular(root: Path, relative: PurePosixPath, cap: int, shown: str | None = None
                 ) -> bytes:
    """The bytes of the regular file root/relative, at most `cap` of them. No link is
    followed anywhere below `root` (each folder is opened relative to the one before,
    with O_NOFOLLOW), the file is opened without blocking (a FIFO, a device), and what
    was opened is checked with fstat. Any refusal is a NoSubmission in one sentence."""
    shown = shown or clean(str(relative), 300)
    try:
        folder = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as exc:
        raise NoSubmission(f"{shown} could not be read ({clean(exc.strerror, 100)})") from None
    try:
        for part in relative.parts[:-1]:
            if _is_link(part, folder):
                raise NoSubmission(_link(shown))
            inner = _open_nofollow(part, folder, os.O_RDONLY | os.O_DIRECTORY, shown)
            os.close(folder)
            folder = inner
        name = relative.parts[-1]
        if _is_link(name, folder):
            raise NoSubmission(_link(shown))
        fd = _open_nofollow(name, folder, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY, shown)
    finally:
        os.close(folder)
    try:
        return _read_fd(fd, cap, shown)
    finally:
        os.close(fd)


def _is_link(name: str, folder: int) -> bool:
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=folder, follow_symlinks=False).st_mode)
    except OSError:
        return False  # the open that follows says what is wrong


def _open_nofollow(name: str, folder: int, flags: int, shown: str) -> int:
    try:
        return os.open(name, flags | os.O_NOFOLLOW, dir_fd=folder)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.EMLINK):
            raise NoSubmission(_link(shown)) from None
        raise NoSubmission(f"{shown} could not be read ({clean(exc.strerror, 100)}): "
                           "upload it again") from None


def _read_fd(fd: int, cap: int, shown: str) -> bytes:
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        raise NoSubmission(f"{shown} is not a regular file ({_kind(info.st_mode)}): "
                           "upload the file itself")
    if info.st_size > cap:
        raise NoSubmission(_too_large(shown, cap))
    chunks, size = [], 0
    try:
        while size <= cap and (chunk := os.read(fd, min(1 << 20, cap + 1 - size))):
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise NoSubmission(f"{shown} could not be read ({clean(exc.strerror, 100)}): "
                           "upload it again") from None
    if size > cap:  # it grew while read
        raise NoSubmission(_too_large(shown, cap))
    return b"".join(chunks)


def _too_large(shown: str, cap: int) -> str:
    return f"{shown} is larger than {cap / 1_000_000:g} MB: upload only your code"


def _kind(mode: int) -> str:
    for test, kind in ((stat.S_ISFIFO, "a named pipe"), (stat.S_ISCHR, "a device"),
                       (stat.S_ISBLK, "a device"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISDIR, "a folder")):
        if test(mode):
            return kind
    return "not a file"


def upload_digest(upload: Path, cap: int = MAX_NOTEBOOK_BYTES,
                  budget: int = 5 * MAX_NOTEBOOK_BYTES) -> bytes:
    """A digest of everything in an upload, for a batch to tell whether it changed, read
    the same safe way (no link followed, no blocking open): a link counts by its target's
    name, a special file by its kind, a file by its bytes, or (over `cap`, or once
    `budget` bytes were read: a data set uploaded along) by its size and time."""
    digest = hashlib.sha256()
    try:
        top = upload.lstat()
    except OSError:
        return b"<missing>"
    if stat.S_ISDIR(top.st_mode):
        try:
            files = _walk(upload)
        except NoSubmission:
            files = []
            digest.update(b"<too many files>")
        root = upload
    else:
        files, root = [upload], upload.parent
    for path in files:
        relative = path.relative_to(root)
        digest.update(os.fsencode(relative) + b"\0")
        try:
            info = path.lstat()
            if stat.S_ISLNK(info.st_mode):
                digest.update(b"link:" + os.fsencode(os.readlink(path)))
            elif not stat.S_ISREG(info.st_mode):
                digest.update(f"special:{stat.S_IFMT(info.st_mode)}".encode())
            elif info.st_size > min(cap, budget):
                digest.update(f"file:{info.st_size}:{info.st_mtime_ns}".encode())
            else:
                budget -= info.st_size
                digest.update(hashlib.sha256(read_regular(root, PurePosixPath(relative),
                                                          cap)).digest())
        except (OSError, NoSubmission) as exc:
            digest.update(f"unreadable:{exc}".encode(errors="replace"))
    return digest.digest()


def source_lines(text: str) -> list[str]:
    """The lines of source as Python numbers them, each cleaned to be quoted in a message."""
    return [clean(line, 300) for line in _NEWLINE.split(text)]


# --- notebooks ----------------------------------------------------------------------------


def notebook_module(data: bytes, name: str) -> Staged:
    """A notebook's code cells as a module that runs them one at a time (_run_cells)."""
    try:
        notebook = json.loads(data)  # bytes: UTF-8, -16 or -32, as the JSON standard says
        too_deep = _nesting(notebook) > MAX_NESTING
    except RecursionError:  # json.loads recurses: past ~1000 levels it stops with this
        too_deep = True
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        raise NoSubmission(_invalid(name, clean(exc, 200))) from None
    if too_deep:
        raise NoSubmission(_invalid(name, f"it is nested more than {MAX_NESTING} levels deep"))
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if not isinstance(cells, list):
        raise NoSubmission(_invalid(name, "it has no list of cells"))
    code: list[tuple[int, str]] = []
    for number, cell in enumerate(cells, 1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(line, str) for line in source):
            source = "".join(source)
        if not isinstance(source, str):  # a hand-edited file: not something Jupyter saves
            raise NoSubmission(_invalid(name, f"cell {number} holds no text"))
        if source.strip():
            code.append((number, _python_only(valid_unicode(source))))
    if not code:
        raise NoSubmission(f"{name} has no code cells: nothing to grade.")
    # The listing messages quote: every code cell under a header line, numbered as a
    # worker reports lines (each cell is compiled as if it stood at its place here).
    lines, starts, runs = [], {}, []
    for number, source in code:
        lines.append(f"# --- cell {number} ---")
        starts[len(lines) + 1] = number
        runs.append((number, len(lines) + 1, source))
        lines += _NEWLINE.split(source)
    # display() and the runner under a file name of their own: a line a worker reports
    # in this module's file is then always a line of a cell
    runner = f"{_DISPLAY}\n{_RUN_CELLS_SOURCE}"
    module = (f"# The notebook {name!r}, as the autograder runs it: each code cell in turn.\n"
              f"exec(compile({runner!r}, '<notebook runner>', 'exec'))\n"
              f"{_SKIPPED} = _run_cells(__file__, {runs!r}, {CELL_SECONDS!r}, {CELLS_SECONDS!r})\n"
              "del _run_cells\n")
    return Staged(module.encode(), [clean(line, 300) for line in lines], starts)


def _nesting(value: object) -> int:
    """How deep lists and objects nest in parsed JSON (walked without recursion), counted
    up to MAX_NESTING + 1."""
    deepest, stack = 0, [(value, 1)]
    while stack and deepest <= MAX_NESTING:
        item, depth = stack.pop()
        if isinstance(item, list | dict):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1)
                         for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def _invalid(name: str, why: str) -> str:
    return (f"{name} is not a valid Jupyter notebook ({why}). Re-download it from Jupyter or "
            "Colab (File > Download > .ipynb).")


# Jupyter gives a notebook display() without an import; as a module the name would not
# exist. A student's own display (an import from IPython, say) replaces this one.
_DISPLAY = "def display(*objects, **options): print(*objects)  # as in Jupyter\n"


def _run_cells(filename, cells, seconds, total):  # noqa: ANN001, ANN202 (runs in a worker)
    """Run each cell in the module's namespace, as Jupyter does; skip one that is not
    Python, raises, or runs past `seconds` (or past what is left of `total`; a cell still
    gets a tenth of a second, enough to define functions; once `total` is spent, only a
    cell's imports and definitions run). Returns [cell, what happened,
    message] for each skipped cell. Runs in the sandbox worker, in the notebook's module."""
    import ast
    import signal
    import time

    class CellTimeout(BaseException):
        pass

    # once `total` is spent only a cell's definitions still run, each cell with its floor
    _DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import,
                    ast.ImportFrom)

    def stop(signum, frame):  # noqa: ANN001, ANN202
        raise CellTimeout

    namespace, skipped, spent = globals(), [], 0.0
    for number, first_line, source in cells:
        started = time.monotonic()
        try:
            try:  # numbered as if it stood at first_line: errors name the listing's lines
                tree = ast.parse(source, filename)
            except (SyntaxError, ValueError) as exc:  # ValueError: a NUL byte in the cell
                where = getattr(exc, "lineno", None)
                where = f", line {where}" if where else ""
                skipped.append([number, "SyntaxError", f"{getattr(exc, 'msg', exc)}{where}"])
                continue
            if spent >= total:  # the time for top-level work is up: definitions only
                kept = [node for node in tree.body if isinstance(node, _DEFINITIONS)]
                if len(kept) < len(tree.body):
                    skipped.append([number, "out_of_time", ""])
                    tree.body = kept
            code = compile(ast.increment_lineno(tree, first_line - 1), filename, "exec")
            previous = signal.signal(signal.SIGALRM, stop)
            signal.setitimer(signal.ITIMER_REAL, max(0.1, min(seconds, total - spent)))
            try:
                exec(code, namespace)
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, previous)
        except CellTimeout:  # (also when the alarm came just as the cell ended)
            skipped.append([number, "timeout", ""])
        except BaseException as exc:  # noqa: BLE001 (SystemExit too: as Jupyter does)
            try:
                message = str(exc)[:300]
            except BaseException:  # noqa: BLE001
                message = ""
            skipped.append([number, type(exc).__name__, message])
        spent += time.monotonic() - started
    return skipped


# read once, at import: a file edited on disk later must not change what workers run
_RUN_CELLS_SOURCE = inspect.getsource(_run_cells)


def skipped_cell_notes(value: object, staged: Staged) -> list[str]:
    """The notes for the cells a worker reports skipped. The report comes from the
    submission's own process, so it is checked: only real cells, and only the name of a
    built-in exception (a class of the student's is "an exception")."""
    if not isinstance(value, list):
        return []
    numbers = set(staged.cells.values())
    notes = []
    for item in value:
        if not (isinstance(item, list) and len(item) == 3 and item[0] in numbers
                and isinstance(item[1], str) and isinstance(item[2], str)):
            continue
        number, kind, message = item
        if kind == "timeout":
            what = (f"ran too long (a cell's top-level code may run {CELL_SECONDS:g} s, all "
                    f"cells {CELLS_SECONDS:g} s)")
        elif kind == "SyntaxError":
            what = f"is not Python ({clean(message, 200)})"
        else:
            shown = kind if kind in BUILTIN_EXCEPTIONS else "an exception"
            what = f"raised {shown}" + (f" ({clean(message, 200)})" if message else "")
        if kind == "out_of_time":
            notes.append(f"Cell {number} ({_first_line(staged, number)}): the cells' "
                         f"{CELLS_SECONDS:g} s for top-level code were used up, so only its "
                         "imports and definitions ran.")
            continue
        notes.append(f"Cell {number} ({_first_line(staged, number)}) {what}; it was skipped.")
    if len(notes) > MAX_CELL_NOTES:
        notes[MAX_CELL_NOTES:] = [f"{len(notes) - MAX_CELL_NOTES} more cells were skipped."]
    return notes


def _first_line(staged: Staged, number: int) -> str:
    """The cell's first line of code, for the student to find it by (Jupyter and Colab
    number no cells)."""
    start = next(line for line, cell in staged.cells.items() if cell == number)
    cell = staged.lines[start - 1:]
    first = next((line.strip() for line in cell if line.strip()), "")
    return f"`{first[:40]}`" if len(first) <= 40 else f"`{first[:37]}...`"



def _python_only(cell: str) -> str:
    """The cell with what only IPython runs turned into comments, line for line."""
    lines = _NEWLINE.split(cell)
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
            # or a later cell that uses x fails
            out.append(f"{indent}{stripped[6:].lstrip()}")
        elif stripped.startswith(("%", "!")) or _OTTER_LINE.match(line) or _HELP_LINE.match(line):
            out.append(f"{indent}pass  # {stripped}" if indent else f"# {stripped}")
        else:
            out.append(line)
    return "\n".join(out)
