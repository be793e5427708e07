"""Grade a whole class: `python -m autograder.batch SUBMISSIONS [--out DIR] [--jobs N]`.

SUBMISSIONS is a folder with one sub-folder (or one .py / .ipynb file) per student, or
the zip of Gradescope's "Export Submissions". Each submission goes through the same
Grader as `make grade` and Gradescope, so it gets the same score. Every result is saved
as soon as it is known, so a batch that was stopped resumes where it stopped.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import hashlib
import io
import json
import multiprocessing
import os
import shutil
import statistics
import sys
import time
import zipfile
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

import yaml

from autograder.grade import HIDDEN_TESTS, Grader, Homework
from autograder.results import GradingResult, TestResult, report, write_atomic

METADATA = "submission_metadata.yml"


class BatchError(Exception):
    """Bad input for the whole batch: the message says what to fix."""


@dataclass
class Entry:
    """One submission of the batch, and who made it (as far as we know)."""

    key: str  # a name unique in the batch: the folder or file name
    path: Path
    students: list[dict[str, str]] = dataclasses.field(default_factory=list)  # name, sid, email


# --- finding the submissions -------------------------------------------------------------


def discover(source: Path, workdir: Path) -> list[Entry]:
    """The submissions in a folder or a Gradescope export zip (unpacked into workdir)."""
    if not source.exists():
        raise BatchError(f"{source} does not exist")
    if source.is_file():
        if not zipfile.is_zipfile(source):
            raise BatchError(f"{source} is neither a folder nor a zip file")
        folder = _unzip(source, workdir / "unpacked")
        metadata = _find_metadata(folder)
        if metadata is None:
            raise BatchError(f"{source} is not a Gradescope export: it has no {METADATA}")
        return _from_gradescope(metadata)
    metadata = _find_metadata(source)
    if metadata is not None:
        return _from_gradescope(metadata)
    entries = [Entry(p.name, p) for p in sorted(source.iterdir())
               if not p.name.startswith((".", "_")) and
               (p.is_dir() or p.suffix in (".py", ".ipynb"))]
    if not entries:
        raise BatchError(f"{source} holds no submissions (no sub-folders, .py or .ipynb files)")
    return entries


def _unzip(archive: Path, target: Path) -> Path:
    """Unpack, refusing members that would land outside the target folder."""
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    with zipfile.ZipFile(archive) as z:
        for member in z.infolist():
            destination = (target / member.filename).resolve()
            if not destination.is_relative_to(target.resolve()):
                raise BatchError(f"{archive} has a member outside its folder: {member.filename}")
        z.extractall(target)
    return target


def _find_metadata(folder: Path) -> Path | None:
    """Gradescope puts the metadata at the top of the export, sometimes one folder down."""
    for candidate in (folder / METADATA, *sorted(folder.glob(f"*/{METADATA}"))):
        if candidate.is_file():
            return candidate
    return None


def _from_gradescope(metadata: Path) -> list[Entry]:
    try:
        data = yaml.safe_load(metadata.read_text())
    except yaml.YAMLError as exc:
        raise BatchError(f"{metadata} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise BatchError(f"{metadata} does not map submission folders to submitters")
    entries = []
    for key, info in sorted(data.items()):
        submitters = (info or {}).get(":submitters", []) if isinstance(info, dict) else []
        students = [{"name": str(s.get(":name", "")), "sid": str(s.get(":sid", "") or ""),
                     "email": str(s.get(":email", "") or "")}
                    for s in submitters if isinstance(s, dict)]
        entries.append(Entry(str(key), metadata.parent / str(key), students))
    if not entries:
        raise BatchError(f"{metadata} lists no submissions")
    return entries


# --- grading, in parallel, saving each result as it comes ----------------------------------

_grader: Grader | None = None


def _start_worker() -> None:
    global _grader
    _grader = Grader()


def _grade_in_worker(path: str) -> dict:
    return dataclasses.asdict(_grader.grade(Path(path)))


def fingerprint(entry: Entry, tests: Path = HIDDEN_TESTS) -> str:
    """Changes when the submission or the hidden tests change: then a resumed batch
    regrades that submission instead of keeping a stale score."""
    digest = hashlib.sha256()
    files = [entry.path] if entry.path.is_file() else sorted(
        p for p in entry.path.rglob("*") if p.is_file())
    for folder_files in (files, sorted(tests.rglob("*.py")), sorted(tests.glob("*.toml"))):
        for f in folder_files:
            digest.update(f.name.encode() + b"\0" + f.read_bytes())
    return digest.hexdigest()


def run_batch(entries: list[Entry], out: Path, jobs: int, regrade: bool,
              progress: Progress) -> dict[str, dict]:
    """Grade what is not graded yet; return every saved record, keyed by entry."""
    saved = out / "results"
    saved.mkdir(parents=True, exist_ok=True)
    records: dict[str, dict] = {}
    todo = []
    for entry in entries:
        mark = fingerprint(entry)
        record = _load(saved / f"{entry.key}.json")
        if record and record.get("fingerprint") == mark and not regrade:
            records[entry.key] = record
        else:
            todo.append((entry, mark))
    progress.start(len(todo), skipped=len(records))
    if not todo:
        return records
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=min(jobs, len(todo)), mp_context=context,
                               initializer=_start_worker)
    pending: dict[Future, tuple[Entry, str]] = {}
    queue = list(todo)
    try:
        while queue or pending:
            while queue and len(pending) < 2 * jobs:
                entry, mark = queue.pop(0)
                pending[pool.submit(_grade_in_worker, str(entry.path))] = (entry, mark)
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                entry, mark = pending.pop(future)
                try:
                    result = future.result()
                except Exception as exc:  # the judge itself failed: not saved, retried next run
                    progress.failed(entry.key, f"{type(exc).__name__}: {exc}")
                    continue
                record = {"key": entry.key, "students": entry.students,
                          "fingerprint": mark, "result": result}
                write_atomic(saved / f"{entry.key}.json", json.dumps(record, indent=1))
                _write_feedback(out / "feedback" / f"{entry.key}.txt", entry, _revive(result))
                records[entry.key] = record
                progress.graded(entry.key, result)
    except KeyboardInterrupt:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    return records


def _load(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _revive(result: dict) -> GradingResult:
    data = dict(result)
    data["tests"] = [TestResult(**t) for t in result["tests"]]
    return GradingResult(**data)


def _write_feedback(path: Path, entry: Entry, result: GradingResult) -> None:
    who = "; ".join(f"{s['name']} <{s['email']}>" if s["email"] else s["name"]
                    for s in entry.students) or entry.key
    visible = dataclasses.replace(result, tests=[t for t in result.tests
                                                 if t.visibility == "visible"])
    text = (f"Feedback for {who}\n\n"
            "== What the student sees on Gradescope before grades are published ==\n"
            f"{report(visible, staff=False)}\n\n"
            "== Every test, with the hidden ones (for course staff) ==\n"
            f"{report(result, staff=True)}\n")
    write_atomic(path, text)


# --- the gradebook and the summary ---------------------------------------------------------


def gradebook(records: dict[str, dict], entries: list[Entry]) -> str:
    """One row per student (a group submission gives each member a row), one column per test.
    Plain CSV with a single header row: spreadsheets, Canvas and Gradescope import it."""
    names: list[str] = []
    for record in records.values():
        for t in record["result"]["tests"]:
            if t["name"] not in names:
                names.append(t["name"])
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["Name", "SID", "Email", "Submission", "Total Score", "Max Points",
                     "Status", *names])
    for entry in entries:
        record = records.get(entry.key)
        if record is None:
            continue
        result = record["result"]
        scores = {t["name"]: t["score"] for t in result["tests"]}
        total = sum(scores.values())
        maximum = sum(t["max_score"] for t in result["tests"])
        status = f"not graded: {result['ungradable']}" if result.get("ungradable") else "graded"
        for student in entry.students or [{"name": "", "sid": "", "email": ""}]:
            writer.writerow([student["name"], student["sid"], student["email"], entry.key,
                             f"{total:g}", f"{maximum:g}", status,
                             *(f"{scores[n]:g}" if n in scores else "" for n in names)])
    return buffer.getvalue()


def summary(records: dict[str, dict], failures: dict[str, str]) -> str:
    results = [r["result"] for r in records.values()]
    graded = [r for r in results if not r.get("ungradable")]
    lines = [f"Graded: {len(graded)} of {len(results) + len(failures)} submissions"]
    if graded:
        totals = [sum(t["score"] for t in r["tests"]) for r in graded]
        maximum = sum(t["max_score"] for t in graded[0]["tests"])
        lines.append(f"Score: mean {statistics.mean(totals):.2f}, median "
                     f"{statistics.median(totals):g} (of {maximum:g})")
        lines.append("Pass rate per test (hardest first):")
        rates: dict[str, list[bool]] = {}
        for r in graded:
            for t in r["tests"]:
                rates.setdefault(t["name"], []).append(t["score"] >= t["max_score"])
        for name, passes in sorted(rates.items(), key=lambda kv: sum(kv[1]) / len(kv[1])):
            lines.append(f"  {100 * sum(passes) / len(passes):5.1f}%  {name}")
    problems = {r["submission"]: r["ungradable"] for r in results if r.get("ungradable")}
    problems.update(failures)
    if problems:
        lines.append("Could not be graded:")
        lines += [f"  {key}: {why}" for key, why in sorted(problems.items())]
    return "\n".join(lines)


class Progress:
    """A bar with the time left on a terminal; one plain line per submission otherwise."""

    def __init__(self, stream=sys.stderr) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.failures: dict[str, str] = {}

    def start(self, total: int, skipped: int) -> None:
        self.total, self.done, self.started = total, 0, time.monotonic()
        if skipped:
            self._line(f"{skipped} already graded (kept); {total} to grade")

    def graded(self, key: str, result: dict) -> None:
        self.done += 1
        score = sum(t["score"] for t in result["tests"])
        maximum = sum(t["max_score"] for t in result["tests"])
        if self.tty:
            elapsed = time.monotonic() - self.started
            left = elapsed / self.done * (self.total - self.done)
            filled = int(30 * self.done / self.total)
            self.stream.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {self.done}/{self.total}"
                              f"  {left:4.0f} s left ")
            if self.done == self.total:
                self.stream.write("\n")
            self.stream.flush()
        else:
            self._line(f"[{self.done}/{self.total}] {key}: {score:g}/{maximum:g}")

    def failed(self, key: str, why: str) -> None:
        self.done += 1
        self.failures[key] = why
        self._line(f"[{self.done}/{self.total}] {key}: could not be graded: {why}")

    def _line(self, text: str) -> None:
        if self.tty:
            self.stream.write("\r")
        self.stream.write(text + "\n")
        self.stream.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("submissions", type=Path,
                        help="a folder of submissions, or a Gradescope export zip")
    parser.add_argument("--out", type=Path,
                        help="output folder (default: next to SUBMISSIONS, named *-graded)")
    parser.add_argument("--gradebook", type=Path, help="gradebook CSV (default: OUT/gradebook.csv)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="submissions graded at once (default: one per core)")
    parser.add_argument("--regrade", action="store_true",
                        help="regrade everything, even what an earlier run finished")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    source = args.submissions
    out = args.out or source.with_name(source.stem + "-graded")
    try:
        entries = discover(source, out)
    except BatchError as exc:
        print(f"grade-all: {exc}", file=sys.stderr)
        return 2
    Homework.load()  # fail early, before any worker starts, if the hidden tests are broken
    progress = Progress()
    try:
        records = run_batch(entries, out, args.jobs, args.regrade, progress)
    except KeyboardInterrupt:
        print("\nStopped. Finished results are saved; run the same command to resume.",
              file=sys.stderr)
        return 130
    book = args.gradebook or out / "gradebook.csv"
    write_atomic(book, gradebook(records, entries))
    print(summary(records, progress.failures))
    print(f"Gradebook: {book}\nFeedback:  {out / 'feedback'}/")
    return 1 if progress.failures else 0


if __name__ == "__main__":
    sys.exit(main())
