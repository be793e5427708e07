"""The engine names no homework: everything it knows of one comes from homework.toml.

The engine is autograder/ without the homework's own folder (autograder/tests). For every
homework the repository holds (the course's, and the second one in tests/), the names
that are that homework's own must not occur in the engine: its module, the folders of its
reference, the libraries it preloads (anywhere, comments too), and its scenarios and the
functions they call on a submission (as names or strings in code; prose may say
"update", and a dict has .update).
"""

from __future__ import annotations

import ast
import dataclasses
import io
import re
import tokenize
from pathlib import Path

import pytest

from autograder.homework import Homework

ROOT = Path(__file__).resolve().parents[1]
ENGINE = ROOT / "autograder"
HOMEWORKS = [Homework.load(),
             *(Homework.load(p.parent) for p in sorted((ROOT / "tests").glob("*/homework.toml")))]


def engine_files() -> list[Path]:
    own = {homework.folder for homework in HOMEWORKS}
    return sorted(p for p in ENGINE.rglob("*")
                  if p.is_file() and p.suffix in ("", ".py", ".sh", ".txt")
                  and "__pycache__" not in p.parts and not any(p.is_relative_to(f) for f in own))


def functions(homework: Homework) -> set[str]:
    """The homework's functions: its scenarios, and what they call on the submission (an
    attribute of a scenario's first argument: `sub.forward`)."""
    tree = ast.parse(homework.scenarios.read_text())
    found: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and not node.name.startswith("_") and node.args.args:
            found.add(node.name)
            sub = node.args.args[0].arg
            found.update(n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)
                         and isinstance(n.value, ast.Name) and n.value.id == sub)
    return found


def words(homework: Homework) -> set[str]:
    """Names that are this homework's alone, to be found nowhere in the engine's text: its
    module, the libraries it preloads, its reference's folder (if not the homework's)."""
    found = {homework.module, *(name.split(".")[0] for name in homework.preload)}
    if homework.reference.parent != homework.folder:
        found.add(homework.reference.parent.name)
    return found - {f.name for f in dataclasses.fields(Homework)}  # "reference" is the engine's


def code_names(path: Path) -> set[str]:
    """The names a Python file's code uses (not attributes after a dot), and the words of
    its string literals that are not docstrings."""
    source = path.read_text()
    tree = ast.parse(source)
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef,
                                       ast.AsyncFunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr)
                  and isinstance(node.body[0].value, ast.Constant)}
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.alias):
            names.update(node.name.split("."))
        elif (isinstance(node, ast.Constant) and isinstance(node.value, str)
              and id(node) not in docstrings):
            names.update(re.findall(r"[A-Za-z_]\w*", node.value))
    return names


def comments_and_text(path: Path) -> str:
    text = path.read_text()
    if path.suffix != ".py":
        return text
    tokens = tokenize.generate_tokens(io.StringIO(text).readline)
    return "\n".join(t.string for t in tokens
                     if t.type in (tokenize.COMMENT, tokenize.STRING, tokenize.NAME))


@pytest.mark.parametrize("homework", HOMEWORKS, ids=lambda h: h.folder.name)
def test_the_engine_names_nothing_of_a_homework(homework):
    banned, called = words(homework), functions(homework)
    assert homework.module in banned and called, "the check itself found nothing to ban"
    found = []
    for path in engine_files():
        text = comments_and_text(path)
        found += [(path.relative_to(ROOT), word) for word in sorted(banned)
                  if re.search(rf"\b{re.escape(word)}\b", text)]
        if path.suffix == ".py":
            found += [(path.relative_to(ROOT), name)
                      for name in sorted(called & code_names(path))]
    assert not found, f"the engine names {homework.name}'s own: {found}"


def test_the_check_finds_a_name_where_there_is_one(tmp_path):
    """The scan above would see a homework's name: a line the engine might have had."""
    sample = tmp_path / "sample.py"
    sample.write_text('"""Doc: forward is fine in prose."""\nimport torch\n'
                      'x = sub.forward(1)\nwhat = "mse()"\nd = {}\nd.update(a=1)\n'
                      '# regression.py\n')
    names = code_names(sample)
    assert {"mse", "torch"} <= names and not {"update", "forward", "Doc", "fine"} & names
    assert re.search(r"\bregression\b", comments_and_text(sample))
