"""What a TA uploads and types: the roster, the gradebook and its Canvas and Gradescope
exports, file modes, ONLY=, a zip of plain folders, `make grade` on an export, progress.

Every batch runs as a TA runs it: `python -m autograder.batch` in a real subprocess
grading the package's own example submissions with the real sandbox.
"""

from __future__ import annotations

import csv
import fcntl
import os
import pty
import select as selectors
import shutil
import stat
import struct
import subprocess
import sys
import termios
import time
import zipfile
from pathlib import Path

import pytest

from autograder import gradebook
from autograder.gradebook import RosterError, read_roster

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
REFERENCE = ROOT / "solutions" / "regression.py"
SKELETON = ROOT / "assignment" / "regression.py"
ENV = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
ASSIGNMENT = "Homework 3 (4711)"

ROSTER = """Name,SID,Email
Ada Lovelace,100001,ada@example.edu
Bob Sum,100002,bob@example.edu
Grace Hopper,100003,ghopper@example.edu
Alan Turing,4242,alan@example.edu
"=HYPERLINK(""http://evil.example"")",100005,evil@example.edu
Absent Student,100006,absent@example.edu
"""


def batch(source: Path, *args: str, umask: int | None = None, jobs: int = 2,
          timeout: float = 300) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "autograder.batch", str(source), "--jobs", str(jobs),
               *args]
    return subprocess.run(command, cwd=ROOT, env=ENV, capture_output=True, text=True,
                          timeout=timeout,
                          preexec_fn=(lambda: os.umask(umask)) if umask is not None else None)


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def class_folder(folder: Path) -> Path:
    """Six students, named as TAs find them: a folder after the name, a file after the
    SID, a folder after the email, Canvas's download name, and one no roster knows."""
    (folder / "ada_lovelace").mkdir(parents=True)
    shutil.copy(REFERENCE, folder / "ada_lovelace" / "regression.py")
    shutil.copy(EXAMPLES / "sum_instead_of_mean.py", folder / "100002.py")
    (folder / "ghopper@example.edu").mkdir()
    shutil.copy(EXAMPLES / "forgot_bias.py", folder / "ghopper@example.edu" / "regression.py")
    shutil.copy(EXAMPLES / "grads_not_zeroed.py", folder / "turingalan_4242_98765_regression.py")
    shutil.copy(SKELETON, folder / "stranger.py")
    shutil.copy(REFERENCE, folder / "100005.py")  # the student whose name is a formula
    return folder


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The class graded with a roster, under umask 027 (group may read, others nothing)."""
    top = tmp_path_factory.mktemp("roster")
    folder = class_folder(top / "hw")
    roster = top / "roster.csv"
    roster.write_text(ROSTER)
    out = top / "graded"
    done = batch(folder, "--out", str(out), "--roster", str(roster),
                 "--assignment", ASSIGNMENT, umask=0o027)
    return {"folder": folder, "roster": roster, "out": out, "run": done}


def by_name(book: list[dict[str, str]]) -> dict[str, dict[str, str]]:
    return {r["Name"]: r for r in book}


def test_the_roster_names_every_student_a_folder_holds(graded):
    done, out = graded["run"], graded["out"]
    assert done.returncode == 0, done.stderr
    book = by_name(rows(out / "gradebook.csv"))
    want = {"Ada Lovelace": ("100001", "ada_lovelace", "10"),
            "Bob Sum": ("100002", "100002.py", None),
            "Grace Hopper": ("100003", "ghopper@example.edu", None),
            "Alan Turing": ("4242", "turingalan_4242_98765_regression.py", None)}
    for name, (sid, key, total) in want.items():
        row = book[name]
        assert (row["SID"], row["Submission"], row["Status"]) == (sid, key, "graded"), row
        assert row["Email"].endswith("@example.edu")
        if total is not None:
            assert row["Total Score"] == total
    assert float(book["Grace Hopper"]["Total Score"]) < 10  # the bias is missing
    assert float(book["Bob Sum"]["Total Score"]) < 10  # a sum instead of a mean
    # the one no roster row names keeps its file name, and the TA is told
    assert book["stranger"]["SID"] == "" and book["stranger"]["Total Score"] == "0"
    assert "1 submission(s) match no one" in done.stderr and "stranger.py" in done.stderr
    # roster students who submitted nothing have a row that says so
    assert book["Absent Student"]["Status"] == gradebook.NO_SUBMISSION
    assert book["Absent Student"]["Total Score"] == ""
    assert "1 student(s) without a submission" in done.stderr
    # a display name that is a formula stays text in a spreadsheet, in every file
    for sheet in ("gradebook.csv", "gradescope.csv"):
        [evil] = [r for r in rows(out / sheet) if r["SID"] == "100005"]
        assert evil["Name"] == "'=HYPERLINK(\"http://evil.example\")", sheet


def test_feedback_paths_are_relative_to_the_gradebook(graded, tmp_path):
    out = graded["out"]
    book = rows(out / "gradebook.csv")
    links = [r["Feedback"] for r in book if r["Status"] == "graded"]
    assert len(links) == 6
    for link in links:
        assert not Path(link).is_absolute() and (out / link).is_file(), link
    # the gradebook elsewhere: the paths lead from there
    elsewhere = tmp_path / "sheets" / "hw3.csv"
    done = batch(graded["folder"], "--out", str(out), "--roster", str(graded["roster"]),
                 "--gradebook", str(elsewhere), umask=0o027)
    assert done.returncode == 0, done.stderr
    assert "already graded (kept); 0 to grade" in done.stderr
    for row in rows(elsewhere):
        if row["Feedback"]:
            assert row["Feedback"].startswith("../")
            assert (elsewhere.parent / row["Feedback"]).resolve().is_file()
    assert (elsewhere.parent / "canvas.csv").is_file()


def test_files_are_written_with_the_users_umask(graded):
    out = graded["out"]
    files = [p for p in out.rglob("*") if p.is_file() and "unpacked" not in p.parts]
    names = {p.name for p in files}
    assert {"gradebook.csv", "canvas.csv", "gradescope.csv", "report.html",
            "summary.txt"} <= names
    assert any(p.parent.name == "feedback" for p in files)
    modes = {p.relative_to(out).as_posix(): stat.S_IMODE(p.stat().st_mode) for p in files}
    assert set(modes.values()) == {0o640}, modes  # 0666 less umask 027: not mkstemp's 0600


def test_canvas_export_has_canvas_import_layout(graded):
    out = graded["out"]
    with open(out / "canvas.csv", newline="") as f:
        table = list(csv.reader(f))
    assert table[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", ASSIGNMENT]
    assert table[1][0].strip() == "Points Possible" and table[1][5] == "10"
    book = {r["SID"]: r for r in rows(out / "gradebook.csv") if r["SID"]}
    students = {r[2]: r for r in table[2:] if r[2]}
    assert set(students) == set(book)  # every roster student, absent ones too
    for sid, row in students.items():
        assert row[5] == book[sid]["Total Score"], (sid, row)
        assert row[3] == book[sid]["Email"]  # the login Canvas matches, without an ID
    assert students["100006"][5] == ""  # no submission: Canvas keeps what it has


def test_gradescope_export_has_one_row_per_scored_student(graded):
    out = graded["out"]
    scores = rows(out / "gradescope.csv")
    assert list(scores[0]) == ["Name", "SID", "Email", "Total Score", "Max Points"]
    book = [r for r in rows(out / "gradebook.csv") if r["Total Score"]]
    assert [(r["Name"], r["Email"], r["Total Score"]) for r in scores] == [
        (r["Name"], r["Email"], r["Total Score"]) for r in book]
    assert all(r["Max Points"] == "10" for r in scores)


def test_only_regrades_one_student_and_keeps_everyone_in_the_gradebook(graded, tmp_path):
    out = tmp_path / "graded"
    shutil.copytree(graded["out"], out)
    before = rows(out / "gradebook.csv")
    results = {p.name: p.stat().st_mtime_ns for p in (out / "results").glob("*.json")}
    time.sleep(0.05)
    done = batch(graded["folder"], "--out", str(out), "--roster", str(graded["roster"]),
                 "--only", "Grace Hopper")
    assert done.returncode == 0, done.stderr
    assert "1 to grade" in done.stderr and "[1/1] ghopper@example.edu: " in done.stderr
    assert "Feedback for Grace Hopper" in done.stdout  # her report, for the regrade request
    after = {p.name: p.stat().st_mtime_ns for p in (out / "results").glob("*.json")}
    changed = {name for name in after if after[name] != results[name]}
    assert changed == {"ghopper@example.edu.json"}
    assert rows(out / "gradebook.csv") == before
    missing = batch(graded["folder"], "--out", str(out), "--only", "nobody-like-this")
    assert missing.returncode == 2
    assert missing.stderr.startswith("grade-all: no submission is named 'nobody-like-this'")


def test_a_zip_of_plain_student_folders_is_graded_like_the_folder(graded, tmp_path):
    archive = tmp_path / "hw.zip"
    folder = graded["folder"]
    with zipfile.ZipFile(archive, "w") as z:
        for path in sorted(folder.rglob("*")):
            z.write(path, path.relative_to(folder.parent))  # one top folder, as zipped
        z.writestr("__MACOSX/._stranger.py", "resource fork")
    done = batch(archive, "--out", str(tmp_path / "graded"))
    assert done.returncode == 0, done.stderr
    zipped = {r["Submission"]: r["Total Score"] for r in rows(tmp_path / "graded/gradebook.csv")}
    folder_run = {r["Submission"]: r["Total Score"]
                  for r in rows(graded["out"] / "gradebook.csv") if r["Submission"]}
    assert zipped == folder_run


def test_make_grade_on_an_export_points_to_grade_all(tmp_path):
    export = tmp_path / "export.zip"
    with zipfile.ZipFile(export, "w") as z:
        z.writestr("submission_metadata.yml", "submission_1:\n  :submitters: []\n")
        z.writestr("submission_1/regression.py", REFERENCE.read_text())
    unpacked = tmp_path / "unpacked"
    zipfile.ZipFile(export).extractall(unpacked)
    for source in (export, unpacked):
        done = subprocess.run([sys.executable, "-m", "autograder.grade", str(source)], cwd=ROOT,
                              env=ENV, capture_output=True, text=True, timeout=120)
        assert done.returncode == 2, done
        assert done.stdout == "" and len(done.stderr.splitlines()) == 1, done.stderr
        assert f"make grade-all SUBMISSIONS={source}" in done.stderr


def test_progress_shows_time_left_on_a_terminal_and_in_a_log(tmp_path):
    folder = tmp_path / "hw"
    folder.mkdir()
    for i, example in enumerate(sorted(EXAMPLES.glob("*.py"))[:4]):
        shutil.copy(example, folder / f"s{i}.py")
    logged = batch(folder, "--out", str(tmp_path / "log"), jobs=1)  # a pipe: plain lines
    lines = [line for line in logged.stderr.splitlines() if line.startswith("[")]
    assert len(lines) == 4, logged.stderr
    # the time left from the pace after the first (whose time is the start-up's)
    assert all(" s left" in line or " min left" in line for line in lines[1:-1]), lines
    assert "left" not in lines[0] + lines[-1]
    assert "\r" not in logged.stderr

    primary, secondary = pty.openpty()  # stderr a terminal: a tqdm bar
    # 100 columns, 0 rows: as `script` without a terminal sets it (tqdm then drew nothing)
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 0, 100, 0, 0))
    proc = subprocess.Popen([sys.executable, "-m", "autograder.batch", str(folder), "--jobs",
                             "1", "--out", str(tmp_path / "tty")], cwd=ROOT, env=ENV,
                            stdout=subprocess.DEVNULL, stderr=secondary)
    os.close(secondary)
    seen = b""
    while True:
        ready, _, _ = selectors.select([primary], [], [], 120)
        if not ready:
            break
        try:
            chunk = os.read(primary, 4096)
        except OSError:  # the batch ended: the terminal is gone
            break
        if not chunk:
            break
        seen += chunk
    assert proc.wait(timeout=60) == 0
    text = seen.decode(errors="replace")
    assert "4/4" in text and "left" in text and "\r" in text, text
    assert "%|" in text  # tqdm's bar


# --------------------------------------------------------------- rosters as TAs have them


def test_rosters_from_gradescope_canvas_and_spreadsheets_are_read(tmp_path):
    gradescope = tmp_path / "gradescope.csv"
    gradescope.write_text("First Name,Last Name,SID,Email,Role,Sections\n"
                          "Ada,Lovelace,100001,ada@example.edu,Student,A\n")
    canvas = tmp_path / "canvas.csv"
    canvas.write_text("Student,ID,SIS User ID,SIS Login ID,Section,Homework 3 (4711)\n"
                      "    Points Possible,,,,,10\n"
                      '"Lovelace, Ada",555,100001,ada,Section A,\n')
    excel = tmp_path / "excel.csv"
    excel.write_bytes("\ufeffNom;Student ID;E-mail\nAda Lovelace;100001;ada@example.edu\n"
                      .encode())
    assert [(s["name"], s["sid"], s["email"], s["section"])
            for s in read_roster(gradescope)] == [
        ("Ada Lovelace", "100001", "ada@example.edu", "A")]
    [student] = read_roster(canvas)
    assert (student["name"], student["canvas_id"], student["sid"], student["login"],
            student["section"]) == ("Lovelace, Ada", "555", "100001", "ada", "Section A")
    [student] = read_roster(excel)  # a BOM, semicolons; "Nom" is not a name column
    assert (student["sid"], student["email"]) == ("100001", "ada@example.edu")


def test_a_bad_roster_is_refused_with_what_to_fix(tmp_path):
    cases = {tmp_path / "missing.csv": "does not exist",
             tmp_path / "empty.csv": "is empty",
             tmp_path / "nonames.csv": "has no column naming students",
             tmp_path / "header_only.csv": "lists no students"}
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "nonames.csv").write_text("Score,Grade\n10,A\n")
    (tmp_path / "header_only.csv").write_text("Name,SID,Email\n")
    for path, message in cases.items():
        with pytest.raises(RosterError, match=message):
            read_roster(path)
    folder = tmp_path / "hw"
    folder.mkdir()
    shutil.copy(REFERENCE, folder / "ada.py")
    done = batch(folder, "--roster", str(tmp_path / "nonames.csv"), timeout=60)
    assert done.returncode == 2 and done.stderr.startswith("grade-all: roster ")
    assert "Traceback" not in done.stderr


def test_a_name_two_roster_students_share_is_left_unmatched(tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("Name,SID,Email\nSam Lee,1,sam1@x.edu\nSam Lee,2,sam2@x.edu\n")

    class Entry:
        def __init__(self, key: str) -> None:
            self.key, self.path = key, tmp_path / key
            self.students = [{"name": Path(key).stem, "sid": "", "email": ""}]

    (tmp_path / "sam_lee.py").write_text("")
    (tmp_path / "sam2.py").write_text("")
    entries = [Entry("sam_lee.py"), Entry("sam2.py")]
    matching = gradebook.match_roster(entries, read_roster(roster))
    assert matching.ambiguous == {"sam_lee.py": ["Sam Lee", "Sam Lee"]}
    assert entries[0].students[0]["sid"] == ""
    assert entries[1].students[0]["sid"] == "2"  # by the email's local part
    assert [s["sid"] for s in matching.absent] == ["1"]


def test_a_gradescope_export_with_canvas_roster_gives_canvas_its_ids(tmp_path):
    from test_batch import build_export

    archive, plan = build_export(tmp_path / "export")
    people = [s for info in plan.values() for s in info["students"]]
    canvas = tmp_path / "canvas_export.csv"
    lines = ["Student,ID,SIS User ID,SIS Login ID,Section,Homework 3 (4711)",
             "    Points Possible,,,,,10"]
    for number, (name, sid, _) in enumerate(people):
        first, _, last = name.partition(" ")
        lines.append(f'"{last}, {first}",{9000 + number},{sid},login{sid},Section B,')
    canvas.write_text("\n".join(lines) + "\n")
    out = tmp_path / "graded"
    done = batch(archive, "--out", str(out), "--roster", str(canvas), "--assignment", ASSIGNMENT)
    assert done.returncode == 0, done.stderr
    assert "roster:" not in done.stderr  # everyone matched, by SID
    with open(out / "canvas.csv", newline="") as f:
        table = list(csv.DictReader(f))
    assert table[0]["Student"].strip() == "Points Possible"
    scores = {r["SID"]: r["Total Score"] for r in rows(out / "gradebook.csv")}
    uploaded = {r["SIS User ID"]: r for r in table[1:]}
    assert set(uploaded) == {sid for _, sid, _ in people}
    for number, (_, sid, _) in enumerate(people):
        row = uploaded[sid]
        assert (row["ID"], row["SIS Login ID"], row["Section"]) == (
            str(9000 + number), f"login{sid}", "Section B")
        assert row[ASSIGNMENT] == scores[sid]
