"""Fixtures of the hidden tests, all in the trusted judge: the reference solution (loaded
by path, never shipped to students) and the seeded hidden inputs."""

from __future__ import annotations

from types import ModuleType

import pytest

from autograder.tests import hidden


@pytest.fixture(scope="session")
def reference() -> ModuleType:
    return hidden.load_reference()


@pytest.fixture(scope="session")
def cases() -> hidden.Hidden:
    return hidden.hidden_inputs()
