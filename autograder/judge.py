"""The trusted side: pytest runs the hidden tests; scenarios run in the sandbox.

Hidden tests are ordinary pytest functions that ask for the `submission` fixture and
mark their worth with `@pytest.mark.points(n)`; `@pytest.mark.visible` marks the ones
students see at once (they use only the lecture's public inputs). A test fails with
`fail("message")`: that message is the only thing a student sees of a hidden test.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import copy
import fcntl
import hashlib
import io
import json
import os
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import pytest

from autograder.results import GradingResult, TestResult, write_atomic
from autograder.sandbox import Outcome, Sandbox, SandboxError
from autograder.sandbox.client import IMPORT_ONLY
from autograder.text import BUILTIN_EXCEPTIONS


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
    them (torch; one torch import per grading, in the zygote). An answer not known is
    computed when asked (`live`: every answer is) and kept for the next grading."""

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
_grading_answers: Answers | None = None  # set while a grading runs (under _PYTEST)


Call = tuple[str, str]  # a scenario's name and its arguments as canonical JSON

# Outcomes of limits that a worker's calls share (wall clock, CPU, memory, output): a call
# that meets one after other calls in the same worker might not meet it alone.
_SHARED_LIMITS = {"timeout", "cpu", "memory", "output"}


@dataclass(frozen=True)
class Plan:
    """The scenario calls the hidden tests make, in the order every grading runs them in
    one worker (Submission.prefetch). It is fixed data, learnt once from the hidden tests
    (by grading the reference: settle_plan) and shipped with the autograder, so that
    `make grade`, `grade-all` at any JOBS and Gradescope's one fresh run all run the same
    calls in the same grouping and order, and a submission's score never depends on what
    else a process graded. Empty: every call runs alone, in a worker of its own."""

    calls: tuple[Call, ...] = ()
    visible: int = 0  # calls[:visible] are visible tests' calls

    def to_json(self) -> dict:
        return {"visible": self.visible, "calls": [list(call) for call in self.calls]}

    @classmethod
    def from_json(cls, data: dict) -> Plan:
        calls = tuple((str(name), str(args)) for name, args in data["calls"])
        return cls(calls, int(data["visible"]))


class PlanRecorder:
    """Learns a Plan from one grading in which every call runs alone: first seen, first
    run, except that every call of a visible test runs before any call of a hidden one.
    Visible tests show the student their own error messages and values, and the submission
    keeps its memory from call to call: what hidden calls gave it (their inputs) must
    never be able to come out in a later visible call."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.visible = 0

    def learn(self, call: Call, visible: bool) -> None:
        if call in self.calls:
            if not visible or self.calls.index(call) < self.visible:
                return
            self.calls.remove(call)  # a hidden test's call that a visible test makes too
        if visible:
            self.calls.insert(self.visible, call)
            self.visible += 1
        else:
            self.calls.append(call)

    def plan(self) -> Plan:
        return Plan(tuple(self.calls), self.visible)


@dataclass
class Submission:
    """One student's code, seen only through the sandbox: tests call `run`."""

    path: Path
    module: str
    sandbox: Sandbox
    source_lines: list[str]
    public: bool = True  # False inside hidden tests: the student's own error text is withheld
    log: list[str] = field(default_factory=list)  # what the worker printed, for the TA
    plan: Plan = field(default_factory=Plan)  # the calls to run in one worker
    recorder: PlanRecorder | None = None  # only while a plan is learnt (settle_plan)
    _done: dict[Call, Outcome] = field(default_factory=dict)
    _pending: list[Call] = field(default_factory=list)  # planned, no outcome yet
    _alone: set[Call] = field(default_factory=set)  # to run only first in a worker
    _logged: set[Call] = field(default_factory=set)

    def run(self, scenario: str, **args: Any) -> Outcome:
        """The outcome of one call. A call asked again (two tests may make the same one)
        gets the same outcome: one answer per call in a grading, and no second worker."""
        call = (scenario, json.dumps(args, sort_keys=True))
        if call in self._pending:  # (a call with an outcome is no longer pending)
            self._run_group(call)
        if call not in self._done:
            self._done[call] = self.sandbox.run(self.path, self.module, scenario, **args)
            # (the import check is not planned: a plan's first group tells that too)
            if self.recorder is not None and scenario != IMPORT_ONLY:
                self.recorder.learn(call, visible=self.public)
        outcome = self._done[call]
        if outcome.output and call not in self._logged:
            self._logged.add(call)
            self.log.append(f"[{scenario}] {outcome.output}")
        return outcome

    def prefetch(self) -> Outcome | None:
        """Run every planned call in one worker (the submission imported once, the guard
        restoring the scenarios' world after each call) instead of one worker per call.
        Returns why the submission does not import, or None: the group answers that too."""
        self._pending = list(self.plan.calls)
        return self._run_group(self._pending[0]) if self._pending else None

    def _run_group(self, first: Call) -> Outcome | None:
        """Run `first` and, after it, the pending calls planned after it, in one worker.
        The result is the same as one worker per call: a call first in its worker is a
        lone call, and the calls a worker did not finish stay pending, to run (first) when
        a test asks for them. So does a call that met a shared limit after other calls
        (see _SHARED_LIMITS): it runs again alone when asked, and never again in a group,
        so a call that hangs costs at most two time limits. Calls run in the plan's
        order: no visible call after a hidden one (see Plan)."""
        later = self.plan.calls[self.plan.calls.index(first) + 1:]
        group = [first, *(c for c in later if c in self._pending and c not in self._alone)]
        problem, outcomes = self.sandbox.run_many(
            self.path, self.module, [(name, json.loads(args)) for name, args in group])
        if problem is not None:
            return problem
        for position, (call, outcome) in enumerate(zip(group, outcomes, strict=True)):
            if outcome is None:
                continue
            if position and outcome.status in _SHARED_LIMITS:
                self._alone.add(call)
                continue
            self._done[call] = outcome
            self._pending.remove(call)
        return None

    def explain(self, outcome: Outcome, what: str) -> str:
        """What went wrong, for the student. In a hidden test the student's own exception
        message is left out: it could carry the hidden inputs back to them."""
        if outcome.status == "not_implemented":
            return f"{what} is not implemented yet (it raises NotImplementedError)."
        if outcome.status == "import_error":
            return f"regression.py could not be imported: {self._error_text(outcome)}"
        if outcome.status == "error":
            return f"{what} raised {self._error_text(outcome)}"
        return f"{what} {outcome.message}."

    def _error_text(self, outcome: Outcome) -> str:
        """In a hidden test only what cannot carry data out of the worker is shown: a
        built-in exception's name (a class of the student's could be named after a hidden
        input), and a function name and line that stand in the judge's copy of the source."""
        error = outcome.error or {}
        kind = str(error.get("type") or "")
        if not self.public and kind not in BUILTIN_EXCEPTIONS:
            kind = "an exception"
        text = kind or "an exception"
        if self.public and error.get("message"):
            text += f": {error['message']}"
        line = error.get("line")
        if isinstance(line, int) and 0 < line <= len(self.source_lines):
            function = error.get("function")
            known = function and any(f"def {function}(" in s for s in self.source_lines)
            where = f" in {function}()" if known else ""
            text += f"\n  at line {line}{where}: {self.source_lines[line - 1].strip()}"
        return text



class HiddenTests:
    """One pytest session over the hidden tests that grades upload after upload: the
    tests are collected, and what they import (torch, the reference) loaded, once per
    Grader rather than once per submission (that was ~40 ms of each).

    pytest.main runs in a thread of its own, for the HiddenTests' whole life; its test
    loop (pytest_runtestloop below) takes one submission at a time from `grade` and runs
    every test on it, through pytest's own run protocol (setup, call, teardown, hooks)."""

    def __init__(self, tests: Path, answers: Answers | None = None) -> None:
        self.tests = tests
        self.answers = answers or Answers()  # settle_plan gives it the saved ones
        self._jobs: queue.SimpleQueue[tuple[Submission, str | None] | None] = queue.SimpleQueue()
        self._answers: queue.SimpleQueue[GradingResult | BaseException] = queue.SimpleQueue()
        self._ended: BaseException | None = None
        self._collect_errors: list[str] = []
        # what one grading collects
        self._submission: Submission | None = None
        self._results: list[TestResult] = []
        self._import_failure: str | None = None
        self._checker: concurrent.futures.Future | None = None
        self._sandbox_error: SandboxError | None = None
        self._thread = threading.Thread(target=self._session, name="hidden-tests", daemon=True)
        self._thread.start()

    def grade(self, submission: Submission, failure: str | None = None) -> GradingResult:
        """Run every hidden test on one submission. With `failure` (nothing gradable was
        uploaded) every test fails with that message."""
        if self._ended is not None:
            raise self._ended
        self._jobs.put((submission, failure))
        answer = self._answers.get()
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def close(self) -> None:
        if self._thread.is_alive():
            self._jobs.put(None)
            self._thread.join(timeout=30)

    # --- the session's thread --------------------------------------------------------------

    def _session(self) -> None:
        # Plugins a judge does not need; unraisableexception alone ran two full
        # gc.collect() per session, ~190 ms per submission once torch is loaded. capture
        # and terminal would hold the process's stdout for the session's whole life.
        unneeded = ["cacheprovider", "randomly", "unraisableexception", "threadexception",
                    "faulthandler", "doctest", "junitxml", "pastebin", "stepwise", "lfplugin",
                    "logging", "warnings", "tmpdir", "monkeypatch", "recwarn", "setuponly",
                    "setupplan", "legacypath", "python_path", "debugging", "unittest",
                    "subtests", "capture", "terminal"]
        args = [str(self.tests), *(f"-pno:{name}" for name in unneeded),
                "--rootdir", str(self.tests), "-c", "/dev/null", "--import-mode=importlib",
                "--assert=plain",  # tests fail with fail(); rewriting asserts cost a compile each
                "-W", "ignore::pytest.PytestAssertRewriteWarning"]
        try:
            with _PYTEST:
                code = pytest.main(args, plugins=[self])
            ended: BaseException = RuntimeError(
                f"the hidden tests did not run (pytest exit {code}):\n"
                + "\n".join(self._collect_errors))
        except BaseException as exc:
            ended = exc
        if self._ended is None:
            self._ended = ended
            self._answers.put(ended)  # for a grade() waiting on a session that ended

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> bool | None:
        if self._collect_errors or not session.items:
            return True  # pytest.main returns, and _session says why
        _PYTEST.release()
        try:
            while (job := self._jobs.get()) is not None:
                with _PYTEST:
                    try:
                        answer: GradingResult | BaseException = self._run(session.items, *job)
                    except BaseException as exc:  # for the caller; the session goes on
                        answer = exc
                self._answers.put(answer)
        finally:
            _PYTEST.acquire()
        self._ended = RuntimeError("the hidden tests' session is closed")
        return True

    def _run(self, items: list[pytest.Item], submission: Submission,
             failure: str | None) -> GradingResult:
        global _grading_answers
        started = time.monotonic()
        _grading_answers = self.answers
        self._submission, self._results = submission, []
        self._import_failure, self._sandbox_error = failure, None
        if not failure:
            self._start_import_check()
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                for item, nextitem in zip(items, [*items[1:], None], strict=True):
                    item.ihook.pytest_runtest_protocol(item=item, nextitem=nextitem)
        finally:
            _grading_answers = None
        self._finish_import_check()  # if no test asked for the submission
        if self._sandbox_error:
            raise self._sandbox_error
        return GradingResult(
            tests=self._results,
            seconds=time.monotonic() - started,
            submission=str(submission.path),
            notes=[self._import_failure] if self._import_failure else [],
            output="\n".join(submission.log),
        )

    def _start_import_check(self) -> None:
        """Does the submission import at all? Asked in a thread, so that the tests' setup
        runs meanwhile."""
        self._checker = concurrent.futures.ThreadPoolExecutor(1).submit(self._check_import)

    def _check_import(self) -> Outcome | None:
        """Why the submission does not import, or None. With a plan, the planned calls
        run now and tell; without one, a worker that only imports it does."""
        if self._submission.plan.calls:
            return self._submission.prefetch()
        outcome = self._submission.run(IMPORT_ONLY)
        return None if outcome.ok else outcome

    def _finish_import_check(self) -> None:
        if self._checker is None:
            return
        checker, self._checker = self._checker, None
        try:
            outcome = checker.result()
        except SandboxError as exc:  # the grader is broken, not the submission: re-raised
            self._sandbox_error = exc  # after the tests, which would count it as a test's fault
            raise
        if outcome is not None:
            self._import_failure = self._submission.explain(outcome, "regression.py")

    # --- what the hidden tests see, and what is recorded of them ---------------------------

    @pytest.fixture
    def submission(self, request: pytest.FixtureRequest) -> Submission:
        self._finish_import_check()  # before the sandbox runs anything else
        if self._import_failure:
            fail(self._import_failure)
        self._submission.public = request.node.get_closest_marker("visible") is not None
        return self._submission

    def pytest_configure(self, config: pytest.Config) -> None:
        config.addinivalue_line("markers", "points(n): what the test is worth")
        config.addinivalue_line("markers", "visible: students see this test before grades publish")

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self._collect_errors.append(str(report.longrepr))

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
            self._results.append(self._result(item, call, passed))
        return pytest.TestReport(
            item.nodeid, item.location, {}, "passed" if passed else "failed",
            None if passed else f"{excinfo.typename}: {excinfo.value}", call.when, [],
            call.duration, start=call.start, stop=call.stop)

    def _result(self, item: pytest.Item, call: pytest.CallInfo, passed: bool) -> TestResult:
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


def plan_key(secrets: tuple[Path, ...]) -> str:
    """Changes when anything the plan and the answers are learnt from changes: the hidden
    tests, the reference (the secret folders' files) or this judge."""
    digest = hashlib.sha256(Path(__file__).read_bytes())
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


def settle_plan(tests: Path, secrets: tuple[Path, ...], module: str, sandbox: Sandbox,
                hidden: HiddenTests) -> Plan:
    """The plan every grading follows, and the expected answers it compares with (given to
    `hidden`, unless its answers are computed live): the saved ones, or, when either is
    missing or stale, learnt now by grading the reference (the `module`.py in a secret
    folder) with every call alone (the same calls on every machine: each test that passes
    makes all its calls; and every answer a test asks for), and saved. Only then does
    the judge compute answers (import torch). Graders in several processes (grade-all)
    take turns here, so the plan is learnt once."""
    with _locked(tests):
        key = plan_key(secrets)
        plan, answers = stored_plan(tests, secrets, key), stored_answers(tests, secrets, key)
        if plan is not None and answers is not None:
            if not hidden.answers.live:
                hidden.answers = answers
            return plan
        found = [folder / f"{module}.py" for folder in secrets
                 if (folder / f"{module}.py").is_file()]
        if len(found) != 1:
            raise FileNotFoundError(f"no single reference {module}.py in the secret folders "
                                    f"of homework.toml ({', '.join(map(str, secrets))})")
        reference = found[0]
        recorder = PlanRecorder()
        if not hidden.answers.live:
            hidden.answers = Answers()  # what the reference's grading asks: all of them
        source = reference.read_text()
        result = hidden.grade(Submission(reference, module, sandbox, source.splitlines(),
                                         recorder=recorder))
        plan = recorder.plan()
        if result.score < result.max_score or not plan.calls:
            # a plan learnt from tests the reference fails could miss calls: used here,
            # never saved (the zip's build refuses it: release/gradescope.py)
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


# Held by a session's thread while it runs pytest (collecting, grading), not while it
# waits: sessions of several Graders in one process (a test suite) never run at once,
# so their imports, sys.stdout and pytest's process-wide state never interleave.
_PYTEST = threading.Lock()
