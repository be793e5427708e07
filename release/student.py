"""Regenerate the student release in assignment/ from the reference solution.

``python -m release.student`` (what ``make student`` runs) writes:

- ``assignment/regression.py``: ``solutions/regression.py`` with every
  ``# BEGIN SOLUTION`` ... ``# END SOLUTION`` block replaced by a stub that
  raises ``NotImplementedError``. Docstrings and comments outside the blocks
  (the hints) are kept, so the solution file is the one place to edit them.
- every file under ``release/template/`` (the student README, pytest.ini, the
  pytest plugin conftest.py and the public otter test files), copied as is.

So ``assignment/`` is entirely generated: edit ``solutions/`` or
``release/template/``, never ``assignment/``. The build is all-or-nothing and
deterministic: a marker mistake stops it before anything is written, with a
message naming the file and line, and an unchanged source rebuilds byte-identical
files. ``stub_source`` is the reusable step (source text in, student text out) so
that a notebook builder can start from the same stubbed text.
"""

from __future__ import annotations

import argparse
import ast
import io
import re
import sys
import tokenize
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOLUTION = ROOT / "solutions" / "regression.py"
TEMPLATE = ROOT / "release" / "template"
ASSIGNMENT = ROOT / "assignment"

BEGIN = "# BEGIN SOLUTION"
END = "# END SOLUTION"
# Anything that looks like a marker is checked, so a typo cannot leak a solution.
_MARKER_LIKE = re.compile(r"#\s*(begin|end)\s*solution", re.IGNORECASE)
# Files left in assignment/ by running the tests there; never part of the release.
_CACHE_NAMES = {"__pycache__", ".pytest_cache", ".OTTER_LOG", ".ipynb_checkpoints"}


class MarkerError(Exception):
    """A solution marker problem, reported as ``file:line: message`` without a traceback."""

    def __init__(self, path: str, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path = path
        self.line = line


@dataclass(frozen=True)
class Block:
    """One solution block: the marker lines (1-based) and where the stub goes."""

    begin: int
    end: int
    function: str
    indent: str


@dataclass(frozen=True)
class _Marker:
    kind: str  # "BEGIN" or "END"
    line: int
    col: int


def _display(path: Path | str) -> str:
    """Name a file relative to the repository when it is inside it, for short messages."""
    path = Path(path)
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def _scan(source: str, path: str) -> tuple[list[_Marker], list[tuple[int, int]]]:
    """Find the marker comments and the (line, column) where each statement starts.

    Tokens rather than text search, so a marker quoted inside a string or
    docstring is not a marker, and the statement starts tell which function a
    comment sits in.
    """
    markers: list[_Marker] = []
    starts: list[tuple[int, int]] = []
    lines = source.splitlines()
    at_statement_start = True
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.COMMENT:
                if not _MARKER_LIKE.match(tok.string):
                    continue
                line, col = tok.start
                text = " ".join(tok.string.split())
                if lines[line - 1][:col].strip():
                    raise MarkerError(path, line, f"'{text}' must be on a line of its own")
                if text == BEGIN:
                    markers.append(_Marker("BEGIN", line, col))
                elif text == END:
                    markers.append(_Marker("END", line, col))
                else:
                    raise MarkerError(
                        path, line, f"'{text}' looks like a marker; write '{BEGIN}' or '{END}'"
                    )
            elif tok.type in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
                at_statement_start = True
            elif tok.type in (tokenize.NL, tokenize.ENCODING):
                continue
            elif at_statement_start and tok.type != tokenize.ENDMARKER:
                starts.append(tok.start)
                at_statement_start = False
    except (tokenize.TokenError, IndentationError, SyntaxError) as error:
        line = getattr(error, "lineno", None) or (error.args[1][0] if len(error.args) > 1 else 1)
        raise MarkerError(path, line, f"not valid Python: {error.args[0]}") from None
    return markers, starts


def _enclosing_function(
    line: int, col: int, functions: list[ast.AST], starts: list[tuple[int, int]]
) -> str | None:
    """Name the innermost function whose body holds a comment at (line, col), if any.

    A comment belongs to a function when it is indented deeper than the ``def``
    and no statement between the ``def`` and the comment is dedented to the
    ``def``'s level or further (which would mean the function had ended).
    """
    best = None
    for func in functions:
        if not (func.lineno < line and col > func.col_offset):
            continue
        ended = any(
            func.lineno < s_line <= line and s_col <= func.col_offset for s_line, s_col in starts
        )
        if not ended and (
            best is None
            or func.col_offset > best.col_offset
            or (func.col_offset == best.col_offset and func.lineno > best.lineno)
        ):
            best = func
    return None if best is None else best.name


def find_blocks(source: str, path: str = "<source>") -> list[Block]:
    """Find the solution blocks in ``source`` and check that the markers are well formed.

    Raises ``MarkerError`` naming ``path`` and the line for: a BEGIN without an
    END, an END without a BEGIN, a BEGIN inside an open block, a marker outside
    a function, an END in another function or at another indentation than its
    BEGIN, a near-miss spelling, or a source with no block at all (which would
    publish the whole solution).
    """
    try:
        tree = ast.parse(source, filename=path)
    except SyntaxError as error:
        raise MarkerError(path, error.lineno or 1, f"not valid Python: {error.msg}") from None
    markers, starts = _scan(source, path)
    function_types = (ast.FunctionDef, ast.AsyncFunctionDef)
    functions = [node for node in ast.walk(tree) if isinstance(node, function_types)]

    blocks: list[Block] = []
    open_marker: _Marker | None = None
    open_function = ""
    for marker in markers:
        function = _enclosing_function(marker.line, marker.col, functions, starts)
        if marker.kind == "BEGIN":
            if open_marker is not None:
                raise MarkerError(
                    path,
                    marker.line,
                    f"'{BEGIN}' inside the block opened at line {open_marker.line} "
                    f"(blocks cannot nest; is an '{END}' missing?)",
                )
            if function is None:
                raise MarkerError(path, marker.line, f"'{BEGIN}' is outside a function")
            open_marker, open_function = marker, function
            continue
        if open_marker is None:
            raise MarkerError(path, marker.line, f"'{END}' without an open '{BEGIN}' before it")
        if function != open_function or marker.col != open_marker.col:
            raise MarkerError(
                path,
                marker.line,
                f"'{END}' does not line up with '{BEGIN}' at line {open_marker.line} "
                f"in {open_function}() (same function, same indentation)",
            )
        dedented = [
            s for s in starts if open_marker.line < s[0] < marker.line and s[1] < open_marker.col
        ]
        if dedented:
            raise MarkerError(
                path,
                dedented[0][0],
                f"code less indented than '{BEGIN}' at line {open_marker.line}: "
                f"the block leaves {open_function}() (is an '{END}' missing?)",
            )
        indent = source.splitlines()[open_marker.line - 1][: open_marker.col]
        blocks.append(Block(open_marker.line, marker.line, open_function, indent))
        open_marker = None
    if open_marker is not None:
        raise MarkerError(path, open_marker.line, f"'{BEGIN}' has no matching '{END}'")
    if not blocks:
        raise MarkerError(path, 1, f"no '{BEGIN}' blocks: the release would be the solution")
    return blocks


def stub_lines(block: Block) -> list[str]:
    """The lines that replace one block: a pointer for the student and a clear failure."""
    return [
        f"{block.indent}# YOUR CODE HERE (replace the raise below)",
        f'{block.indent}raise NotImplementedError("{block.function}() is not implemented yet")',
    ]


def stub_source(source: str, path: str = "<source>") -> str:
    """Return ``source`` with every solution block replaced by its stub.

    The one transformation from solution to student text; the .py release uses
    it now, and a notebook release can split its result into cells later.
    """
    blocks = find_blocks(source, path)
    lines = source.splitlines()
    out: list[str] = []
    previous_end = 0
    for block in blocks:
        out.extend(lines[previous_end : block.begin - 1])
        out.extend(stub_lines(block))
        previous_end = block.end
    out.extend(lines[previous_end:])
    text = "\n".join(out) + "\n"
    try:
        ast.parse(text, filename=path)
    except SyntaxError as error:  # a bug here, not in the source: say so plainly
        message = f"stubbed text is not valid Python: {error.msg}"
        raise MarkerError(path, error.lineno or 1, message) from None
    return text


def _is_cache(relative: Path) -> bool:
    return any(part in _CACHE_NAMES for part in relative.parts) or relative.suffix == ".pyc"


def release_files(solution: Path = SOLUTION, template: Path = TEMPLATE) -> dict[str, bytes]:
    """Return the whole student release as {path inside assignment/: content}.

    Built in memory first so that a marker error leaves assignment/ untouched.
    """
    source = solution.read_text(encoding="utf-8")
    files = {"regression.py": stub_source(source, _display(solution)).encode("utf-8")}
    for item in sorted(template.rglob("*")):
        relative = item.relative_to(template)
        if item.is_file() and not _is_cache(relative):
            files[relative.as_posix()] = item.read_bytes()
    return files


def write_release(files: dict[str, bytes], dest: Path) -> list[str]:
    """Make ``dest`` hold exactly ``files`` (caches aside); return what changed, for the log.

    Unchanged files are not rewritten, and files that are no longer part of the
    release are removed, so a renamed test cannot linger in assignment/.
    """
    changes = []
    for name in sorted(files):
        target = dest / name
        if target.is_file() and target.read_bytes() == files[name]:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(files[name])
        changes.append(f"wrote {_display(target)}")
    if dest.is_dir():
        for item in sorted(dest.rglob("*"), reverse=True):
            relative = item.relative_to(dest)
            if _is_cache(relative) or relative.as_posix() in files:
                continue
            if item.is_file() or item.is_symlink():
                item.unlink()
                changes.append(f"removed {_display(item)}")
            elif item.is_dir() and not any(item.iterdir()):
                item.rmdir()
    return changes


def main(argv: list[str] | None = None) -> int:
    """Command line: build the release, or report a marker error and exit 1."""
    parser = argparse.ArgumentParser(
        prog="python -m release.student", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--solution", type=Path, default=SOLUTION, help="the solution file")
    parser.add_argument("--out", type=Path, default=ASSIGNMENT, help="where to write the release")
    args = parser.parse_args(argv)
    try:
        files = release_files(args.solution)
    except MarkerError as error:
        print(f"error: {error}", file=sys.stderr)
        print("The student release was not written.", file=sys.stderr)
        return 1
    changes = write_release(files, args.out)
    for change in changes:
        print(change)
    state = f"updated ({len(changes)} changes)" if changes else "already up to date"
    print(f"{_display(args.out)}/: {len(files)} files, {state}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
