"""Grade a whole class: `python -m autograder.batch SUBMISSIONS [--out DIR] [--jobs N]`.

SUBMISSIONS is a folder with one sub-folder (or one .py / .ipynb file) per student, or
the zip of Gradescope's "Export Submissions" (a `submission_metadata.yml` and one
`submission_<id>/` folder per submission). Each submission goes through the same Grader
as `make grade` and Gradescope, so it gets the same score.

Nothing is lost: each result is saved (atomically) as soon as it is known, so a batch
that was stopped (Ctrl-C, a crash, a reboot) resumes where it stopped and does not
regrade what it finished; `--regrade` grades everything again. A submission that hangs,
crashes or attacks costs its own tests only; a grading process that dies is replaced.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import csv
import dataclasses
import hashlib
import io
import json
import multiprocessing
import multiprocessing.util
import os
import re
import shutil
import signal
import statistics
import sys
import zipfile
import zlib
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import yaml

from autograder import exit_now
from autograder import gradebook as people
from autograder.class_report import write_report
from autograder.homework import Homework, HomeworkError
from autograder.progress import Progress
from autograder.results import GradingResult, TestResult, before_publishing, report, write_atomic
from autograder.submission import NoSubmission, read_regular, upload_digest
from autograder.text import clean

METADATA = "submission_metadata.yml"
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


class BatchError(Exception):
    """Bad input for the whole batch: the message says what to fix."""


class GraderFailing(Exception):
    """The grader failed on the first submissions and graded none: it is the grader (or
    this machine) that is broken, not the submissions, so the batch stops early."""


GIVE_UP_AFTER = 3  # failures of the grader in a row, before anything was graded


@dataclass
class Entry:
    """One submission of the batch, and who made it (as far as we know)."""

    key: str  # a name unique in the batch, safe as a file name: the folder or file name
    path: Path
    students: list[dict[str, str]] = dataclasses.field(default_factory=list)  # name, sid, email


# --- finding the submissions -------------------------------------------------------------


def discover(source: Path, out: Path) -> list[Entry]:
    """The submissions in a folder or a Gradescope export (a zip is unpacked into out)."""
    if not source.exists():
        raise BatchError(f"{source} does not exist")
    if source.is_file():
        if not zipfile.is_zipfile(source):
            raise BatchError(f"{source} is neither a folder nor a zip file")
        source = _unzip(source, out / "unpacked")
        inside = [p for p in source.iterdir() if not p.name.startswith((".", "_"))]
        if len(inside) == 1 and inside[0].is_dir() and _find_metadata(source) is None:
            source = inside[0]  # a zip of the class's folder: the students are one level down
    metadata = _find_metadata(source)
    if metadata is not None:
        return _from_gradescope(metadata)
    skip = out.resolve()
    entries = [Entry(_key(p.name), p, [{"name": clean(p.stem, 200), "sid": "", "email": ""}])
               for p in sorted(source.iterdir())
               if not p.name.startswith((".", "_")) and p.resolve() != skip
               and (p.is_dir() or p.suffix in (".py", ".ipynb"))]
    if not entries:
        raise BatchError(f"{source} holds no submissions: expected one sub-folder, .py or "
                         f".ipynb file per student, or a Gradescope export with {METADATA}")
    return entries


def _unzip(archive: Path, target: Path) -> Path:
    """Unpack a Gradescope export, or a zip of student folders or files. Checked before
    anything is written: no member may land outside the target folder."""
    with _open_zip(archive) as z:
        members = z.infolist()
        names = [PurePosixPath(m.filename) for m in members]
        _check_members(archive, members, names, target)
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        _extract(archive, z, members, target)
    return target


# What an export may hold. A Gradescope export of a large class is a few hundred MB;
# these stop an archive that would fill the disk or the memory (a "zip bomb").
MAX_MEMBERS = 100_000
MAX_MEMBER_BYTES = 200_000_000  # one file, unpacked
MAX_UNPACKED_BYTES = 4_000_000_000  # all of them
MAX_RATIO = 200  # unpacked / packed, for a member or the whole over RATIO_FROM bytes
RATIO_FROM = 10_000_000
MAX_NAME_BYTES = 255  # one part of a path: what a Linux file system takes
MAX_KEY_BYTES = 200  # a submission's name, which names its files in the output folder
MAX_SUBMITTERS = 50  # people on one submission
MAX_METADATA_BYTES = 5_000_000  # 5,000 submissions take <1 MB; YAML is read at ~0.2 MB/s


def _check_members(archive: Path, members: list[zipfile.ZipInfo], names: list[PurePosixPath],
                   target: Path) -> None:
    """Refuse, before anything is written, an archive whose names or sizes are not what an
    export holds: a member outside the target folder, a NUL or over-long name, too many
    members, too many bytes unpacked or a compression ratio no real file has."""
    shown = clean(archive.name, 200)
    if len(members) > MAX_MEMBERS:
        raise BatchError(f"{shown} has {len(members)} members, more than {MAX_MEMBERS}; "
                         "not unpacking it")
    total = packed = 0
    for member, name in zip(members, names, strict=True):
        what = clean(repr(member.orig_filename), 120)
        if name.is_absolute() or ".." in name.parts or "\\" in member.filename:
            raise BatchError(f"{shown} has a member outside its folder: {what}; not unpacking it")
        if "\0" in member.orig_filename or any(len(os.fsencode(part)) > MAX_NAME_BYTES
                                               for part in name.parts):
            raise BatchError(f"{shown} has a member whose name is not a file name (a NUL "
                             f"byte, or a part over {MAX_NAME_BYTES} bytes): {what}; "
                             "not unpacking it")
        if member.file_size > MAX_MEMBER_BYTES or (
                member.file_size > RATIO_FROM
                and member.file_size > MAX_RATIO * max(member.compress_size, 1)):
            raise BatchError(f"{shown}: {what} would unpack to {member.file_size:,} bytes from "
                             f"{member.compress_size:,}; not unpacking it")
        total += member.file_size
        packed += member.compress_size
    if total > MAX_UNPACKED_BYTES or (total > RATIO_FROM and total > MAX_RATIO * max(packed, 1)):
        raise BatchError(f"{shown} would unpack to {total:,} bytes from {packed:,}; "
                         "not unpacking it")
    target.parent.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(target.parent).free
    if total > free:
        raise BatchError(f"{shown} needs {total:,} bytes unpacked, and {target.parent} has "
                         f"{free:,} free")


def _extract(archive: Path, z: zipfile.ZipFile, members: list[zipfile.ZipInfo],
             target: Path) -> None:
    """Unpack the checked members, counting what is written: a member that unpacks to
    more than it said stops the unpacking. Files and folders only (never a link)."""
    try:
        for member in members:
            destination = target.joinpath(*PurePosixPath(member.filename).parts)
            if member.is_dir():
                destination.mkdir(parents=True, exist_ok=True)
                continue
            destination.parent.mkdir(parents=True, exist_ok=True)
            written = 0
            with z.open(member) as source, open(destination, "wb") as copy:
                while chunk := source.read(1 << 20):
                    written += len(chunk)
                    if written > member.file_size:
                        raise BatchError(f"{clean(archive.name, 200)}: "
                                         f"{clean(repr(member.filename), 120)} unpacks to more "
                                         "than it says; not unpacking it")
                    copy.write(chunk)
    except (OSError, zipfile.BadZipFile, zlib.error, EOFError, RuntimeError,
            NotImplementedError, ValueError) as exc:
        raise BatchError(f"{clean(archive.name, 200)} could not be unpacked "
                         f"({type(exc).__name__}: {exc})") from None


def _open_zip(archive: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(archive)
    except (OSError, zipfile.BadZipFile, zlib.error, EOFError, ValueError,
            NotImplementedError) as exc:
        raise BatchError(f"{clean(archive.name, 200)} is not a zip file that can be read "
                         f"({type(exc).__name__}: {exc})") from None


def _key(name: str) -> str:
    """A file or folder name as an entry's key: itself when it is plain, else a plain
    version of it with a digest of the name, so keys stay unique and safe to print and
    to name files with."""
    if clean(name) == name and len(os.fsencode(name)) <= MAX_KEY_BYTES and name.isprintable():
        return name
    plain = re.sub(r"[^\w.@+-]+", "_", clean(name, 100)).strip("_.")
    return f"{plain[:80]}-{hashlib.sha256(os.fsencode(name)).hexdigest()[:8]}"


class _ExportLoader(yaml.SafeLoader):
    """YAML without aliases: an export never uses them, and a few hundred bytes of
    nested aliases expand to gigabytes (a "billion laughs")."""

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            raise yaml.composer.ComposerError(
                None, None, "uses a YAML alias (*name), which an export never has", mark)
        return super().compose_node(parent, index)


def _read_metadata(metadata: Path) -> object:
    """The export's metadata, read like an upload (no link followed, size capped) with a
    loader that refuses aliases."""
    try:
        data = read_regular(metadata.parent, PurePosixPath(metadata.name), MAX_METADATA_BYTES,
                            shown=clean(metadata, 300))
        return yaml.load(data.decode("utf-8", "replace"), Loader=_ExportLoader)  # noqa: S506
    except NoSubmission as exc:
        raise BatchError(str(exc)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        why = getattr(exc, "problem", None) or exc
        raise BatchError(f"{clean(metadata, 300)} is not valid YAML: {why}{where}") from None
    except RecursionError:
        raise BatchError(f"{clean(metadata, 300)} is nested too deeply to be an export's "
                         "metadata") from None


def _one_line(exc: BaseException) -> str:
    """An error for the TA's terminal: clean, on one line."""
    return " ".join(clean(str(exc), 1000).split())


def _find_metadata(folder: Path) -> Path | None:
    """Gradescope puts the metadata at the top of the export, sometimes one folder down."""
    for candidate in (folder / METADATA, *sorted(folder.glob(f"*/{METADATA}"))):
        if candidate.is_file():
            return candidate
    return None


def _from_gradescope(metadata: Path) -> list[Entry]:
    """One entry per `submission_<id>` key, with every submitter (a group has several).
    A key is a folder name next to the metadata file, nothing else: a key like `../x`
    could make the batch read or write outside the export."""
    data = _read_metadata(metadata)
    if not isinstance(data, dict):
        raise BatchError(f"{metadata} does not map submission folders to submitters")
    entries = []
    for key, info in sorted(data.items(), key=lambda kv: str(kv[0])):
        key = str(key)
        if (key in ("", ".", "..") or "/" in key or "\\" in key or key.startswith(".")
                or _key(key) != key):  # a NUL, a control character, over MAX_KEY_BYTES
            raise BatchError(f"{clean(metadata, 300)} names a submission folder that is not a "
                             f"plain folder name: {clean(repr(key), 120)}")
        submitters = info.get(":submitters") if isinstance(info, dict) else None
        if isinstance(submitters, list) and len(submitters) > MAX_SUBMITTERS:
            raise BatchError(f"{clean(metadata, 300)} lists {len(submitters)} submitters for "
                             f"{key}, more than {MAX_SUBMITTERS}")
        students = [{"name": _text(s.get(":name")), "sid": _text(s.get(":sid")),
                     "email": _text(s.get(":email"))}
                    for s in (submitters if isinstance(submitters, list) else [])
                    if isinstance(s, dict)]
        entries.append(Entry(key, metadata.parent / key, students))
    if not entries:
        raise BatchError(f"{metadata} lists no submissions")
    return entries


def _text(value: object) -> str:
    return "" if value is None else clean(value, 200)


# --- grading, in parallel, saving each result as it comes ----------------------------------

_grader = None  # this worker's autograder.grade.Grader
_homework: Path | None = None  # the folder of the homework this worker grades


def _start_worker(homework: Path) -> None:
    global _homework
    _homework = homework
    # Ctrl-C reaches the whole process group; the coordinator alone decides what to do
    # (the zygote this worker starts inherits the ignore, the sandbox children are in
    # sessions of their own)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # The last thing a worker does, after its Grader is closed and its results are sent:
    # end without tearing down the interpreter, whose thousands of library objects took
    # ~1 s of the batch's wall time (each worker exits while the coordinator waits).
    multiprocessing.util.Finalize(None, exit_now, exitpriority=-100)


def _grade_in_worker(path: str) -> dict:
    """Grade one submission with this worker's Grader, started on first use. If grading
    fails (the zygote died, say), that Grader is dropped and the next call starts anew."""
    global _grader
    if _grader is None:
        from autograder.grade import Grader

        _grader = Grader(Homework.load(_homework))
        # closed when the worker ends normally: its zygote is waited for (so the batch's
        # CPU time counts it) and its staging folder removed
        multiprocessing.util.Finalize(_grader, _grader.close, exitpriority=10)
    try:
        return dataclasses.asdict(_grader.grade(Path(path)))
    except BaseException:
        grader, _grader = _grader, None
        with contextlib.suppress(Exception):
            grader.close()
        raise


def fingerprint(entry: Entry, grading_key: str) -> str:
    """Changes when the submission changes, or what grades it (`grading_key`: judge.plan_key,
    over the hidden tests, the reference and the judge): then a resumed batch regrades
    that submission instead of keeping a stale score."""
    digest = hashlib.sha256(upload_digest(entry.path))  # no link followed, no blocking read
    digest.update(grading_key.encode())
    return digest.hexdigest()


class _Pool:
    """Grading processes that survive the death of one: a worker killed (the kernel's
    out-of-memory killer, a TA's `kill`) breaks a ProcessPoolExecutor for good, so a
    broken one is replaced and what it had in flight is graded again."""

    def __init__(self, jobs: int, homework: Homework) -> None:
        self.jobs = jobs
        self.homework = homework
        self.executor = self._new()

    def _new(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=self.jobs, initializer=_start_worker,
                                   initargs=(self.homework.folder,),
                                   mp_context=multiprocessing.get_context("spawn"))

    def submit(self, entry: Entry) -> Future:
        try:
            return self.executor.submit(_grade_in_worker, str(entry.path))
        except BrokenProcessPool:
            self.replace()
            return self.executor.submit(_grade_in_worker, str(entry.path))

    def replace(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.executor = self._new()

    def kill(self) -> None:
        """Stop now: no new work, and the workers (they ignore Ctrl-C) are terminated."""
        processes = list((getattr(self.executor, "_processes", None) or {}).values())
        self.executor.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            with contextlib.suppress(Exception):
                process.terminate()
        for process in processes:
            with contextlib.suppress(Exception):
                process.join(timeout=5)

    def close(self) -> None:
        self.executor.shutdown(wait=True)


def run_batch(entries: list[Entry], out: Path, jobs: int, regrade: bool,
              progress: Progress, homework: Homework) -> dict[str, dict]:
    """Grade what is not graded yet; return every saved record, keyed by entry.

    A result is saved when its feedback file is written and then its record file
    (`out/results/KEY.json`) is renamed into place: a record file is always complete,
    and a submission without one is graded on the next run."""
    saved = out / "results"
    saved.mkdir(parents=True, exist_ok=True)
    for stale in saved.glob(".*.json.*"):  # a temporary file left by a killed run
        stale.unlink(missing_ok=True)
    from autograder.judge import plan_key

    grading_key = plan_key(homework.secrets)  # once: it reads every hidden file
    records: dict[str, dict] = {}
    todo: collections.deque[tuple[Entry, str]] = collections.deque()
    for entry in entries:
        mark = fingerprint(entry, grading_key)
        record = None if regrade else _load(saved / f"{entry.key}.json")
        if record and record.get("fingerprint") == mark:
            records[entry.key] = record
            feedback = out / "feedback" / f"{entry.key}.txt"
            if not feedback.exists():
                _write_feedback(feedback, entry, _revive(record["result"]))
        else:
            todo.append((entry, mark))
    progress.start(len(todo), skipped=len(records))
    if todo:
        pool = _Pool(min(jobs, len(todo)), homework)
        try:
            _grade_all(pool, todo, out, records, progress)
        except BaseException:
            pool.kill()
            raise
        pool.close()
    return records


def _grade_all(pool: _Pool, todo: collections.deque[tuple[Entry, str]], out: Path,
               records: dict[str, dict], progress: Progress) -> None:
    """Keep the pool busy until `todo` is graded, saving each result as it comes. After
    a worker died, what it had in flight is graded again one at a time, so a submission
    that kills its worker again is found, and only it is given up on."""
    suspects: collections.deque[tuple[Entry, str]] = collections.deque()
    pending: dict[Future, tuple[Entry, str, bool, ProcessPoolExecutor]] = {}
    graded_now = 0
    while todo or suspects or pending:
        if suspects:
            if not pending:
                entry, mark = suspects.popleft()
                pending[pool.submit(entry)] = (entry, mark, True, pool.executor)
        else:
            while todo and len(pending) < 2 * pool.jobs:
                entry, mark = todo.popleft()
                pending[pool.submit(entry)] = (entry, mark, False, pool.executor)
        done, _ = wait(pending, return_when=FIRST_COMPLETED)
        broken = False
        for future in done:
            entry, mark, suspect, executor = pending.pop(future)
            try:
                result = future.result()
            except BrokenProcessPool:
                broken = broken or executor is pool.executor  # not one replaced already
                if suspect:
                    progress.failed(entry.key, "its grading process died twice (killed? "
                                    "out of memory?); not saved, retried on the next run")
                else:
                    suspects.append((entry, mark))
                continue
            except Exception as exc:  # the judge itself failed: not saved, retried next run
                why = f"{type(exc).__name__}: {str(exc).strip()[:300]}"
                progress.failed(entry.key, f"the grader failed ({why}); not saved, "
                                "retried on the next run")
                if not graded_now and len(progress.failures) >= GIVE_UP_AFTER:
                    raise GraderFailing(why) from exc
                continue
            records[entry.key] = _save(out, entry, mark, result)
            graded_now += 1
            progress.graded(entry.key, result)
        if broken:
            progress.note("a grading process died; replacing it and grading again what "
                          "it had in flight, one at a time")
            pool.replace()


def _save(out: Path, entry: Entry, mark: str, result: dict) -> dict:
    """Save one result: its feedback file, then its record (renamed into place)."""
    record = {"key": entry.key, "students": entry.students, "fingerprint": mark,
              "result": result}
    _write_feedback(out / "feedback" / f"{entry.key}.txt", entry, _revive(result))
    write_atomic(out / "results" / f"{entry.key}.json", json.dumps(record, indent=1))
    return record


def _load(path: Path) -> dict | None:
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not (isinstance(record, dict) and "result" in record):
        return None
    try:
        _revive(record["result"])
    except (TypeError, KeyError, AttributeError):  # saved by an older engine: graded again
        return None
    return record


def _revive(result: dict) -> GradingResult:
    data = dict(result)
    data["tests"] = [TestResult(**t) for t in result["tests"]]
    return GradingResult(**data)


def _write_feedback(path: Path, entry: Entry, result: GradingResult) -> None:
    who = "; ".join(f"{s['name']} <{s['email']}>" if s["email"] else s["name"]
                    for s in entry.students) or entry.key
    text = (f"Feedback for {who} (submission {entry.key})\n\n"
            "== What the student sees on Gradescope before grades are published ==\n"
            f"{report(before_publishing(result), staff=False)}\n\n"
            "== Every test, with the hidden ones (for course staff) ==\n"
            f"{report(result, staff=True)}\n")
    write_atomic(path, text)


# --- the gradebook and the summary ---------------------------------------------------------


def gradebook(records: dict[str, dict], entries: list[Entry], failures: dict[str, str],
              feedback: Path) -> str:
    """One row per student (a group submission gives each member a row), one column per
    test. Plain CSV with a single header row: spreadsheets, Canvas and Gradescope import it.
    A submission the grader failed on has a row too, with no score and the reason."""
    columns: dict[str, str] = {}  # test id -> header (the test's name, unique)
    for record in records.values():
        for t in record["result"]["tests"]:
            if t["test_id"] not in columns:
                taken = t["name"] in columns.values()
                columns[t["test_id"]] = f"{t['name']} [{t['test_id']}]" if taken else t["name"]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["Name", "SID", "Email", "Submission", "Total Score", "Max Points",
                     "Status", "Feedback", *columns.values()])
    for entry in entries:
        record = records.get(entry.key)
        if record is not None:
            result = record["result"]
            scores = {t["test_id"]: t["score"] for t in result["tests"]}
            total = f"{sum(scores.values()):g}"
            maximum = f"{sum(t['max_score'] for t in result['tests']):g}"
            status = (f"not graded: {result['ungradable']}" if result.get("ungradable")
                      else "graded")
            cells = [f"{scores[c]:g}" if c in scores else "" for c in columns]
            where = str(feedback / f"{entry.key}.txt")
        elif entry.key in failures:
            total, maximum, where = "", "", ""
            status = f"grader failed: {failures[entry.key]}"
            cells = [""] * len(columns)
        else:
            continue
        for student in entry.students or [{"name": entry.key, "sid": "", "email": ""}]:
            writer.writerow([people.safe_cell(c) for c in (  # a name may look like a formula
                student["name"], student["sid"], student["email"], entry.key, total, maximum,
                status, where, *cells)])
    return buffer.getvalue()


def summary(records: dict[str, dict], failures: dict[str, str]) -> str:
    """Count, mean and median, pass rate per test, and what could not be graded and why."""
    graded = [r["result"] for r in records.values() if not r["result"].get("ungradable")]
    lines = [f"Graded: {len(graded)} of {len(records) + len(failures)} submissions"]
    if graded:
        totals = [sum(t["score"] for t in r["tests"]) for r in graded]
        maximum = sum(t["max_score"] for t in graded[0]["tests"])
        lines.append(f"Score: mean {statistics.mean(totals):.2f}, median "
                     f"{statistics.median(totals):g} (of {maximum:g}; graded submissions)")
        lines.append("Pass rate per test (hardest first):")
        rates: dict[str, list[bool]] = {}
        names: dict[str, str] = {}
        for r in graded:
            for t in r["tests"]:
                rates.setdefault(t["test_id"], []).append(t["score"] >= t["max_score"])
                names[t["test_id"]] = t["name"]
        for test_id, passes in sorted(rates.items(), key=lambda kv: sum(kv[1]) / len(kv[1])):
            lines.append(f"  {100 * sum(passes) / len(passes):5.1f}%  {names[test_id]}")
    problems = {key: f"not graded: {r['result']['ungradable']}"
                for key, r in records.items() if r["result"].get("ungradable")}
    problems.update({key: f"grader failed: {why}" for key, why in failures.items()})
    if problems:
        lines.append(f"Could not be graded: {len(problems)}")
        lines += [f"  {key}: {why}" for key, why in sorted(problems.items())]
    return "\n".join(lines)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("submissions", type=Path,
                        help="a folder of submissions, or a Gradescope export zip")
    parser.add_argument("--homework", type=Path,
                        help="the homework's folder (its homework.toml); default: the course's")
    parser.add_argument("--out", type=Path,
                        help="output folder (default: next to SUBMISSIONS, named *-graded)")
    parser.add_argument("--gradebook", type=Path, help="gradebook CSV (default: OUT/gradebook.csv)")
    parser.add_argument("--jobs", type=int, default=len(os.sched_getaffinity(0)),
                        help="submissions graded at once (default: one per core)")
    parser.add_argument("--regrade", action="store_true",
                        help="regrade everything, even what an earlier run finished")
    parser.add_argument("--roster", type=Path,
                        help="CSV naming the students (name, SID, email columns; Gradescope's "
                        "or Canvas's export will do)")
    parser.add_argument("--only", metavar="NAME",
                        help="regrade one submission (file or folder name, or a student's "
                        "name, SID or email); the others keep their saved results")
    parser.add_argument("--assignment", default="Autograded score",
                        help='the Canvas column of canvas.csv, e.g. "Homework 3 (123456)"')
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    source = args.submissions
    if not source.exists():
        print(f"grade-all: {source} does not exist", file=sys.stderr)
        return EXIT_BAD_INPUT
    absolute = source.resolve()
    out = args.out or absolute.with_name(absolute.stem + "-graded")
    try:
        homework = Homework.load(args.homework)
        entries = discover(source, out)
        matching = (people.match_roster(entries, people.read_roster(args.roster))
                    if args.roster else None)
        chosen = people.select(entries, args.only) if args.only else entries
    except (HomeworkError, BatchError, people.RosterError, zipfile.BadZipFile) as exc:
        print(f"grade-all: {_one_line(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    for line in matching.messages(args.roster) if matching else []:
        print(line, file=sys.stderr)
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops as cleanly as Ctrl-C
    progress = Progress()
    try:
        records = run_batch(chosen, out, args.jobs, args.regrade or bool(args.only), progress,
                            homework)
    except KeyboardInterrupt:
        progress.close()
        print("\nStopped. Finished results are saved; run the same command to resume.",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    except GraderFailing as exc:
        print(f"grade-all: stopped: the grader failed on the first {GIVE_UP_AFTER} "
              f"submissions and graded none, so the fault is not theirs: {exc}",
              file=sys.stderr)
        return 1
    if args.only:  # the gradebook still lists everyone: the others as saved before
        saved = {e.key: r for e in entries if (r := _load(out / "results" / f"{e.key}.json"))}
        records = {**saved, **records}
        sys.stdout.reconfigure(errors="backslashreplace")  # a terminal that is not UTF-8
        for entry in chosen:
            print((out / "feedback" / f"{entry.key}.txt").read_text(encoding="utf-8"))
    _write_outputs(args, out, records, entries, progress.failures,
                   matching.absent if matching else [], homework)
    return 1 if progress.failures else 0


def _write_outputs(args: argparse.Namespace, out: Path, records: dict[str, dict],
                   entries: list[Entry], failures: dict[str, str], absent: list[dict[str, str]],
                   homework: Homework) -> None:
    """The gradebook, the score files to upload, the class report and the summary."""
    book = args.gradebook or out / "gradebook.csv"
    feedback = out / "feedback"
    relative = Path(os.path.relpath(feedback.resolve(), book.resolve().parent))
    write_atomic(book, people.absent_rows(
        gradebook(records, entries, failures, relative), absent))
    exports = people.write_exports(book.parent, records, entries, failures, absent,
                                   args.assignment)
    write_report(out / "report.html", records, failures, homework.causes)
    text = summary(records, failures)
    write_atomic(out / "summary.txt", text + "\n")
    print(text)
    print(f"Gradebook: {book}\nFeedback:  {feedback}/ (one file per submission)\n"
          f"Summary:   {out / 'summary.txt'}\nReport:    {out / 'report.html'} (plots: open "
          "it in a browser)\nUpload:    " + "\n           ".join(map(str, exports)))


if __name__ == "__main__":
    sys.exit(main())
