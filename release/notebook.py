"""The notebook release: regression.ipynb, cut from the same stubbed text as regression.py.

The notebook stands alone: a student may open it in Colab with no other file. So

- the public tests travel inside it: the setup cell holds the text of every
  ``tests/qN.py`` and writes them to a fresh temporary folder that otter's
  ``grader.check`` reads. (Not otter's notebook-metadata tests: otter 7 refuses
  them in Colab, where the kernel cannot read the notebook file, and
  ``otter assign`` rejects them for ``runs_on: colab``.)
- its homework text is the student README's: the title section and each question;
  its code is the stubbed module cut at its top-level statements (the imports and
  data, each function), each stub just before the first question whose public test
  takes it. The walk-through (``main`` and the ``_`` helpers it uses) stays in
  regression.py: here every question has a cell that computes and prints its answer.
- what is written here is only the glue: the setup cell, the answer cells, question
  4's reflection cell, the check cells, ``grader.check_all()`` and ``grader.export()``.

Cells that only serve otter (setup, checks, export) carry otter's ``otter_ignore`` tag,
and each of their otter lines is one the autograder leaves out, so grading runs the
student's code only. Deterministic: cell ids are named after what the cell holds.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from pathlib import Path

from release.markers import ReleaseError, display_path, find_blocks
from release.stubs import stub_source

TEMPLATE = Path(__file__).resolve().parent / "template"
NOTEBOOK = "regression.ipynb"
README_QUESTIONS = "## The questions"
README_SUBMIT = "## Submit"
WALKTHROUGH = "main"  # the function that walks through the lecture (with the _helpers it uses)
# otter's own tag for cells that grading leaves out (otter.execute.preprocessor)
IGNORED = {"tags": ["otter_ignore"]}
# shown collapsed: Colab shows the form's title only, JupyterLab hides the source
COLLAPSED = {**IGNORED, "cellView": "form", "jupyter": {"source_hidden": True}}

_SETUP_TEXT = """\
## Setup

Run the next cell first, and again after a restart of the kernel or runtime. It
installs otter-grader where it is missing (in Colab) and loads this homework's
public tests, which travel inside this notebook: it needs no other file. Each
question ends with a check cell, such as `grader.check("q1")`, that runs that
question's public tests, the same ones as `python -m pytest` in the homework
folder."""

_SETUP_CELL = """\
# @title Setup: run this cell first (no need to read it)
import importlib
import importlib.util
import tempfile
from pathlib import Path

if importlib.util.find_spec("otter") is None:
    %pip install -q otter-grader
    importlib.invalidate_caches()

_PUBLIC_TESTS = {tests}


def _public_tests_folder():
    \"\"\"Write the public tests to a new temporary folder, for otter's grader.check.\"\"\"
    folder = Path(tempfile.mkdtemp(prefix="public-tests-"))
    for name, text in _PUBLIC_TESTS.items():
        (folder / f"{{name}}.py").write_text(text, encoding="utf-8")
    return str(folder)


import otter
grader = otter.Notebook(tests_dir=_public_tests_folder())"""

# One cell per question that computes its answer and shows it, as the lecture does.
# Each starts from fresh parameters (backward() adds to .grad, so a cell run twice
# would otherwise double them); question 6 uses the w and b that question 5 updated.
ANSWER_CELLS = {
    "q1": """\
# Question 1: run this cell once forward() is written.
w, b = initial_parameters()
prediction = forward(torch.tensor(20.0), w, b)
print("prediction for 20:", prediction)
print("true value:       ", 9 * 20 / 5 + 32)""",
    "q2": """\
# Question 2: the predictions on the five inputs.
w, b = initial_parameters()
preds = forward(inputs, w, b)
print("inputs: ", inputs)
print("targets:", targets)
print("preds:  ", preds)""",
    "q3": """\
# Question 3: the loss of those predictions.
w, b = initial_parameters()
preds = forward(inputs, w, b)
loss = mse(preds, targets)
print("loss:", loss)""",
    "q4": """\
# Question 4: the gradients (fresh w and b each run: backward() adds to .grad).
w, b = initial_parameters()
loss = mse(forward(inputs, w, b), targets)
loss.backward()
print("w:", w, "  w.grad:", w.grad)
print("b:", b, "  b.grad:", b.grad)""",
    "q5": """\
# Question 5: one update with learning rate 1e-4, after the gradients of question 4.
w, b = initial_parameters()
mse(forward(inputs, w, b), targets).backward()
update(w, b, lr=1e-4)
print(f"w = {w.item():.7g}, b = {b.item():.7g}")
print("w.grad:", w.grad, "  b.grad:", b.grad)""",
    "q6": """\
# Question 6: predict again with the w and b that question 5 updated.
new_preds = forward(inputs, w, b)
print("preds:", new_preds)
print("loss: ", mse(new_preds, targets))""",
}

# Questions that ask for a thought rather than a number: a cell for the student's words.
REFLECTION_CELLS = {
    "q4": """\
**Question 4, your answer.** What do the gradients say: should `w` get bigger or
smaller, and `b`? Compare with the true formula `f = 9c/5 + 32`. (No test grades
this answer.)

*Double-click here and write your answer.*""",
}

_CHECK_ALL_TEXT = """\
## Check everything

The next cell runs the public tests of every question again, on what the
notebook holds now."""

_EXPORT_CELL = """\
# Save the notebook first (File > Save). This makes a zip of the saved notebook to upload.
try:
    grader.export(pdf=False)
except (RuntimeError, ValueError) as error:  # in Colab otter cannot make the zip
    print(f"No zip was made ({error}). Upload the notebook itself instead;")
    print("in Colab: File > Download > Download .ipynb.")"""


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


def _cell(kind: str, cell_id: str, text: str, metadata: dict | None = None) -> dict:
    """One nbformat 4.5 cell, its source split into lines the way Jupyter saves it."""
    cell = {"cell_type": kind, "id": cell_id, "metadata": metadata or {},
            "source": text.splitlines(keepends=True)}
    if kind == "code":
        cell.update(execution_count=None, outputs=[])
    return cell


def setup_cell(tests: Path) -> str:
    """The setup cell's code, holding the text of every public test file in ``tests``."""
    texts = {p.stem: p.read_text(encoding="utf-8") for p in sorted(tests.glob("*.py"))}
    # one line per test file, so no line of a test is a line of the cell's code
    listed = "".join(f"\n    {name!r}: {text!r}," for name, text in texts.items())
    return _SETUP_CELL.format(tests="{" + listed + "\n}")


def _stubs_before(stubs: dict[str, int], questions: list[Question], path: str
                  ) -> dict[str, list[str]]:
    """Each question's stubs to show before it: a stub goes before the first question
    whose public test takes it."""
    before: dict[str, list[str]] = {q.name: [] for q in questions}
    for name, line in stubs.items():
        first = next((q for q in questions if name in q.uses), None)
        if first is None:
            raise ReleaseError(path, line, f"no public test takes {name}(): "
                               "the notebook has no question to put it before")
        before[first.name].append(name)
    return before


def _question_cells(q: Question, codes: list[str], names: list[str]) -> list[dict]:
    """One question: its text, the stubs it first tests, its answer cell, its reflection
    (if it has one) and its otter check."""
    text = _TEST_REFERENCE.sub("", q.text).replace(" ()", "").rstrip()
    cells = [_cell("markdown", q.name, f"## Question {q.number}\n\n{text}")]
    cells += [_cell("code", f"{q.name}-{name.replace('_', '-')}", code)
              for name, code in zip(names, codes, strict=True)]
    cells.append(_cell("code", f"{q.name}-answer", ANSWER_CELLS[q.name]))
    if q.name in REFLECTION_CELLS:
        cells.append(_cell("markdown", f"{q.name}-reflection", REFLECTION_CELLS[q.name]))
    cells.append(_cell("code", f"{q.name}-check", f'grader.check("{q.name}")', IGNORED))
    return cells


def notebook_text(
    source: str, path: str = "<source>", *, stubbed: bool = True, template: Path = TEMPLATE
) -> str:
    """The notebook release, as JSON text, from the solution source and the template.

    With ``stubbed`` (the release) the code cells come from ``stub_source``;
    without it, from the solution itself (the package's tests run that notebook).
    """
    readme_path = template / "README.md"
    readme = readme_path.read_text(encoding="utf-8")
    where = display_path(readme_path)
    sections = _readme_sections(readme)
    title = next((h for h in sections if h.startswith("# ")), None)
    if title is None:
        raise ReleaseError(where, 1, "no '# ' title: the notebook takes its first cell from it")
    questions = read_questions(readme, template / "tests", where)
    missing = [q.name for q in questions if q.name not in ANSWER_CELLS]
    if missing:
        raise ReleaseError(where, sections[README_QUESTIONS][0], f"no answer cell for {missing}: "
                           "add one to ANSWER_CELLS in release/notebook.py")
    stubs = _stubbed_functions(source, path)
    parts = split_module(stub_source(source, path) if stubbed else source, path)
    if WALKTHROUGH not in parts.functions:
        raise ReleaseError(path, 1, f"no {WALKTHROUGH}(): the notebook leaves it and its "
                           "_helpers out, and nothing else")
    helpers = [name for name in parts.functions
               if name not in stubs and name != WALKTHROUGH and not name.startswith("_")]

    before = _stubs_before(stubs, questions, path)
    cells = [
        _cell("markdown", "intro", _section(sections, title, where)),
        _cell("markdown", "setup", _SETUP_TEXT),
        _cell("code", "setup-code", setup_cell(template / "tests"), COLLAPSED),
        _cell("code", "data", parts.prelude),
        *(_cell("code", name.replace("_", "-"), parts.functions[name]) for name in helpers),
    ]
    for q in questions:
        cells += _question_cells(q, [parts.functions[name] for name in before[q.name]],
                                 before[q.name])
    cells += [
        _cell("markdown", "check-all", _CHECK_ALL_TEXT),
        _cell("code", "check-all-code", "grader.check_all()", IGNORED),
        _cell("markdown", "submit", _section(sections, README_SUBMIT, where)),
        _cell("code", "export", _EXPORT_CELL, IGNORED),
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
