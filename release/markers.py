"""Solution markers: find the ``# BEGIN SOLUTION`` ... ``# END SOLUTION`` blocks, or say why not.

A marker mistake must stop the build with ``file:line: message`` rather than publish a
solution, so every comment that looks like a marker is checked, markers are read as
tokens (a marker quoted in a string is not one), and each block must sit inside one
function at one indentation.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

BEGIN = "# BEGIN SOLUTION"
END = "# END SOLUTION"
# Anything that looks like a marker is checked, so a typo cannot leak a solution.
_MARKER_LIKE = re.compile(r"#\s*(begin|end)\s*solution", re.IGNORECASE)


class ReleaseError(Exception):
    """A problem in a source of the release, reported as ``file:line: message`` (no traceback)."""

    def __init__(self, path: str, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path = path
        self.line = line


class MarkerError(ReleaseError):
    """A solution marker problem."""


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




def display_path(path: Path | str) -> str:
    """Name a file relative to the repository when it is inside it, for short messages."""
    path = Path(path)
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)
