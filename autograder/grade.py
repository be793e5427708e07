"""Grade submissions: `python -m autograder.grade [SUBMISSION] [--homework FOLDER] [...]`.

One code path for Gradescope, a TA's batch and a single run: a Grader owns one sandbox
zygote and grades uploads one after another with the hidden tests.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import zipfile
from pathlib import Path

from autograder import exit_now
from autograder.homework import Homework, HomeworkError
from autograder.judge import Answers, HiddenTests, Submission, settle_plan
from autograder.limits import Limits
from autograder.platforms import DEFAULT, PLATFORMS
from autograder.results import GradingResult, before_publishing, bounded, report
from autograder.sandbox import Sandbox
from autograder.sandbox.client import IMPORT_ONLY
from autograder.session import HiddenTestsError
from autograder.submission import NoSubmission, Staged, locate, skipped_cell_notes
from autograder.text import clean


class Grader:
    """A judge with its own pre-started sandbox. With `live_answers`, the hidden tests'
    expected answers are computed here (with the reference) rather than read from answers.json:
    the package's tests compare the two."""

    def __init__(self, homework: Homework | None = None, limits: Limits | None = None,
                 *, live_answers: bool = False) -> None:
        self.homework = homework or Homework.load()
        _protect(self.homework.secrets)
        self.sandbox = Sandbox(self.homework.scenarios, limits or self.homework.limits,
                               preload=self.homework.preload, secrets=self.homework.secrets)
        # collects while the zygote starts
        self.hidden = HiddenTests(self.homework.folder, Answers(live=live_answers))
        self._staging = tempfile.TemporaryDirectory(prefix="grader-")
        # the hidden tests' scenario calls, learnt once from them (and again when they
        # change): every submission runs them in one worker, in one order (judge.Plan);
        # and their expected answers, learnt with them (judge.Answers)
        try:
            self._plan = settle_plan(self.homework, self.sandbox, self.hidden)
        except BaseException:  # broken hidden tests, say: no zygote or session left behind
            self.close()
            raise

    def grade(self, upload: Path) -> GradingResult:
        """Grade one upload. What its content causes (a link, a huge or broken file, text
        that is not clean) is the submission's 0 with a message, never an exception."""
        module = self.homework.module
        path = Path(self._staging.name) / f"{module}.py"
        try:
            located = locate(upload, module)
            staged = located.stage()
        except NoSubmission as exc:
            result = self._ungradable(upload, str(exc))
        except Exception as exc:  # noqa: BLE001 (a fault of reading this one upload)
            result = self._ungradable(upload, f"{clean(upload.name, 300)} could not be read "
                                      f"({type(exc).__name__}): upload it again")
        else:
            path.write_bytes(staged.source)  # the zygote copies this, never the upload itself
            submission = Submission(path, module, self.sandbox, staged.lines, plan=self._plan)
            result = self.hidden.grade(submission)
            notes = located.notes
            if staged.cells:  # a notebook: which cells its import skipped, and where
                skipped = self.sandbox.run(path, module, IMPORT_ONLY)
                notes = notes + skipped_cell_notes(skipped.value if skipped.ok else None, staged)
                _name_cells(result, staged, located.name, module)
            result.notes[:0] = notes
        result.submission = clean(str(upload), 500)
        result.isolation = self.sandbox.isolation
        if self.sandbox.missing:
            result.isolation += " (reduced: " + "; ".join(self.sandbox.missing) + ")"
        return bounded(result)

    def _ungradable(self, upload: Path, why: str) -> GradingResult:
        submission = Submission(upload, self.homework.module, self.sandbox, [])
        result = self.hidden.grade(submission, failure=why)
        result.ungradable = why
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


def _name_cells(result: GradingResult, staged: Staged, name: str, module: str) -> None:
    """In a notebook's messages, a line is named by its cell ("at cell 3, line 2"), and
    the module is the notebook: the student never saw the module made of its cells."""
    def rename(text: str) -> str:
        text = _AT_LINE.sub(lambda m: f"at {staged.where(int(m.group(1)))}", text)
        return text.replace(f"{module}.py could not be imported", f"{name} could not be run")

    result.notes = [rename(note) for note in result.notes]
    for test in result.tests:
        test.feedback = rename(test.feedback)


_AT_LINE = re.compile(r"\bat line (\d+)\b")  # how the judge names a line of the module


def _protect(folders: tuple[Path, ...]) -> None:
    """As root, take away others' access to the hidden tests and the reference solution,
    so a worker running as an unprivileged user cannot read them even without Landlock."""
    if os.geteuid() != 0:
        return
    for folder in folders:
        if folder.exists():
            os.chmod(folder, folder.stat().st_mode & ~0o077)


def examples(homework: Homework) -> list[Path]:
    """What `make grade` grades with no argument: the reference, the skeleton, the mistakes."""
    skeleton = [homework.skeleton] if homework.skeleton else []
    return [homework.reference, *skeleton, *homework.examples]


def _shown(path: Path) -> str:
    """A path as the person at the terminal reads it: relative to where they are."""
    return os.path.relpath(path) if path.is_absolute() else str(path)


def _many_submissions(path: Path) -> str | None:
    """What a class's worth of submissions `path` is, or None for one submission."""
    if path.is_file() and zipfile.is_zipfile(path):
        return "a zip (a Gradescope export, or the folders of several students)"
    if path.is_dir() and any(p.is_file() for p in (path / "submission_metadata.yml",
                                                    *path.glob("*/submission_metadata.yml"))):
        return "a Gradescope export (it has submission_metadata.yml)"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("submission", nargs="?", type=Path,
                        help="the module students write (a .py or a notebook), or a folder "
                        "holding one; none: the homework's reference, skeleton and examples")
    parser.add_argument("--homework", type=Path,
                        help="the homework's folder (its homework.toml); default: the course's")
    parser.add_argument("--results", type=Path, help="where to write the platform's results.json")
    parser.add_argument("--format", choices=sorted(PLATFORMS), default=DEFAULT,
                        help=f"the platform whose results.json to write (default: {DEFAULT})")
    parser.add_argument("--student-view", action="store_true",
                        help="print only what the student may see")
    args = parser.parse_args(argv)
    if args.submission is not None and not args.submission.exists():
        parser.error(f"{args.submission} does not exist")
    if args.submission is not None and (many := _many_submissions(args.submission)):
        print(f"grade: {args.submission} is {many}; grade a class with "
              f"`make grade-all SUBMISSIONS={args.submission}`", file=sys.stderr)
        return 2
    try:
        homework = Homework.load(args.homework)
    except HomeworkError as exc:
        print(f"grade: {exc}", file=sys.stderr)
        return 2
    try:
        grader = Grader(homework)
    except HiddenTestsError as exc:
        print(f"grade: {exc}", file=sys.stderr)
        return 2
    with grader:
        if args.submission is None:
            rows = [(path, grader.grade(path)) for path in examples(homework)]
            width = max(len(_shown(p)) for p, _ in rows)
            for path, result in rows:
                print(f"{_shown(path):<{width}}  "
                      f"{result.score:>4g}/{result.max_score:g}  {result.seconds:5.2f} s")
            return 0
        result = grader.grade(args.submission)
    platform = PLATFORMS[args.format]
    if args.results:  # first: whatever happens to the printing, the results are saved
        platform.write(result, args.results)
    sys.stdout.reconfigure(errors="backslashreplace")  # a terminal that is not UTF-8
    if platform.stdout_private:
        print(report(result, staff=not args.student_view))
    else:  # a platform that may show stdout to the student: only what is shown now
        print(report(before_publishing(result), staff=False))
    if args.results:
        print(f"Wrote {args.results}")
    return 0


if __name__ == "__main__":
    exit_now(main())
