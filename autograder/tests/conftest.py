"""Fixtures of the hidden tests, all in the trusted judge: the reference solution (loaded
by path, never shipped to students, and only when an answer is not in answers.json) and
the seeded hidden inputs."""

from __future__ import annotations

import pytest

from autograder.tests import hidden


@pytest.fixture(scope="session")
def reference() -> hidden.Reference:
    return hidden.Reference()


@pytest.fixture(scope="session")
def cases() -> hidden.Hidden:
    return hidden.hidden_inputs()
