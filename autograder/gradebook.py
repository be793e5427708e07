"""Who the submissions belong to, and the files a TA uploads scores from.

A roster (`grade-all --roster roster.csv`) names the students of a plain folder of
submissions (a folder or file per student gives only a name), or adds what a Gradescope
export lacks for Canvas (Canvas's own user IDs, the section). It may be any CSV with a
header: Gradescope's roster export, Canvas's gradebook export, or a spreadsheet with
name / SID / email columns. Matching is by identifier first (SID, email, login, Canvas
ID, an explicit Submission column), by name only when no identifier matches, and never
by guess: a submission that matches no one, or several, is left unmatched and said so.

Exports (next to the gradebook):
- `canvas.csv`: Canvas's gradebook import layout (Student, ID, SIS User ID, SIS Login
  ID, Section, then one column "Assignment (id)"), with a Points Possible row.
- `gradescope.csv`: Name, SID, Email, Total Score, Max Points: the column names of
  Gradescope's roster (Email identifies a student) and of its own grade export.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol

MAX_ROSTER_BYTES = 10_000_000
NO_SUBMISSION = "no submission"

# header aliases, compared casefolded without spaces, dots, dashes or underscores
_ALIASES = {
    "name": ("name", "student", "studentname", "fullname", "displayname"),
    "first": ("firstname", "first", "givenname", "forename"),
    "last": ("lastname", "last", "surname", "familyname"),
    "sid": ("sid", "studentid", "studentnumber", "idnumber", "sisuserid", "matriculation"),
    "email": ("email", "emailaddress", "mail"),
    "login": ("sisloginid", "login", "loginid", "username", "netid", "uni"),
    "canvas_id": (),  # Canvas's "ID" column, only in a Canvas export (see _columns)
    "section": ("section", "sections"),
    "submission": ("submission", "folder", "file", "submissionname"),
}
FIELDS = tuple(_ALIASES)


class RosterError(Exception):
    """A roster that cannot be read: the message says what to fix."""


class Entry(Protocol):  # autograder.batch.Entry, without importing the batch
    key: str
    path: Path
    students: list[dict[str, str]]


def _header_key(text: str) -> str:
    return re.sub(r"[\s._\-]+", "", text.strip().casefold())


def norm(text: str) -> str:
    """What two spellings of one name or id share: letters and digits, casefolded."""
    return "".join(ch for ch in str(text).casefold() if ch.isalnum())


def safe_cell(value: object) -> str:
    """A CSV cell a spreadsheet shows as text: a leading =, +, -, @, tab or CR would make
    Excel or Sheets run it as a formula (a student chooses their own display name)."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# --- reading a roster ---------------------------------------------------------------------


def read_roster(path: Path) -> list[dict[str, str]]:
    """The students of a roster CSV, each a dict of FIELDS (empty when unknown)."""
    if not path.is_file():
        raise RosterError(f"roster {path} does not exist (give a CSV with a header row: "
                          "name, SID and email columns)")
    if path.stat().st_size > MAX_ROSTER_BYTES:
        raise RosterError(f"roster {path} is larger than {MAX_ROSTER_BYTES // 1_000_000} MB")
    text = path.read_bytes().decode("utf-8-sig", errors="replace")  # Excel writes a BOM
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise RosterError(f"roster {path} is empty: it needs a header row and a row per student")
    try:  # the delimiter only: the rest of a sniffed dialect is a guess (quotes doubled?)
        delimiter = csv.Sniffer().sniff(lines[0], delimiters=",;\t").delimiter
    except csv.Error:
        delimiter = ","
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    header, body = rows[0], rows[1:]
    columns = _columns(header)
    if not {"name", "first", "last", "sid", "email", "login", "submission"} & set(columns):
        raise RosterError(f"roster {path} has no column naming students: its header is "
                          f"{', '.join(header)!r}; expected e.g. Name, SID, Email")
    students = []
    for row in body:
        student = {field: (row[i].strip() if i < len(row) else "")
                   for field, i in columns.items()}
        student = {field: student.get(field, "") for field in FIELDS}
        if not student["name"] and (student["first"] or student["last"]):
            student["name"] = f"{student['first']} {student['last']}".strip()
        if norm(student["name"]) == "pointspossible" or not any(_identities(student)):
            continue  # Canvas's Points Possible row; a blank line
        students.append(student)
    if not students:
        raise RosterError(f"roster {path} lists no students under its header")
    return students


def _columns(header: Sequence[str]) -> dict[str, int]:
    keys = [_header_key(h) for h in header]
    canvas = "sisuserid" in keys  # Canvas's export: ID is Canvas's own user id
    columns: dict[str, int] = {}
    for i, key in enumerate(keys):
        if key == "id":
            field = "canvas_id" if canvas else "sid"
        else:
            field = next((f for f, names in _ALIASES.items() if key in names), "")
        if field and field not in columns:
            columns[field] = i
    return columns


def _identities(student: dict[str, str]) -> set[str]:
    """What identifies a student for sure: ids, email, login, an explicit submission."""
    ids = {norm(student.get(f, "")) for f in ("sid", "email", "login", "canvas_id",
                                              "submission")}
    email = student.get("email", "")
    if "@" in email:
        ids.add(norm(email.split("@")[0]))
    return {i for i in ids if i}


def _names(student: dict[str, str]) -> set[str]:
    first, last, name = student.get("first", ""), student.get("last", ""), student["name"]
    names = {norm(name), norm(first + last), norm(last + first)}
    if "," in name:  # Canvas: "Last, First"
        surname, _, given = name.partition(",")
        names.add(norm(given + surname))
    return {n for n in names if n}


# --- matching submissions to the roster ---------------------------------------------------


@dataclasses.dataclass
class Matching:
    unmatched: list[str]  # submission keys that match no roster student
    ambiguous: dict[str, list[str]]  # key -> the names it could be
    absent: list[dict[str, str]]  # roster students without a submission
    shared: dict[str, list[str]]  # roster name -> the submissions that matched it twice

    def messages(self, roster: Path) -> list[str]:
        out = []
        if self.unmatched:
            out.append(f"roster: {len(self.unmatched)} submission(s) match no one in {roster} "
                       f"(their rows keep only what the submission says): "
                       f"{', '.join(self.unmatched)}")
        for key, names in self.ambiguous.items():
            out.append(f"roster: {key} could be any of {', '.join(names)}; left unmatched "
                       "(rename it after the SID or email, or add a Submission column)")
        for name, keys in self.shared.items():
            out.append(f"roster: {name} has several submissions: {', '.join(keys)}")
        if self.absent:
            out.append(f"roster: {len(self.absent)} student(s) without a submission: "
                       + ", ".join(s["name"] or s["sid"] or s["email"] for s in self.absent))
        return out


def match_roster(entries: Iterable[Entry], roster: list[dict[str, str]]) -> Matching:
    """Give each submission's students their roster rows (in place). A folder-mode entry
    is known by its file or folder name; a Gradescope submitter by SID, email or name."""
    claimed: dict[int, list[str]] = {}
    matching = Matching([], {}, [], {})
    for entry in entries:
        people = entry.students or [{"name": entry.key, "sid": "", "email": ""}]
        named_by_file = (len(people) == 1 and not people[0].get("sid")
                         and not people[0].get("email")
                         and people[0].get("name") in (entry.key, entry.path.stem))
        for position, student in enumerate(people):
            found = (_by_file(entry, roster) if named_by_file
                     else _by_student(student, roster))
            if len(found) == 1:
                row = found[0]
                claimed.setdefault(id(row), []).append(entry.key)
                merged = {f: student.get(f) or row[f] for f in FIELDS}
                if named_by_file:
                    merged["name"] = row["name"]  # the file's name was only a stand-in
                people[position] = merged
            elif found:
                matching.ambiguous[entry.key] = [s["name"] or s["sid"] for s in found]
            else:
                matching.unmatched.append(entry.key)
        entry.students = people
    for row in roster:
        keys = claimed.get(id(row), [])
        if not keys:
            matching.absent.append(row)
        elif len(keys) > 1:
            matching.shared[row["name"] or row["sid"]] = keys
    return matching


def _by_file(entry: Entry, roster: list[dict[str, str]]) -> list[dict[str, str]]:
    """Roster rows a file or folder name points to: the whole name as an id, then an id
    among its parts (Canvas names downloads `smithjane_12345_67890_hw3.py`), then
    the whole name as the student's name."""
    stem = entry.path.stem if entry.path.is_file() else entry.path.name
    whole = norm(stem)
    parts = {norm(p) for p in re.split(r"[\s_\-.]+", stem) if len(norm(p)) >= 3}
    for test in (lambda s: whole in _identities(s) or norm(entry.key) in _identities(s),
                 lambda s: bool(parts & _identities(s)),
                 lambda s: whole in _names(s)):
        found = [s for s in roster if test(s)]
        if found:
            return found
    return []


def _by_student(student: dict[str, str], roster: list[dict[str, str]]) -> list[dict[str, str]]:
    ids = _identities(student)
    found = [s for s in roster if ids & _identities(s)]
    if found or not student.get("name"):
        return found
    return [s for s in roster if norm(student["name"]) in _names(s)]


# --- the gradebook files --------------------------------------------------------------------


def absent_rows(gradebook_csv: str, absent: list[dict[str, str]]) -> str:
    """The gradebook with a row for each roster student who submitted nothing."""
    if not absent:
        return gradebook_csv
    width = len(next(csv.reader(io.StringIO(gradebook_csv))))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for s in absent:
        row = [safe_cell(s["name"]), safe_cell(s["sid"]), safe_cell(s["email"]), "", "", "",
               NO_SUBMISSION]
        writer.writerow(row + [""] * (width - len(row)))
    return gradebook_csv + buffer.getvalue()


def _scores(records: dict[str, dict], entries: Iterable[Entry], failures: dict[str, str]
            ) -> Iterable[tuple[dict[str, str], str, str]]:
    """(student, total, maximum) for every student of every entry: a submission that
    could not be graded scores 0; one the grader failed on, nothing (upload nothing)."""
    for entry in entries:
        record = records.get(entry.key)
        if record is None and entry.key not in failures:
            continue
        total = maximum = ""
        if record is not None:
            tests = record["result"]["tests"]
            total = f"{sum(t['score'] for t in tests):g}"
            maximum = f"{sum(t['max_score'] for t in tests):g}"
        for student in entry.students or [{"name": entry.key, "sid": "", "email": ""}]:
            yield student, total, maximum


def canvas_csv(records: dict[str, dict], entries: Iterable[Entry], failures: dict[str, str],
               absent: list[dict[str, str]], assignment: str) -> str:
    """Canvas's gradebook import: the columns of Canvas's own export, a Points Possible
    row, and the assignment as "Name (id)" (without an id Canvas creates the assignment).
    Students without a score get an empty cell, which Canvas leaves as it was."""
    rows = list(_scores(records, entries, failures))
    maximum = next((m for _, _, m in rows if m), "")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
                     safe_cell(assignment)])
    writer.writerow(["    Points Possible", "", "", "", "", maximum])
    for student, total, _ in [*rows, *((s, "", "") for s in absent)]:
        writer.writerow([safe_cell(_canvas_name(student)), safe_cell(student.get("canvas_id")),
                         safe_cell(student.get("sid")),
                         safe_cell(student.get("login") or student.get("email")),
                         safe_cell(student.get("section")), total])
    return buffer.getvalue()


def _canvas_name(student: dict[str, str]) -> str:
    first, last = student.get("first", ""), student.get("last", "")
    return f"{last}, {first}" if first and last else student.get("name", "")


def gradescope_csv(records: dict[str, dict], entries: Iterable[Entry],
                   failures: dict[str, str]) -> str:
    """Name, SID, Email and the score: one row per student who has a score."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["Name", "SID", "Email", "Total Score", "Max Points"])
    for student, total, maximum in _scores(records, entries, failures):
        if total:
            writer.writerow([safe_cell(student.get("name")), safe_cell(student.get("sid")),
                             safe_cell(student.get("email")), total, maximum])
    return buffer.getvalue()


# --- choosing one student ---------------------------------------------------------------------


def select(entries: Sequence[Entry], wanted: str) -> list[Entry]:
    """The submissions `wanted` names: a submission's key (file or folder name), or a
    student's name, SID or email. Raises RosterError listing the choices if none does."""
    target = norm(wanted)
    for test in (lambda e: norm(e.key) == target or norm(Path(e.key).stem) == target,
                 lambda e: any(target in _identities(s) for s in e.students),
                 lambda e: any(target in _names({"first": "", "last": "", **s})
                               for s in e.students)):
        found = [e for e in entries if test(e)]
        if found:
            return found
    close = [e.key for e in entries if target and target in norm(e.key)]
    known = ", ".join(close[:10] or [e.key for e in entries[:10]])
    raise RosterError(f"no submission is named {wanted!r} (by file or folder, or a student's "
                      f"name, SID or email); some there are: {known}")


def write_exports(folder: Path, records: dict[str, dict], entries: Sequence[Entry],
                  failures: dict[str, str], absent: list[dict[str, str]], assignment: str
                  ) -> list[Path]:
    """canvas.csv and gradescope.csv in `folder` (the gradebook's); returns their paths."""
    from autograder.results import write_atomic

    canvas, gradescope = folder / "canvas.csv", folder / "gradescope.csv"
    write_atomic(canvas, canvas_csv(records, entries, failures, absent, assignment))
    write_atomic(gradescope, gradescope_csv(records, entries, failures))
    return [canvas, gradescope]
