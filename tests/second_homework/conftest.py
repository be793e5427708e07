"""Fixtures of the stats homework's hidden tests, all in the trusted judge: the hidden
inputs and expected answers (hidden.py) and the feedback (feedback.py), loaded by path.

The judge runs these tests with this folder as pytest's rootdir and
--import-mode=importlib, so this folder is no package: its sibling modules are loaded
here, under private names, and handed to the tests as fixtures.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from autograder.homework import load_module

HERE = Path(__file__).resolve().parent


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Only the judge (rootdir: this folder) runs these tests: the package's own suite
    (`pytest tests`, rootdir: the checkout) passes through this folder and leaves them,
    as they need a submission."""
    return True if Path(config.rootpath).resolve() != HERE else None


def _sibling(name: str) -> ModuleType:
    """This folder's `name`.py, imported once under a name no submission or other
    homework uses."""
    return load_module(HERE / f"{name}.py", f"_stats_homework_{name}")


@pytest.fixture(scope="session")
def hidden() -> ModuleType:
    """The public examples, the hidden inputs and the expected answers (hidden.py)."""
    return _sibling("hidden")


@pytest.fixture(scope="session")
def feedback() -> ModuleType:
    """The checks that turn a scenario's data into a message (feedback.py)."""
    return _sibling("feedback")


@pytest.fixture(scope="session")
def cases(hidden: ModuleType):
    """Every hidden input, from the fixed seed."""
    return hidden.hidden_inputs()
