"""Regenerate the student release in assignment/ from the reference solution.

``python -m release.student`` (what ``make student`` runs) writes:

- ``assignment/regression.py``: ``solutions/regression.py`` with every
  ``# BEGIN SOLUTION`` ... ``# END SOLUTION`` block replaced by a stub that
  raises ``NotImplementedError``. Docstrings and comments outside the blocks
  (the hints) are kept, so the solution file is the one place to edit them.
- ``assignment/regression.ipynb``: the same stubbed text as a notebook for
  Jupyter and Colab (``notebook_text``). Its code cells are that text cut at its
  top-level statements (the imports and data, each function, the walk-through);
  its markdown cells are sections of the student README (the intro, each
  question, working in a notebook, submitting). Each stub comes just before the
  first question whose public test takes it, and each question ends with a
  ``grader.check("qN")`` cell that runs ``tests/qN.py`` through otter. The only
  text written here is that glue: two setup cells and the walk-through's run cell.
- every file under ``release/template/`` (the student README, pytest.ini, the
  pytest plugin conftest.py and the public otter test files), copied as is.

So ``assignment/`` is entirely generated: edit ``solutions/`` or
``release/template/``, never ``assignment/``. The build is all-or-nothing and
deterministic: a marker mistake (or a README whose questions do not match the
test files) stops it before anything is written, with a message naming the file
and line, and an unchanged source rebuilds byte-identical files (the notebook's
cell ids are named after their content, never random). ``stub_source`` is the
one transformation (source text in, student text out); both the .py and the
notebook start from it, and ``notebook_text(..., stubbed=False)`` builds the
solution notebook that the package's tests run.
"""

from __future__ import annotations

import argparse
import ast
import io
import json
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

    The one transformation from solution to student text; the .py release is
    its result, and the notebook release is its result cut into cells.
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


# The notebook release: regression.ipynb, cut from the same stubbed text as regression.py.
#
# The notebook has no text of its own for the homework: its code cells are the stubbed
# module cut at its top-level statements (split_module), its markdown cells are sections
# of the student README (the intro, the questions, working in a notebook, submitting), and
# each stub sits just before the first question whose public test takes it as an argument.
# What is written here is only the glue: the setup cells, the check cells and the cell
# that runs the walk-through.

NOTEBOOK = "regression.ipynb"
README_QUESTIONS = "## The questions"
README_NOTEBOOK = "## Work in a notebook (Jupyter or Colab)"
README_SUBMIT = "## Submit"
WALKTHROUGH = "main"  # the function that walks through the lecture (with the _helpers it uses)

_INSTALL_CELL = """\
# Setup, 1 of 2: installs what is missing here (in Colab: otter-grader). Where
# everything is installed already, it does nothing.
import importlib.util

if importlib.util.find_spec("otter") is None:
    %pip install -q otter-grader"""

_CHECKS_CELL = """\
# Setup, 2 of 2: the check cells run the public tests in the tests/ folder next to
# this notebook (grader.check("q1") runs tests/q1.py).
from pathlib import Path

import otter

if not Path("tests").is_dir():
    print("There is no tests/ folder next to this notebook, so the checks cannot run.")
    print("See 'Work in a notebook' above, then run this cell again.")
grader = otter.Notebook(tests_dir="tests")"""

_WALKTHROUGH_TEXT = """\
## The lecture, step by step

The next cell defines the lecture's walk-through; the one after it runs it with
your functions. It prints each answer in the lecture's order and stops at the
first function you have not written yet."""

_RUN_CELL = f"""\
# The walk-through with your functions. The autograder skips this cell, as it skips
# the walk-through at the end of regression.py: it grades your functions only.
if __name__ == "__main__":
    try:
        {WALKTHROUGH}()
    except NotImplementedError as error:
        print(f"Stopped: {{error}}. Write it above, then run this cell again.")"""

_ITEM = re.compile(r"(\d+)\. ")
_TEST_REFERENCE = re.compile(r"`tests/(\w+)\.py`")


@dataclass(frozen=True)
class ModuleParts:
    """A module cut at its top-level statements, for the notebook's code cells."""

    prelude: str  # the imports and the data: every statement before the first function
    functions: dict[str, str]  # each top-level function with the comments above it, in order


@dataclass(frozen=True)
class Question:
    """One question of the student README, with its public test file."""

    name: str  # "q1": the test file tests/q1.py and the name grader.check takes
    number: int  # its number in the README's list
    text: str  # the README's list item, as markdown
    uses: frozenset[str]  # the names its test cases take (forward, mse, update)


def _is_main_guard(node: ast.stmt) -> bool:
    return isinstance(node, ast.If) and ast.unparse(node.test) in (
        "__name__ == '__main__'",
        "'__main__' == __name__",
    )


def split_module(text: str, path: str = "<source>") -> ModuleParts:
    """Cut a module into its prelude and its functions.

    The module docstring and the ``if __name__ == "__main__":`` block are left
    out (the README's text and the notebook's run cell stand for them). Comments
    above a statement go with it. A statement after the first function, other
    than that block, is an error: the notebook puts the prelude first.
    """
    tree = ast.parse(text, filename=path)
    lines = text.splitlines()
    starts = [min([n.lineno] + [d.lineno for d in getattr(n, "decorator_list", [])])
              for n in tree.body] + [len(lines) + 1]
    prelude: list[str] = []
    functions: dict[str, str] = {}
    previous_end = 0
    for index, node in enumerate(tree.body):
        end = node.end_lineno
        # indented comments after the last statement (an "# END SOLUTION") belong to it
        for number in range(end + 1, starts[index + 1]):
            if lines[number - 1][:1].isspace() and lines[number - 1].strip():
                end = number
        chunk = lines[previous_end:end]
        previous_end = end
        if index == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # the module docstring
        if _is_main_guard(node):
            continue
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            functions[node.name] = "\n".join(chunk).strip("\n")
        elif functions:
            raise ReleaseError(
                path,
                node.lineno,
                "the notebook puts the imports and data before the functions: "
                "move this statement above the first function",
            )
        else:
            prelude.extend(chunk)
    return ModuleParts("\n".join(prelude).strip("\n"), functions)


def _stubbed_functions(source: str, path: str) -> dict[str, int]:
    """The top-level functions that hold a solution block, in source order: {name: line}."""
    blocks = find_blocks(source, path)
    tree = ast.parse(source, filename=path)
    return {
        node.name: node.lineno
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and any(node.lineno < block.begin <= node.end_lineno for block in blocks)
    }


def _readme_sections(readme: str) -> dict[str, tuple[int, str]]:
    """The README cut at its ``#`` and ``##`` headings.

    Returns {heading line: (the line number of the body's first line, the body)},
    the body without the blank lines around it.
    """
    sections: dict[str, tuple[int, list[str]]] = {}
    current: list[str] | None = None
    in_code = False
    for number, line in enumerate(readme.splitlines(), 1):
        if line.startswith("```"):
            in_code = not in_code
        if not in_code and re.match(r"#{1,2} ", line):
            current = []
            sections[line.rstrip()] = (number, current)
        elif current is not None:
            current.append(line)
    cut = {}
    for heading, (number, body) in sections.items():
        text = "\n".join(body)
        blank_lines = len(text) - len(text.lstrip("\n"))
        cut[heading] = (number + 1 + blank_lines, text.strip("\n"))
    return cut


def _section(sections: dict[str, tuple[int, str]], heading: str, path: str) -> str:
    if heading not in sections:
        raise ReleaseError(path, 1, f"no '{heading}' section: the notebook takes its text from it")
    return f"{heading}\n\n{sections[heading][1]}"


def _test_arguments(test_file: Path) -> frozenset[str]:
    """The names the ``@test_case`` functions of a public test file take (otter passes them)."""
    tree = ast.parse(test_file.read_text(encoding="utf-8"), filename=str(test_file))
    names: set[str] = set()
    for node in tree.body:
        decorators = [d.func if isinstance(d, ast.Call) else d for d in
                      getattr(node, "decorator_list", [])]
        if any(isinstance(d, ast.Name) and d.id == "test_case" for d in decorators):
            names.update(a.arg for a in node.args.posonlyargs + node.args.args)
            names.update(a.arg for a in node.args.kwonlyargs)
    return frozenset(names - {"env"})


def read_questions(readme: str, tests: Path, path: str) -> list[Question]:
    """The numbered items of the README's questions section, each naming its `tests/qN.py`.

    Every public test file must have exactly one item, so the notebook checks
    every question and checks nothing that does not exist.
    """
    sections = _readme_sections(readme)
    _section(sections, README_QUESTIONS, path)
    start, body = sections[README_QUESTIONS]
    items: list[tuple[int, int, list[str]]] = []
    open_item: list[str] | None = None
    for offset, line in enumerate(body.splitlines()):
        match = _ITEM.match(line)
        if match:
            open_item = [line[match.end() :]]
            items.append((start + offset, int(match[1]), open_item))
        elif open_item is not None and (not line.strip() or line.startswith("   ")):
            open_item.append(line[3:])
        else:
            open_item = None
    questions = []
    for line, number, text in items:
        markdown = "\n".join(text).strip()
        names = _TEST_REFERENCE.findall(markdown)
        if len(set(names)) != 1:
            raise ReleaseError(path, line, "each question must name its test file once, "
                               "like (`tests/q1.py`)")
        test_file = tests / f"{names[0]}.py"
        if not test_file.is_file():
            raise ReleaseError(path, line, f"there is no public test file tests/{names[0]}.py")
        questions.append(Question(names[0], number, markdown, _test_arguments(test_file)))
    listed = [q.name for q in questions]
    files = sorted(p.stem for p in tests.glob("*.py"))
    missing = [name for name in files if name not in listed]
    if missing or len(set(listed)) != len(listed):
        raise ReleaseError(
            path, start, f"the questions must name each test file once: listed {listed}, "
            f"tests/ holds {files}"
        )
    return questions


def _cell(kind: str, cell_id: str, text: str) -> dict:
    """One nbformat 4.5 cell, its source split into lines the way Jupyter saves it."""
    cell = {"cell_type": kind, "id": cell_id, "metadata": {},
            "source": text.splitlines(keepends=True)}
    if kind == "code":
        cell.update(execution_count=None, outputs=[])
    return cell


def notebook_text(
    source: str, path: str = "<source>", *, stubbed: bool = True, template: Path = TEMPLATE
) -> str:
    """The notebook release, as JSON text, from the solution source and the template.

    With ``stubbed`` (the release) the code cells come from ``stub_source``;
    without it, from the solution itself (the package's tests run that notebook).
    Deterministic: cell ids are named after what the cell holds, not random.
    """
    readme_path = template / "README.md"
    readme = readme_path.read_text(encoding="utf-8")
    where = _display(readme_path)
    sections = _readme_sections(readme)
    title = next((h for h in sections if h.startswith("# ")), None)
    if title is None:
        raise ReleaseError(where, 1, "no '# ' title: the notebook takes its first cell from it")
    questions = read_questions(readme, template / "tests", where)
    stubs = _stubbed_functions(source, path)
    parts = split_module(stub_source(source, path) if stubbed else source, path)
    if WALKTHROUGH not in parts.functions:
        raise ReleaseError(path, 1, f"no {WALKTHROUGH}(): the notebook's last cell runs it")
    walkthrough = [
        name for name in parts.functions
        if name not in stubs and (name == WALKTHROUGH or name.startswith("_"))
    ]
    helpers = [name for name in parts.functions if name not in stubs and name not in walkthrough]

    before: dict[str, list[str]] = {q.name: [] for q in questions}
    for name, line in stubs.items():
        first = next((q for q in questions if name in q.uses), None)
        if first is None:
            raise ReleaseError(path, line, f"no public test takes {name}(): "
                               "the notebook has no question to put it before")
        before[first.name].append(name)

    cells = [
        _cell("markdown", "intro", _section(sections, title, where)),
        _cell("markdown", "notebook", _section(sections, README_NOTEBOOK, where)),
        _cell("code", "setup-install", _INSTALL_CELL),
        _cell("code", "setup-checks", _CHECKS_CELL),
        _cell("code", "data", parts.prelude),
        *(_cell("code", name.replace("_", "-"), parts.functions[name]) for name in helpers),
    ]
    for q in questions:
        cells.append(_cell("markdown", q.name, f"## Question {q.number}\n\n{q.text}"))
        for name in before[q.name]:
            cells.append(_cell("code", f"{q.name}-{name.replace('_', '-')}", parts.functions[name]))
        cells.append(_cell("code", f"{q.name}-check", f'grader.check("{q.name}")'))
    cells += [
        _cell("markdown", "walkthrough", _WALKTHROUGH_TEXT),
        _cell("code", "walkthrough-code", "\n\n\n".join(parts.functions[n] for n in walkthrough)),
        _cell("code", "walkthrough-run", _RUN_CELL),
        _cell("markdown", "submit", _section(sections, README_SUBMIT, where)),
    ]
    ids = [cell["id"] for cell in cells]
    assert len(set(ids)) == len(ids), f"notebook cell ids are not unique: {ids}"
    notebook = {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    # as nbformat writes it, so a notebook saved by Jupyter unchanged diffs little
    return json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def _is_cache(relative: Path) -> bool:
    return any(part in _CACHE_NAMES for part in relative.parts) or relative.suffix == ".pyc"


def release_files(solution: Path = SOLUTION, template: Path = TEMPLATE) -> dict[str, bytes]:
    """Return the whole student release as {path inside assignment/: content}.

    Built in memory first so that a marker error leaves assignment/ untouched.
    """
    source = solution.read_text(encoding="utf-8")
    where = _display(solution)
    files = {
        "regression.py": stub_source(source, where).encode("utf-8"),
        NOTEBOOK: notebook_text(source, where, template=template).encode("utf-8"),
    }
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
    except ReleaseError as error:
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
