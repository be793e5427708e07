"""The trusted side: pytest runs the hidden tests; scenarios run in the sandbox.

Hidden tests are ordinary pytest functions that ask for the `submission` fixture and
mark their worth with `@pytest.mark.points(n)`; `@pytest.mark.visible` marks the ones
students see at once (they use only the lecture's public inputs). A test fails with
`fail("message")`: that message is the only thing a student sees of a hidden test.

Here: what hidden tests import (fail, expected), HiddenTests (one grading at a time:
a Grading), and the plan and answers learnt from the hidden tests (settle_plan). Beside
it: autograder.calls (the `submission` a test gets: its scenario calls and their plan),
autograder.messages (what a student reads of an outcome), autograder.session (the pytest
session kept open across submissions).
"""

from __future__ import annotations

import contextlib
import copy
import fcntl
import functools
import hashlib
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import pytest

from autograder import calls, messages, session
from autograder.calls import Plan, PlanRecorder, Submission  # also imported from here
from autograder.homework import Homework
from autograder.results import GradingResult, TestResult, write_atomic
from autograder.sandbox import Sandbox
from autograder.session import PytestSession, run_each


class Feedback(AssertionError):
    """A failure whose message is written for the student."""


def fail(message: str) -> NoReturn:
    """Fail the current test with feedback the student will read."""
    raise Feedback(message)


class Answers:
    """The hidden tests' expected answers (the reference's, and the usual mistakes'), as
    plain JSON data keyed by what they answer. They depend only on the hidden tests and
    the reference, so they are computed once, when the plan is settled (settle_plan), and
    saved with it: a grading then reads them, and the judge needs nothing that computes
    them (the homework's libraries: imported once per grading, in the zygote). An answer
    not known is computed when asked (`live`: every answer is) and kept for the next
    grading."""

    def __init__(self, known: dict[str, Any] | None = None, *, live: bool = False) -> None:
        self.known: dict[str, Any] = dict(known or {})
        self.live = live
        self.computed: list[str] = []  # the keys computed in this process, not read

    def get(self, key: str, compute: Callable[[], Any]) -> Any:
        """The answer for `key` (a copy: no test can change another's)."""
        if key not in self.known:
            value = compute()
            self.known[key] = value if self.live else json.loads(json.dumps(value))
            self.computed.append(key)
        return copy.deepcopy(self.known[key])


def expected(key: str, compute: Callable[[], Any]) -> Any:
    """An expected answer for a hidden test: the grading's Answers, or outside a grading
    (the package's own tests), the process's own, computed when asked."""
    return (_grading_answers or _process_answers).get(key, compute)


_process_answers = Answers()
_grading_answers: Answers | None = None  # while a grading runs (one at a time: session.py)


# --- grading: the hidden tests on one submission -------------------------------------------

@dataclass
class Grading:
    """One submission's grading: what the hidden tests are given and what they give."""

    submission: Submission
    failure: str | None = None  # why every test fails: nothing gradable, or no import
    results: list[TestResult] = field(default_factory=list)

    def check_import(self) -> None:
        """Before any test: if the submission does not import, every test fails saying
        why. (With a plan, this runs the planned calls: Submission.import_problem.)"""
        problem = self.submission.import_problem()
        if problem is not None:
            self.failure = self.submission.explain(problem, f"{self.submission.module}.py")

    def result(self, seconds: float) -> GradingResult:
        return GradingResult(
            tests=self.results,
            seconds=seconds,
            submission=str(self.submission.path),
            notes=[self.failure] if self.failure else [],
            output="\n".join(self.submission.log),
        )


class HiddenTests:
    """The hidden tests, collected once (autograder.session), graded on one submission
    after another. This object is the session's pytest plugin: the `submission` fixture,
    the markers, and the record of each test's result in the Grading under way."""

    def __init__(self, tests: Path, answers: Answers | None = None) -> None:
        self.tests = tests
        self.answers = answers or Answers()  # settle_plan gives it the saved ones
        self._grading: Grading | None = None  # the one under way, while run_each runs
        self._session = PytestSession(tests, plugin=self)

    def grade(self, submission: Submission, failure: str | None = None) -> GradingResult:
        """Run every hidden test on one submission. With `failure` (nothing gradable was
        uploaded) every test fails with that message."""
        return self._session.run(functools.partial(self._grade, Grading(submission, failure)))

    def close(self) -> None:
        self._session.close()

    def _grade(self, grading: Grading, tests: list[pytest.Item]) -> GradingResult:
        """In the session's thread, which alone runs the submission's calls: the import
        check first, then the tests. A SandboxError of the import check is the grader's
        fault, not the submission's: it reaches the caller, before any test counts it."""
        global _grading_answers
        started = time.monotonic()
        if not grading.failure:
            grading.check_import()
        self._grading, _grading_answers = grading, self.answers
        try:
            run_each(tests)
        finally:
            self._grading, _grading_answers = None, None
        return grading.result(time.monotonic() - started)

    # --- the plugin: what the hidden tests see, and what is recorded of them ---------------

    @pytest.fixture
    def submission(self, request: pytest.FixtureRequest) -> Submission:
        grading = self._grading
        if grading.failure:
            fail(grading.failure)
        grading.submission.public = request.node.get_closest_marker("visible") is not None
        return grading.submission

    def pytest_configure(self, config: pytest.Config) -> None:
        config.addinivalue_line("markers", "points(n): what the test is worth")
        config.addinivalue_line("markers", "visible: students see this test before grades publish")

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo
                                  ) -> pytest.TestReport | None:
        """Record the result, and hand pytest a plain report: its own renders a full
        traceback of every failure, which no one here reads (~10 ms a failed test)."""
        excinfo = call.excinfo
        if excinfo is not None and not isinstance(excinfo.value, Exception):
            return None  # a skip, an exit, a KeyboardInterrupt: pytest's own handling
        passed = excinfo is None
        if call.when == "call" or (call.when == "setup" and not passed):
            self._grading.results.append(_test_result(item, call, passed))
        return pytest.TestReport(
            item.nodeid, item.location, {}, "passed" if passed else "failed",
            None if passed else f"{excinfo.typename}: {excinfo.value}", call.when, [],
            call.duration, start=call.start, stop=call.stop)


def _test_result(item: pytest.Item, call: pytest.CallInfo, passed: bool) -> TestResult:
    marker = item.get_closest_marker("points")
    points = float(marker.args[0]) if marker else 0.0
    visible = item.get_closest_marker("visible") is not None
    doc = (getattr(item.obj, "__doc__", None) or "").strip().splitlines()
    name = doc[0] if doc else item.name
    feedback, detail = "", ""
    if not passed and call.excinfo is not None:
        if isinstance(call.excinfo.value, Feedback):
            feedback = str(call.excinfo.value)
        else:  # a fault in the test itself: the student is told little, the TA all
            feedback = "The grader could not run this test; course staff have the details."
            detail = str(call.excinfo.getrepr(style="short"))
    return TestResult(
        name=name, test_id=item.nodeid, max_score=points,
        score=points if passed else 0.0, feedback=feedback, detail=detail,
        shown_now=visible,
    )


# --- the plan and the answers, learnt from the hidden tests and kept with them -------------

PLAN_FILE = "plan.json"  # in the hidden tests' folder: a secret, like the inputs it holds
ANSWERS_FILE = "answers.json"  # beside it: the expected answers (Answers), as secret
_LEARNT = {PLAN_FILE, ANSWERS_FILE}
# The judge's code, which learns them: this module and the ones split from it.
_JUDGE = (Path(__file__), *(Path(module.__file__) for module in (calls, messages, session)))


def plan_key(secrets: tuple[Path, ...]) -> str:
    """Changes when anything the plan and the answers are learnt from changes: the hidden
    tests, the reference (the secret folders' files) or this judge."""
    digest = hashlib.sha256(b"".join(path.read_bytes() for path in _JUDGE))
    for folder in secrets:
        for path in sorted(folder.rglob("*")):
            relative = path.relative_to(folder)
            if (not path.is_file() or relative.as_posix() in _LEARNT
                    or any(p.startswith(".") or p == "__pycache__" for p in relative.parts)):
                continue
            digest.update(f"{folder.name}/{relative.as_posix()}".encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _stored(tests: Path, name: str, key: str) -> dict | None:
    try:
        data = json.loads((tests / name).read_text())
        return data if isinstance(data, dict) and data.get("key") == key else None
    except (OSError, ValueError):
        return None


def stored_plan(tests: Path, secrets: tuple[Path, ...], key: str | None = None) -> Plan | None:
    """The plan saved with the hidden tests, if it was learnt from them as they are now."""
    data = _stored(tests, PLAN_FILE, key or plan_key(secrets))
    try:
        return Plan.from_json(data) if data is not None else None
    except (KeyError, TypeError, ValueError):
        return None


def stored_answers(tests: Path, secrets: tuple[Path, ...], key: str | None = None
                   ) -> Answers | None:
    """The expected answers saved with the hidden tests, if computed from them as they
    are now."""
    data = _stored(tests, ANSWERS_FILE, key or plan_key(secrets))
    known = data.get("answers") if data is not None else None
    return Answers(known) if isinstance(known, dict) else None


def settled(tests: Path, secrets: tuple[Path, ...]) -> bool:
    """Whether the saved plan and answers are both those of the hidden tests as they are."""
    key = plan_key(secrets)
    return stored_plan(tests, secrets, key) is not None and \
        stored_answers(tests, secrets, key) is not None


def settle_plan(homework: Homework, sandbox: Sandbox, hidden: HiddenTests) -> Plan:
    """The plan every grading follows, and the expected answers it compares with (given to
    `hidden`, unless its answers are computed live): the saved ones, or, when either is
    missing or stale, learnt now by grading the homework's reference with every call alone
    (the same calls on every machine: each test that passes makes all its calls; and
    every answer a test asks for), and saved. Only then does the judge compute answers
    (import the homework's libraries). Graders in several processes (grade-all) take
    turns here, so the plan is learnt once."""
    tests, secrets = homework.folder, homework.secrets
    with _locked(tests):
        key = plan_key(secrets)
        plan, answers = stored_plan(tests, secrets, key), stored_answers(tests, secrets, key)
        if plan is None or answers is None:
            return _learn(tests, key, homework.reference, homework.module, sandbox, hidden)
        if not hidden.answers.live:
            hidden.answers = answers
        return plan


def _learn(tests: Path, key: str, reference: Path, module: str, sandbox: Sandbox,
           hidden: HiddenTests) -> Plan:
    """The plan and the answers of one grading of the reference in which every call runs
    alone; saved under `key` if the reference earns every point."""
    recorder = PlanRecorder()
    if not hidden.answers.live:
        hidden.answers = Answers()  # what the reference's grading asks: all of them
    result = hidden.grade(Submission(reference, module, sandbox,
                                     reference.read_text().splitlines(), recorder=recorder))
    plan = recorder.plan()
    if result.score < result.max_score or not plan.calls:
        # a plan learnt from tests the reference fails could miss calls: used here, never
        # saved (the zip's build refuses it: release/gradescope.py)
        print(f"warning: the reference solution earns {result.score:g}/"
              f"{result.max_score:g}; the plan of scenario calls learnt from it is not "
              "saved. Fix the hidden tests or the reference.", file=sys.stderr)
        return plan
    with contextlib.suppress(OSError):  # a read-only copy of the tests: learnt each run
        write_atomic(tests / ANSWERS_FILE, json.dumps(
            {"key": key, "answers": hidden.answers.known}, sort_keys=True) + "\n")
        write_atomic(tests / PLAN_FILE, json.dumps(
            {"key": key, **plan.to_json()}, indent=1) + "\n")
    return plan


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
