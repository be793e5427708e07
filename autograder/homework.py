"""One homework, as the engine sees it: what its homework.toml says, typed and checked.

The engine names nothing of a homework; everything it needs comes from here. A homework
is a folder holding its hidden tests and a homework.toml; its paths are relative to that
folder. The course's current homework lives in autograder/tests (the default); another
is chosen with HOMEWORK=folder (make) or --homework (the commands).

Every key, with its default:

    name = "..."             # how people call it; default: the folder's name
    module = "..."           # REQUIRED: the module students write (module.py, or a notebook)
    reference = "..."        # REQUIRED: the reference solution, a module.py
    scenarios = "scenarios.py"   # what runs in the sandbox, loaded before any student code
    secrets = []             # folders no worker may read, besides this folder and the
                             # reference's own folder (always secret)
    preload = []             # modules the sandbox imports once, before it forks workers
    examples = []            # globs of example submissions `make grade` shows a score for
    skeleton = ""            # the stubbed module students start from ("" if none)
    requirements = ""        # pip requirements grading needs beyond the engine's (the
                             # Gradescope image installs them); a line ending in
                             # "# index: URL" installs from that package index
    [limits]                 # any field of autograder.limits.Limits, e.g. cpu_seconds = 5
    [causes]                 # the class report's named mistakes: a cause = phrases of the
                             # feedback that name it (any one is enough)
"""

from __future__ import annotations

import dataclasses
import glob
import importlib.util
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from autograder.limits import DEFAULT_LIMITS, Limits

try:
    import tomllib  # novermin: on Python 3.10, tomli below
except ImportError:  # Python 3.10 (Gradescope's Ubuntu 22.04): the same from PyPI
    import tomli as tomllib

FILE = "homework.toml"
DEFAULT = Path(__file__).resolve().parent / "tests"  # the course's current homework
ENVIRONMENT = "AUTOGRADER_HOMEWORK"  # a homework folder, for commands given no --homework
_KEYS = {"name", "module", "reference", "scenarios", "secrets", "preload", "examples",
         "skeleton", "requirements", "limits", "causes"}


class HomeworkError(Exception):
    """homework.toml is missing, unreadable or wrong: the message says what to fix."""


@dataclass(frozen=True)
class Homework:
    folder: Path  # the hidden tests, homework.toml among them
    name: str
    module: str
    reference: Path
    scenarios: Path
    secrets: tuple[Path, ...]  # this folder, the reference's folder, and those listed
    preload: tuple[str, ...] = ()
    examples: tuple[Path, ...] = ()
    skeleton: Path | None = None
    requirements: Path | None = None
    limits: Limits = DEFAULT_LIMITS
    causes: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def upload_name(self) -> str:
        """The file a student uploads."""
        return f"{self.module}.py"

    @classmethod
    def load(cls, where: Path | str | None = None) -> Homework:
        """The homework in folder `where` (or its homework.toml); None: $AUTOGRADER_HOMEWORK,
        else the course's current one."""
        where = Path(where or os.environ.get(ENVIRONMENT) or DEFAULT)
        toml = where if where.suffix == ".toml" else where / FILE
        try:
            with open(toml, "rb") as f:
                spec = tomllib.load(f)
        except OSError as exc:
            raise HomeworkError(f"no homework description at {toml} ({exc.strerror})") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise HomeworkError(f"{toml} is not valid TOML (UTF-8): {exc}") from None
        try:
            return _parse(toml.resolve().parent, spec)
        except (KeyError, TypeError, ValueError) as exc:
            raise HomeworkError(f"{toml}: {exc}") from None


def load_module(path: Path, name: str) -> ModuleType:
    """A homework's own file (its reference, a helper of its hidden tests) imported by path
    under `name`, once: a homework's folder is no package, and a private name is one no
    submission's module shadows."""
    module = sys.modules.get(name)
    if module is not None and getattr(module, "__file__", None) == str(path):
        return module
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _parse(folder: Path, spec: dict[str, Any]) -> Homework:
    unknown = set(spec) - _KEYS
    if unknown:
        raise ValueError(f"unknown key(s) {', '.join(sorted(unknown))}; known: "
                         f"{', '.join(sorted(_KEYS))}")

    def text(key: str, default: str | None = None) -> str:
        if key not in spec and default is None:
            raise KeyError(f"the key {key!r} is required")
        value = spec.get(key, default)
        if not isinstance(value, str):
            raise TypeError(f"{key} must be a string, not {type(value).__name__}")
        return value

    def texts(key: str) -> tuple[str, ...]:
        value = spec.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise TypeError(f"{key} must be a list of strings")
        return tuple(value)

    def path(value: str) -> Path:
        return (folder / value).resolve()

    module = text("module")
    if not module.isidentifier():
        raise ValueError(f"module {module!r} is not a Python module name")
    reference = path(text("reference"))
    if not reference.is_file():
        raise ValueError(f"the reference solution {reference} does not exist")
    scenarios = path(text("scenarios", "scenarios.py"))
    if not scenarios.is_file():
        raise ValueError(f"the scenarios {scenarios} do not exist")
    secrets = (folder, reference.parent, *(path(s) for s in texts("secrets")))
    examples = tuple(sorted({Path(p).resolve() for pattern in texts("examples")
                             for p in glob.glob(str(folder / pattern)) if Path(p).is_file()}))
    skeleton, requirements = text("skeleton", ""), text("requirements", "")
    return Homework(
        folder=folder,
        name=text("name", folder.name),
        module=module,
        reference=reference,
        scenarios=scenarios,
        secrets=tuple(dict.fromkeys(secrets)),
        preload=texts("preload"),
        examples=examples,
        skeleton=path(skeleton) if skeleton else None,
        requirements=path(requirements) if requirements else None,
        limits=_limits(spec.get("limits", {})),
        causes=_causes(spec.get("causes", {})),
    )


def _limits(table: Any) -> Limits:
    if not isinstance(table, dict):
        raise TypeError("[limits] must be a table")
    known = {f.name: f.type for f in dataclasses.fields(Limits)}
    unknown = set(table) - set(known)
    if unknown:
        raise ValueError(f"[limits]: unknown field(s) {', '.join(sorted(unknown))}; "
                         f"known: {', '.join(sorted(known))}")
    for key, value in table.items():
        kind = (int,) if known[key] == "int" else (int, float)
        if isinstance(value, bool) or not isinstance(value, kind) or value <= 0:
            noun = "whole number" if known[key] == "int" else "number"
            raise ValueError(f"[limits] {key} must be a positive {noun}")
    return dataclasses.replace(DEFAULT_LIMITS, **table)


def _causes(table: Any) -> dict[str, tuple[str, ...]]:
    if not isinstance(table, dict) or not all(
            isinstance(v, list) and v and all(isinstance(p, str) and p for p in v)
            for v in table.values()):
        raise TypeError("[causes] must map each cause to a list of phrases")
    return {cause: tuple(phrases) for cause, phrases in table.items()}
