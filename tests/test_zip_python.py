"""The zip runs on Gradescope's own Python (Ubuntu 22.04: 3.10) and installs only what
grading imports.

- Every Python file in the zip needs nothing newer than Python 3.10 (vermin reads them
  all, a module imported with a fallback for older Pythons aside; where a Python 3.10 is
  on the machine, it compiles them too).
- The zip's requirements.txt is the grading-only list: pinned, every package in it is
  imported by the zip's code, and every import of the zip's code is the standard
  library, the package itself, or a package in that list.
"""

from __future__ import annotations

import ast
import glob
import importlib.metadata
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.homework import Homework
from release import gradescope, gradescope_test

ROOT = Path(__file__).resolve().parents[1]
VERMIN = Path(sys.executable).with_name("vermin")


@pytest.fixture(scope="module")
def unzipped(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("zip")
    archive = gradescope.build(folder / "autograder.zip")
    gradescope_test.unzip(archive, folder / "source")
    return folder / "source"


@pytest.fixture(scope="module")
def python_files(unzipped) -> list[Path]:
    files = sorted(unzipped.rglob("*.py"))
    assert any(p.name == "grade.py" for p in files) and any(p.name == "zygote.py" for p in files)
    return files


def test_the_zips_python_needs_nothing_newer_than_3_10(python_files):
    """vermin's verdict, less the modules a file imports only with a fallback for older
    Pythons (`try: import tomllib` / `except ImportError: import tomli as tomllib`), which
    vermin counts as needed anyway."""
    done = subprocess.run([str(VERMIN), "-t=3.10-", "--no-tips", "--violations",
                           *map(str, python_files)], capture_output=True, text=True, timeout=300)
    assert "Minimum required versions" in done.stdout, done.stdout + done.stderr
    fallbacks = {path: _fallback_imports(path) for path in python_files}
    problems, current = [], None
    for line in done.stdout.splitlines():
        header = re.match(r"^\S.*\s(/\S+\.py)$", line)
        if header:
            current = Path(header.group(1))
        elif line.startswith("  ") and current is not None:
            module = re.match(r"\s+'([\w.]+)' module requires", line)
            if not (module and module.group(1) in fallbacks.get(current, set())):
                problems.append(f"{current.name}: {line.strip()}")
    assert not problems, "\n".join(problems)


def _fallback_imports(path: Path) -> set[str]:
    """The modules a file imports only in the body of a `try:` that catches ImportError."""
    tree = ast.parse(path.read_bytes())
    guarded_nodes: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and any(_catches_import_error(h) for h in node.handlers):
            for statement in node.body:
                guarded_nodes.update(id(n) for n in ast.walk(statement)
                                     if isinstance(n, (ast.Import, ast.ImportFrom)))
    guarded: set[str] = set()
    unguarded: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names = [node.module]
        else:
            continue
        (guarded if id(node) in guarded_nodes else unguarded).update(names)
    return guarded - unguarded


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(isinstance(kind, ast.Name) and kind.id in ("ImportError", "ModuleNotFoundError")
               for kind in kinds)


def _python_3_10() -> str | None:
    """A Python 3.10 interpreter on this machine (a pyenv one will do), or None."""
    candidates = [shutil.which("python3.10"),
                  *sorted(glob.glob("/root/.pyenv/versions/3.10*/bin/python3.10"))]
    for candidate in filter(None, candidates):
        done = subprocess.run([candidate, "-c", "import sys; print(sys.version_info[:2])"],
                              capture_output=True, text=True, timeout=60)
        if done.returncode == 0 and done.stdout.strip() == "(3, 10)":
            return candidate
    return None


@pytest.mark.skipif(_python_3_10() is None, reason="no Python 3.10 on this machine")
def test_python_3_10_compiles_every_file_of_the_zip(python_files):
    code = ("import sys\n"
            "for path in sys.argv[1:]:\n"
            "    with open(path, 'rb') as f:\n"
            "        compile(f.read(), path, 'exec')\n")
    done = subprocess.run([_python_3_10(), "-c", code, *map(str, python_files)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr


def _requirements(unzipped: Path) -> dict[str, str]:
    """Each requirement of the zip's requirements.txt: name -> the line as written."""
    listed = {}
    for line in (unzipped / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name = re.match(r"[A-Za-z0-9_.-]+", line).group(0)
            listed[_normal(name)] = line
    return listed


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _imports(files: list[Path]) -> dict[str, set[str]]:
    """Top-level module name -> the zip's files that import it (anywhere in the file)."""
    found: dict[str, set[str]] = {}
    for path in files:
        for node in ast.walk(ast.parse(path.read_bytes())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names = [node.module]
            for name in names:
                found.setdefault(name.split(".")[0], set()).add(path.name)
    return found


def test_the_zips_requirements_are_pinned_and_grading_only(unzipped, python_files):
    listed = _requirements(unzipped)
    assert "torch" in listed and "otter-grader" not in listed
    unpinned = [line for line in listed.values() if not re.search(r"==[\w.+]+", line)]
    assert not unpinned, f"not pinned: {unpinned}"
    providers: dict[str, set[str]] = {}  # import name -> the distributions giving it
    for module, dists in importlib.metadata.packages_distributions().items():
        providers.setdefault(module, set()).update(_normal(d) for d in dists)
    own = {p.name for p in unzipped.iterdir() if p.is_dir()}
    used: set[str] = set()
    unlisted = {}
    for module, where in _imports(python_files).items():
        if module in sys.stdlib_module_names or module in own or module == "__future__":
            continue
        given = providers.get(module, {_normal(module)}) & listed.keys()
        if given:
            used.update(given)
        else:
            unlisted[module] = sorted(where)
    assert not unlisted, f"imported by the zip's code but not in its requirements: {unlisted}"
    unused = sorted(listed.keys() - used)
    assert not unused, f"in the zip's requirements but imported by none of its code: {unused}"


def test_the_grading_requirements_agree_with_the_full_list_on_torch():
    """One torch for the developers and for Gradescope."""
    full = (ROOT / "requirements.txt").read_text()
    grading = Homework.load().requirements.read_text()  # the homework's, where torch is
    pin = re.search(r"^torch==([\w.+]+)", grading, re.M)
    assert pin and re.search(rf"^torch=={re.escape(pin.group(1))}\b", full, re.M)
