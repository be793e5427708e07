"""Grade submissions: `python -m autograder.grade [SUBMISSION] [--results PATH]`.

One code path for Gradescope, a TA's batch and a single run: a Grader owns one sandbox
zygote and grades uploads one after another with the hidden tests.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from autograder import exit_now
from autograder.judge import HiddenTests, Submission, settle_plan
from autograder.limits import DEFAULT_LIMITS, Limits
from autograder.results import GradingResult, report, write_results_json
from autograder.sandbox import Sandbox
from autograder.submission import NoSubmission, locate

try:
    import tomllib  # novermin: on Python 3.10, tomli below
except ImportError:  # Python 3.10 (Gradescope's Ubuntu 22.04): the same from PyPI
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
HIDDEN_TESTS = ROOT / "autograder" / "tests"


@dataclass(frozen=True)
class Homework:
    """What homework.toml in the hidden tests folder says."""

    tests: Path
    module: str
    scenarios: Path
    secrets: tuple[Path, ...]  # folders a worker must not read

    @classmethod
    def load(cls, tests: Path = HIDDEN_TESTS) -> Homework:
        with open(tests / "homework.toml", "rb") as f:
            spec = tomllib.load(f)
        secrets = tuple((tests / s).resolve() for s in spec.get("secrets", []))
        return cls(tests, spec["module"], tests / spec["scenarios"], (tests, *secrets))


class Grader:
    """A judge with its own pre-started sandbox."""

    def __init__(self, homework: Homework | None = None, limits: Limits = DEFAULT_LIMITS) -> None:
        self.homework = homework or Homework.load()
        _protect(self.homework.secrets)
        self.sandbox = Sandbox(self.homework.scenarios, limits)
        self.hidden = HiddenTests(self.homework.tests)  # collects while the zygote starts
        self._staging = tempfile.TemporaryDirectory(prefix="grader-")
        # the hidden tests' scenario calls, learnt once from them (and again when they
        # change): every submission runs them in one worker, in one order (judge.Plan)
        self._plan = settle_plan(self.homework.tests, self.homework.secrets,
                                 ROOT / "solutions" / f"{self.homework.module}.py",
                                 self.homework.module, self.sandbox, self.hidden)

    def grade(self, upload: Path) -> GradingResult:
        module = self.homework.module
        staged = Path(self._staging.name) / f"{module}.py"
        try:
            located = locate(upload, module)
            source = located.module_source()
        except NoSubmission as exc:
            submission = Submission(upload, module, self.sandbox, [])
            result = self.hidden.grade(submission, failure=str(exc))
            result.ungradable = str(exc)
        else:
            staged.write_text(source)  # the zygote copies this, never the upload itself
            submission = Submission(staged, module, self.sandbox, source.splitlines(),
                                    plan=self._plan)
            result = self.hidden.grade(submission)
            result.notes[:0] = located.notes
        result.submission = str(upload)
        result.isolation = self.sandbox.isolation
        if self.sandbox.missing:
            result.isolation += " (reduced: " + "; ".join(self.sandbox.missing) + ")"
        return result

    def close(self) -> None:
        try:
            self.sandbox.close()  # first: a test waiting on a worker then ends at once
        finally:
            self.hidden.close()
            self._staging.cleanup()

    def __enter__(self) -> Grader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _protect(folders: tuple[Path, ...]) -> None:
    """As root, take away others' access to the hidden tests and the reference solution,
    so a worker running as an unprivileged user cannot read them even without Landlock."""
    if os.geteuid() != 0:
        return
    for folder in folders:
        if folder.exists():
            os.chmod(folder, folder.stat().st_mode & ~0o077)


def examples() -> list[Path]:
    """What `make grade` grades with no argument: the reference, the skeleton, the mistakes."""
    shipped = sorted((ROOT / "examples").glob("*.py"))
    return [ROOT / "solutions" / "regression.py", ROOT / "assignment" / "regression.py", *shipped]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("submission", nargs="?", type=Path,
                        help="a regression.py, or a folder holding one; none: the examples")
    parser.add_argument("--results", type=Path, help="where to write Gradescope's results.json")
    parser.add_argument("--student-view", action="store_true",
                        help="print only what the student may see")
    args = parser.parse_args(argv)
    if args.submission is not None and not args.submission.exists():
        parser.error(f"{args.submission} does not exist")
    with Grader() as grader:
        if args.submission is None:
            rows = [(path, grader.grade(path)) for path in examples()]
            width = max(len(str(p.relative_to(ROOT))) for p, _ in rows)
            for path, result in rows:
                print(f"{str(path.relative_to(ROOT)):<{width}}  "
                      f"{result.score:>4g}/{result.max_score:g}  {result.seconds:5.2f} s")
            return 0
        result = grader.grade(args.submission)
    print(report(result, staff=not args.student_view))
    if args.results:
        write_results_json(result, args.results)
        print(f"Wrote {args.results}")
    return 0


if __name__ == "__main__":
    exit_now(main())
