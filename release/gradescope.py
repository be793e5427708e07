"""Build the Gradescope autograder zip: `python -m release.gradescope` (make autograder).

Gradescope unzips it into /autograder/source and wants `setup.sh` and `run_autograder` at
its root. Besides those two it holds what grading needs and nothing else:

- requirements.txt: the grading-only list, the engine's (autograder/gradescope/
  requirements.txt) and then the homework's (its homework.toml `requirements`), not the
  developers' full one;
- homework.path: where in the zip the homework's folder is (run_autograder reads it);
- the grading code: the modules `python -m autograder.grade` and the sandbox's zygote
  import (followed through their imports), with the data files beside them;
- the homework's folder (its hidden tests) and the other secret folders its
  homework.toml names (the reference solution's), whole, with the plan of scenario calls
  learnt from them (judge.Plan) and their expected answers (judge.Answers): refreshed
  here first when stale, so Gradescope's one run per submission never learns them, nor
  imports the homework's libraries in the judge.

Not the package's own tests, TA-only tools (grade-all), .venv, build/ or caches. The zip
is the same bytes for the same sources (fixed dates, sorted names).
"""

from __future__ import annotations

import argparse
import ast
import os
import stat
import sys
import tempfile
import zipfile
from pathlib import Path

from autograder.homework import DEFAULT as DEFAULT_HOMEWORK
from autograder.homework import Homework, HomeworkError
from autograder.session import HiddenTestsError

ROOT = Path(__file__).resolve().parents[1]
ZIP = ROOT / "build" / "autograder.zip"
SCRIPTS = ROOT / "autograder" / "gradescope"  # what goes to the zip's root
AT_ROOT = ("setup.sh", "run_autograder")
REQUIREMENTS = "requirements.txt"  # the engine's (in SCRIPTS), then the homework's
HOMEWORK_PATH = "homework.path"  # at the zip's root: the homework folder's path in the zip
EXECUTABLE = ("setup.sh", "run_autograder")
PACKAGE = "autograder"
# what Gradescope's run starts: run_autograder runs the first, the judge's Sandbox the second
ENTRY_MODULES = ("autograder.grade", "autograder.sandbox.zygote")
SKIP_DIRS = {"__pycache__", ".pytest_cache", ".ruff_cache", ".ipynb_checkpoints"}
SKIP_SUFFIXES = {".pyc", ".pyo"}
_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip can hold: no build-time noise


class BuildError(Exception):
    """The zip cannot be built as it is: the message says what to fix."""


def default_homework(root: Path = ROOT) -> Homework:
    """The course's current homework, in the checkout at `root`."""
    return Homework.load(root / DEFAULT_HOMEWORK.relative_to(ROOT))


def default_zip(homework: Homework, root: Path = ROOT) -> Path:
    """build/autograder.zip for the course's current homework; beside it, another
    homework's zip is named after its folder."""
    if homework.folder == default_homework(root).folder:
        return ZIP
    return ZIP.with_name(f"autograder-{homework.folder.name}.zip")


def contents(root: Path = ROOT, homework: Homework | None = None) -> list[tuple[str, bytes]]:
    """(name in the zip, its bytes) for everything the zip holds, sorted by name."""
    homework = homework or default_homework(root)
    scripts = root / SCRIPTS.relative_to(ROOT)
    files = {name: scripts / name for name in AT_ROOT}
    for path in grading_files(root, homework):
        files.setdefault(path.relative_to(root).as_posix(), path)
    requirements = [scripts / REQUIREMENTS, *filter(None, [homework.requirements])]
    missing = [str(path) for path in [*files.values(), *requirements] if not path.is_file()]
    if missing:
        raise FileNotFoundError("the autograder zip needs " + ", ".join(missing))
    entries = {name: path.read_bytes() for name, path in files.items()}
    entries[REQUIREMENTS] = b"\n".join(path.read_bytes() for path in requirements)
    where = homework.folder.relative_to(root.resolve()).as_posix()
    entries[HOMEWORK_PATH] = f"{where}\n".encode()
    return sorted(entries.items())


def grading_files(root: Path = ROOT, homework: Homework | None = None) -> list[Path]:
    """The grading code (ENTRY_MODULES and what they import, in the package, with the
    files beside each module), and the secret folders whole (what they import too)."""
    homework = homework or default_homework(root)
    files: set[Path] = set()
    for folder in homework.secrets:
        if not folder.resolve().is_relative_to(root.resolve()):
            raise BuildError(f"{folder} (a secret folder in homework.toml) is outside {root}")
        files.update(p for p in folder.rglob("*") if p.is_file() and _wanted(p, folder))
    todo = [_module_file(root, name) for name in ENTRY_MODULES]
    todo += [p for p in files if p.suffix == ".py"]
    modules: set[Path] = set()
    while todo:
        path = todo.pop()
        if path is None or path in modules:
            continue
        modules.add(path)
        todo += [_module_file(root, name) for name in imported_modules(path, root)]
        init = path.parent / "__init__.py"
        if path.parent != root and init.is_file():
            todo.append(init)
    for module in modules:
        files.add(module)
        files.update(p for p in module.parent.iterdir()
                     if p.is_file() and p.suffix != ".py" and _wanted(p, module.parent)
                     and module.parent.relative_to(root) != SCRIPTS.relative_to(ROOT))
    return sorted(files)


def imported_modules(path: Path, root: Path = ROOT) -> set[str]:
    """The package's modules a file imports anywhere in it (a function's own imports
    too), each as a dotted name; `from a import b` gives a.b as well, b may be a module."""
    tree = ast.parse(path.read_bytes(), str(path))
    package = path.relative_to(root).with_suffix("").parts[:-1]
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package[: len(package) - node.level + 1]
                base = ".".join([*parent, *([base] if base else [])])
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return {name for name in names if name.split(".")[0] == PACKAGE}


def _module_file(root: Path, name: str) -> Path | None:
    base = root.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _wanted(path: Path, folder: Path) -> bool:
    relative = path.relative_to(folder)
    if any(part in SKIP_DIRS or part.startswith(".") for part in relative.parts):
        return False
    return relative.suffix not in SKIP_SUFFIXES


def refresh_plan(root: Path = ROOT, homework: Homework | None = None) -> None:
    """Learn the plan of scenario calls and the expected answers now if the saved ones are
    stale (judge.settle_plan), and refuse to ship them learnt from a reference that fails
    the hidden tests."""
    from autograder.grade import Grader
    from autograder.judge import settled

    homework = homework or default_homework(root)
    if settled(homework.folder, homework.secrets):
        return
    with Grader(homework):  # learns them, and saves them if the reference earns full marks
        pass
    if not settled(homework.folder, homework.secrets):
        raise BuildError("the reference solution does not earn full marks on the hidden "
                         "tests (run `make grade`): fix them before building the autograder")


def build(target: Path | None = None, root: Path = ROOT, homework: Homework | None = None
          ) -> Path:
    """Write the zip of `homework` (default: the course's current one) atomically, to
    `target` (default: default_zip), and return its path."""
    homework = homework or default_homework(root)
    target = target or default_zip(homework, root)
    refresh_plan(root, homework)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, partial_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    os.close(fd)
    partial = Path(partial_name)
    try:
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
            for name, data in contents(root, homework):
                info = zipfile.ZipInfo(name, date_time=_EPOCH)
                info.compress_type = zipfile.ZIP_DEFLATED
                executable = name in EXECUTABLE
                info.external_attr = (stat.S_IFREG | (0o755 if executable else 0o644)) << 16
                info.create_system = 3  # Unix, so that unzip honours the modes above
                archive.writestr(info, data)
        partial.chmod(0o644)
        partial.replace(target)  # atomic: a concurrent build or reader never sees half a zip
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--homework", type=Path,
                        help="the homework's folder (its homework.toml); default: the course's")
    parser.add_argument("--output", type=Path,
                        help=f"default: {ZIP.relative_to(ROOT)}, or for another homework "
                        "build/autograder-FOLDER.zip")
    args = parser.parse_args(argv)
    try:
        homework = Homework.load(args.homework) if args.homework else None
        path = build(args.output, homework=homework)
    except (BuildError, HomeworkError, HiddenTestsError) as exc:
        print(f"autograder: {exc}", file=sys.stderr)
        return 1
    with zipfile.ZipFile(path) as archive:
        count = len(archive.namelist())
    shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    print(f"Wrote {shown}: {count} files, {path.stat().st_size / 1024:.1f} KiB. "
          "Upload it as the autograder of the Gradescope assignment.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
