"""One pytest session that runs the hidden tests on submission after submission.

Collecting the hidden tests, and importing what they import, cost ~40 ms of each
submission: a Grader does it once. pytest runs collected tests only inside the session
that pytest.main opens and closes, so pytest.main runs for the Grader's whole life in a
thread of its own. Its test loop (pytest_runtestloop below) waits for jobs handed to
`run`, and gives each the collected tests, which a job runs through pytest's own run
protocol (setup, call, teardown, hooks) with `run_each`.

How pytest is set up, and why:
- the plugins a judge does not need are off (UNNEEDED_PLUGINS): unraisableexception alone
  ran two full gc.collect() per session, ~190 ms a submission once a large library is
  loaded;
- capture and terminal are off: they would hold the process's stdout for the session's
  whole life (run_each throws away what tests print instead);
- --assert=plain: hidden tests fail with judge.fail(), and rewriting their asserts cost a
  compile each;
- one lock for the process (_PYTEST): the sessions of several Graders in one process (a
  test suite) never run pytest at once, so their imports, sys.stdout and pytest's
  process-wide state never interleave.
"""

from __future__ import annotations

import contextlib
import io
import queue
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

T = TypeVar("T")
Job = Callable[[list[pytest.Item]], Any]

UNNEEDED_PLUGINS = (
    "cacheprovider", "randomly", "unraisableexception", "threadexception", "faulthandler",
    "doctest", "junitxml", "pastebin", "stepwise", "lfplugin", "logging", "warnings",
    "tmpdir", "monkeypatch", "recwarn", "setuponly", "setupplan", "legacypath",
    "python_path", "debugging", "unittest", "subtests", "capture", "terminal")

# Held by a session's thread whenever it runs pytest (collecting, a job), let go only while
# it waits for the next job.
_PYTEST = threading.Lock()


class HiddenTestsError(RuntimeError):
    """The hidden tests cannot run (none found, one that does not import): the course
    staff's to fix, never a student's 0."""


class PytestSession:
    """pytest.main over the tests in `tests`, with `plugin` (hooks and fixtures), kept
    open in a thread of its own until `close`."""

    def __init__(self, tests: Path, plugin: object) -> None:
        self._args = [str(tests), *(f"-pno:{name}" for name in UNNEEDED_PLUGINS),
                      "--rootdir", str(tests), "-c", "/dev/null", "--import-mode=importlib",
                      "--assert=plain", "-W", "ignore::pytest.PytestAssertRewriteWarning"]
        self._jobs: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._answers: queue.SimpleQueue[tuple[Any, BaseException | None]] = queue.SimpleQueue()
        self._ended: BaseException | None = None  # why run() can no longer be answered
        self._collect_errors: list[str] = []
        self._thread = threading.Thread(target=self._main, args=(plugin,),
                                        name="hidden-tests", daemon=True)
        self._thread.start()  # collects while the caller goes on

    def run(self, job: Callable[[list[pytest.Item]], T]) -> T:
        """`job(the collected tests)`, run in the session's thread: what it returns, or
        raises."""
        if self._ended is not None:
            raise self._ended
        self._jobs.put(job)
        value, error = self._answers.get()
        if error is not None:
            raise error
        return value

    def close(self) -> None:
        if self._thread.is_alive():
            self._jobs.put(None)
            self._thread.join(timeout=30)

    # --- the session's thread --------------------------------------------------------------

    def _main(self, plugin: object) -> None:
        try:
            with _PYTEST:
                code = pytest.main(self._args, plugins=[plugin, self])
            why = self._collect_errors or [f"no hidden test was found in {self._args[0]}: "
                                           "test_*.py files of test_ functions"]
            ended: BaseException = HiddenTestsError(
                f"the hidden tests did not run (pytest exit {code}):\n" + "\n".join(why))
        except BaseException as exc:
            ended = exc
        if self._ended is None:  # pytest.main returned before close()
            self._ended = ended
            self._answers.put((None, ended))  # for a run() waiting on a session that ended

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> bool:
        if self._collect_errors or not session.items:
            return True  # pytest.main returns, and _main says why
        while (job := self._next_job()) is not None:
            try:
                answer = (job(session.items), None)
            except BaseException as exc:  # for the caller; the session goes on
                answer = (None, exc)
            self._answers.put(answer)
        self._ended = HiddenTestsError("the hidden tests' session is closed")
        return True

    def _next_job(self) -> Job | None:
        """The next job, or None once closed; waited for without the lock."""
        _PYTEST.release()
        try:
            return self._jobs.get()
        finally:
            _PYTEST.acquire()

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self._collect_errors.append(str(report.longrepr))


def run_each(items: list[pytest.Item]) -> None:
    """Run every test, in order, through pytest's own run protocol; what they print is
    thrown away (capture is off). The last one tears down every fixture, the session's
    too: no grading sees what another left in one."""
    with contextlib.redirect_stdout(io.StringIO()):
        for item, nextitem in zip(items, [*items[1:], None], strict=True):
            item.ihook.pytest_runtest_protocol(item=item, nextitem=nextitem)
