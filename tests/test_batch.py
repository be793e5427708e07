"""`make grade-all`: a whole class at once, from a realistic Gradescope export.

The export is built from the package's own corpus (the reference, the skeleton, the
typical mistakes in examples/), laid out as Gradescope's "Export Submissions" zip lays
it out: one top folder, a `submission_metadata.yml` mapping `submission_<id>` folders to
their submitters (the format otter-grader's GradescopeParser reads: `:submitters` with
`:name`, `:sid`, `:email`, plus `:created_at`, `:score` and `:history`), a group
submission, a notebook, a folder with two candidate files, and an empty folder.

Every batch runs as TAs run it: `python -m autograder.batch` in a real subprocess, two
grading processes at once. The classes are small, to keep this file quick.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "solutions" / "regression.py"
SKELETON = ROOT / "assignment" / "regression.py"
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
ENV = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
EXPORT_TOP = "assignment_5518243_export"

# submission folder -> (what it holds, its submitters as (name, sid, email))
GROUP = "submission_271000020"
AMBIGUOUS = "submission_271000030"
EMPTY = "submission_271000031"
NOTEBOOK = "submission_271000040"


def corpus() -> dict[str, Path]:
    """Every single-file submission the package ships, by a short name."""
    return {"reference": REFERENCE, "skeleton": SKELETON, **{p.stem: p for p in EXAMPLES}}


def notebook_of(source: Path) -> str:
    """The submission as a student's notebook: markdown, the code in two cells, an otter
    check cell (left out by the grader) and a magic."""
    code = source.read_text()
    head, _, tail = code.partition("\ndef ")
    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": ["# Update Examples\n"]},
        {"cell_type": "code", "metadata": {}, "execution_count": 1, "outputs": [],
         "source": ["%matplotlib inline\n", *head.splitlines(keepends=True)]},
        {"cell_type": "code", "metadata": {}, "execution_count": 2, "outputs": [],
         "source": ("def " + tail).splitlines(keepends=True)},
        {"cell_type": "code", "metadata": {}, "execution_count": 3, "outputs": [],
         "source": ["import otter\n", "grader = otter.Notebook()\n", 'grader.check("q1")\n']},
    ]
    return json.dumps({"cells": cells, "metadata": {"kernelspec": {"name": "python3"}},
                       "nbformat": 4, "nbformat_minor": 5}, indent=1)


def build_export(folder: Path) -> tuple[Path, dict[str, dict]]:
    """A Gradescope export zip of the corpus. Returns the zip and, per submission folder,
    what it is: `source` (the file graded alone for comparison, or None) and `students`."""
    top = folder / EXPORT_TOP
    top.mkdir(parents=True)
    plan: dict[str, dict] = {}
    for number, (name, path) in enumerate(corpus().items()):
        key = f"submission_{271000001 + number}"
        (top / key).mkdir()
        shutil.copy(path, top / key / "regression.py")
        student = (f"Student {name.replace('_', ' ').title()}", str(100001 + number),
                   f"{name}@example.edu")
        plan[key] = {"source": path, "students": [student], "kind": name}
    # a pair who zipped their project folder: regression.py one level down
    (top / GROUP / "hw3").mkdir(parents=True)
    shutil.copy(EXAMPLES[0] if EXAMPLES else REFERENCE, top / GROUP / "hw3" / "regression.py")
    plan[GROUP] = {"source": EXAMPLES[0] if EXAMPLES else REFERENCE, "kind": "group",
                   "students": [("Pair One", "200001", "one@example.edu"),
                                ("Pair Two", "200002", "two@example.edu")]}
    (top / AMBIGUOUS).mkdir()
    shutil.copy(REFERENCE, top / AMBIGUOUS / "regression_v1.py")
    shutil.copy(SKELETON, top / AMBIGUOUS / "regression_final.py")
    plan[AMBIGUOUS] = {"source": None, "kind": "ambiguous",
                       "students": [("Two Files", "300001", "two.files@example.edu")]}
    (top / EMPTY).mkdir()
    plan[EMPTY] = {"source": None, "kind": "empty",
                   "students": [("Nothing Uploaded", "300002", None)]}
    (top / NOTEBOOK).mkdir()
    (top / NOTEBOOK / "regression.ipynb").write_text(notebook_of(REFERENCE))
    plan[NOTEBOOK] = {"source": top / NOTEBOOK / "regression.ipynb", "kind": "notebook",
                      "students": [("Note Book", "400001", "nb@example.edu")]}
    lines = []
    for key, info in plan.items():
        lines.append(f"{key}:")
        lines.append("  :submitters:")
        for name, sid, email in info["students"]:
            lines.append(f"  - :name: {name}")
            lines.append(f"    :sid: '{sid}'")
            lines.append(f"    :email: {email}" if email else "    :email:")
        lines.append("  :created_at: 2025-10-03 23:41:07.482913000 -07:00")
        lines.append("  :score: 0.0")
        lines.append("  :history:")
        lines.append("  - :id: 270999001")
        lines.append("    :created_at: 2025-10-02 18:02:55.104228000 -07:00")
        lines.append("    :score: 0.0")
    (top / "submission_metadata.yml").write_text("\n".join(lines) + "\n")
    archive = folder / "export.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        for path in sorted(top.rglob("*")):
            z.write(path, path.relative_to(folder))
    return archive, plan


def batch(source: Path, *args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "autograder.batch", str(source), *args],
                          cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=timeout)


def batch_in_background(source: Path, *args: str) -> subprocess.Popen:
    """A batch in a process group of its own, so a test can Ctrl-C it as a terminal would."""
    return subprocess.Popen([sys.executable, "-m", "autograder.batch", str(source), *args],
                            cwd=ROOT, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)


def wait_for_results(out: Path, proc: subprocess.Popen, count: int = 1,
                     timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while len(list((out / "results").glob("*.json"))) < count:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "no result file appeared"
        time.sleep(0.05)


def alone(paths: list[Path]) -> subprocess.Popen:
    """Each submission graded by itself with `Grader().grade()`, in a fresh process (started
    now, read with `graded_alone`)."""
    script = ("import json, sys\nfrom dataclasses import asdict\nfrom pathlib import Path\n"
              "from autograder.grade import Grader\n"
              "with Grader() as g:\n"
              "    print(json.dumps([asdict(g.grade(Path(p))) for p in sys.argv[1:]]))\n")
    return subprocess.Popen([sys.executable, "-c", script, *map(str, paths)], cwd=ROOT,
                            env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def graded_alone(proc: subprocess.Popen) -> list[dict]:
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr
    return json.loads(stdout.splitlines()[-1])


def scores(result: dict) -> tuple[float, dict[str, float]]:
    tests = {t["test_id"]: t["score"] for t in result["tests"]}
    return sum(tests.values()), tests


def read_gradebook(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def class_folder(folder: Path, size: int) -> Path:
    """A plain folder of `size` students, one .py each, cycling through the corpus."""
    folder.mkdir(parents=True)
    sources = list(corpus().values())
    for i in range(size):
        shutil.copy(sources[i % len(sources)], folder / f"student{i:02d}.py")
    return folder


def leftovers(out: Path) -> list[str]:
    """Anything in results/ that is not a complete record file."""
    bad = []
    for path in (out / "results").iterdir():
        if path.suffix != ".json" or path.name.startswith("."):
            bad.append(path.name)
            continue
        record = json.loads(path.read_text())  # a partial file would not parse
        if not record.get("result", {}).get("tests"):
            bad.append(path.name)
    return bad


# --------------------------------------------------------------- one realistic export


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    folder = tmp_path_factory.mktemp("export")
    archive, plan = build_export(folder)
    out = folder / "graded"
    # the same files graded one by one, alongside (the machine has cores to spare)
    by_itself = alone([info["source"] for info in plan.values() if info["source"]])
    done = batch(archive, "--out", str(out), "--jobs", "2")
    return {"archive": archive, "plan": plan, "out": out, "run": done, "alone": by_itself}


def test_the_export_is_graded_with_a_gradebook_summary_and_feedback(export):
    done, plan, out = export["run"], export["plan"], export["out"]
    assert done.returncode == 0, done.stderr
    assert f"{len(plan)} to grade" in done.stderr
    rows = read_gradebook(out / "gradebook.csv")
    # one row per student: the group submission gives both members a row
    assert len(rows) == sum(len(info["students"]) for info in plan.values())
    assert [r["Name"] for r in rows if r["Submission"] == GROUP] == ["Pair One", "Pair Two"]
    assert {r["SID"] for r in rows if r["Submission"] == GROUP} == {"200001", "200002"}
    header = list(rows[0])
    assert header[:8] == ["Name", "SID", "Email", "Submission", "Total Score", "Max Points",
                          "Status", "Feedback"]
    tests = header[8:]
    assert tests, "one column per hidden test"
    by_kind = {info["kind"]: next(r for r in rows if r["Submission"] == key)
               for key, info in plan.items()}
    reference, skeleton = by_kind["reference"], by_kind["skeleton"]
    assert reference["Email"] == "reference@example.edu"
    assert reference["Status"] == "graded"
    assert float(reference["Total Score"]) == float(reference["Max Points"]) > 0
    assert all(float(reference[t]) > 0 for t in tests)
    assert float(skeleton["Total Score"]) == 0 and skeleton["Status"] == "graded"
    assert float(by_kind["notebook"]["Total Score"]) == float(reference["Max Points"])
    for kind, why in (("ambiguous", "Ambiguous submission"), ("empty", "No regression.py")):
        row = by_kind[kind]
        assert row["Status"].startswith("not graded: ") and why in row["Status"], row
        assert float(row["Total Score"]) == 0
    assert by_kind["empty"]["Email"] == ""

    summary = done.stdout
    assert (out / "summary.txt").read_text().strip() in summary
    graded = len(plan) - 2
    assert f"Graded: {graded} of {len(plan)} submissions" in summary
    assert "Score: mean " in summary and ", median " in summary
    assert "Pass rate per test" in summary
    rates = [line for line in summary.splitlines() if re.match(r"^ +\d+\.\d%  ", line)]
    assert len(rates) == len(tests)
    assert "Could not be graded: 2" in summary
    assert f"  {AMBIGUOUS}: not graded: Ambiguous submission" in summary
    assert f"  {EMPTY}: not graded: No regression.py" in summary


def test_every_submission_has_its_feedback_file(export):
    out, plan = export["out"], export["plan"]
    rows = read_gradebook(out / "gradebook.csv")
    for key, info in plan.items():
        feedback = out / "feedback" / f"{key}.txt"
        assert feedback.is_file(), key
        text = feedback.read_text()
        for name, _, _ in info["students"]:
            assert name in text
        assert {r["Feedback"] for r in rows if r["Submission"] == key} == {
            str(feedback.relative_to(out))}  # relative to the gradebook, which is in out
        record = json.loads((out / "results" / f"{key}.json").read_text())
        failed = [t for t in record["result"]["tests"] if t["score"] < t["max_score"]]
        for test in failed:  # what the student is told about each failed test is there
            assert test["feedback"].splitlines()[0] in text, (key, test["name"])
        if info["kind"] == "reference":
            assert not failed
        if info["kind"] == "ambiguous":
            assert "Ambiguous submission" in text


def test_each_score_in_the_batch_is_the_score_graded_alone(export):
    graded = {key: info for key, info in export["plan"].items() if info["source"]}
    results = graded_alone(export["alone"])
    for (key, info), result in zip(graded.items(), results, strict=True):
        record = json.loads((export["out"] / "results" / f"{key}.json").read_text())
        assert scores(record["result"]) == scores(result), (key, info["kind"])


def test_a_score_in_the_batch_is_the_score_the_gradescope_zip_gives(export, tmp_path):
    """One submission (the group's: partial credit, regression.py one folder down) run
    through the Gradescope zip as `make gradescope-test` runs it; one only, it is slow."""
    gradescope_test = pytest.importorskip("release.gradescope_test")
    from release import gradescope

    archive = gradescope.build(tmp_path / "autograder.zip")
    upload = export["out"] / "unpacked" / EXPORT_TOP / GROUP
    data = gradescope_test.run(upload, archive=archive)
    record = json.loads((export["out"] / "results" / f"{GROUP}.json").read_text())
    assert data["score"] == scores(record["result"])[0]
    assert [(t["name"], t["score"]) for t in data["tests"]] == [
        (t["name"], t["score"]) for t in record["result"]["tests"]]


def test_a_rerun_grades_only_what_has_no_saved_result(export, tmp_path):
    out = tmp_path / "graded"
    shutil.copytree(export["out"], out)
    kept = read_gradebook(out / "gradebook.csv")
    victim = next(key for key, info in export["plan"].items() if info["kind"] == "skeleton")
    (out / "results" / f"{victim}.json").unlink()
    done = batch(export["archive"], "--out", str(out), "--jobs", "2")
    assert done.returncode == 0, done.stderr
    total = len(export["plan"])
    assert f"{total - 1} already graded (kept); 1 to grade" in done.stderr
    assert "[1/1] " + victim in done.stderr
    graded_now = [line for line in done.stderr.splitlines() if line.startswith("[")]
    assert len(graded_now) == 1
    assert (out / "results" / f"{victim}.json").is_file()
    assert read_gradebook(out / "gradebook.csv") == [
        {**row, "Feedback": row["Feedback"].replace(str(export["out"]), str(out))}
        for row in kept]


# --------------------------------------------------------------- resume and robustness


def test_regrade_grades_everything_again(tmp_path):
    folder = class_folder(tmp_path / "hw", 1)
    out = tmp_path / "graded"
    assert batch(folder, "--out", str(out), "--jobs", "1").returncode == 0
    forced = batch(folder, "--out", str(out), "--jobs", "1", "--regrade")
    assert forced.returncode == 0, forced.stderr
    assert "already graded" not in forced.stderr and "1 to grade" in forced.stderr
    assert "[1/1] student00.py: " in forced.stderr
    assert "Graded: 1 of 1 submissions" in forced.stdout


def group_of(pid: int) -> list[int]:
    """The processes still in process group `pid`."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[2]) == pid and fields[0] != "Z":
                found.append(int(entry.name))
    return found


def test_ctrl_c_keeps_only_complete_results_and_the_rerun_survives_a_dead_worker(tmp_path):
    size = 14
    folder = class_folder(tmp_path / "hw", size)
    out = tmp_path / "graded"
    proc = batch_in_background(folder, "--out", str(out), "--jobs", "2")
    wait_for_results(out, proc, count=2)  # one to keep, one to change before the rerun
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, stderr
    assert "Stopped. Finished results are saved" in stderr
    assert "Traceback" not in stderr
    deadline = time.monotonic() + 10
    while group_of(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert group_of(proc.pid) == [], "grading processes outlived the batch"
    assert leftovers(out) == []
    finished = len(list((out / "results").glob("*.json")))
    assert 2 <= finished < size
    assert not (out / "gradebook.csv").exists()

    # one finished submission changed since: its saved result is stale, so it is regraded
    changed = sorted((out / "results").glob("*.json"))[0].stem
    shutil.copy(SKELETON, folder / changed)  # a comment too: it may have been a skeleton
    with open(folder / changed, "a") as f:
        f.write("\n# changed since the first run\n")
    rerun = batch_in_background(folder, "--out", str(out), "--jobs", "2")
    seen = [rerun.stderr.readline() for _ in range(2)]  # "N already graded", "[1/M] ..."
    assert seen[1].startswith("[1/"), seen
    # and while it runs, a grading process dies (as the out-of-memory killer would kill it)
    workers = [pid for pid in group_of(rerun.pid)
               if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()]
    assert workers, "no grading process found"
    os.kill(workers[0], signal.SIGKILL)
    stdout, rest = rerun.communicate(timeout=180)
    stderr = "".join(seen) + rest
    assert rerun.returncode == 0, stderr
    kept = finished - 1
    assert f"{kept} already graded (kept); {size - kept} to grade" in stderr
    assert "a grading process died" in stderr
    assert f"] {changed}: 0/" in stderr
    assert f"Graded: {size} of {size} submissions" in stdout
    assert len(read_gradebook(out / "gradebook.csv")) == size
    assert leftovers(out) == []


# --------------------------------------------------------------- bad input


def test_bad_input_is_refused_with_a_clear_message(tmp_path):
    (tmp_path / "empty").mkdir()
    escaping = tmp_path / "escaping.zip"
    with zipfile.ZipFile(escaping, "w") as z:
        z.writestr("submission_metadata.yml", "submission_1:\n  :submitters: []\n")
        z.writestr("submission_1/../../evil.py", "print('out of the folder')\n")
    bad_key = tmp_path / "bad_key.zip"
    with zipfile.ZipFile(bad_key, "w") as z:
        z.writestr("submission_metadata.yml", "../../etc:\n  :submitters: []\n")
    (tmp_path / "notes.txt").write_text("not a zip")
    cases = {
        tmp_path / "missing": "does not exist",
        tmp_path / "empty": "holds no submissions",
        escaping: "outside its folder",
        bad_key: "not a plain folder name",
        tmp_path / "notes.txt": "neither a folder nor a zip",
    }
    for source, message in cases.items():
        done = batch(source, "--out", str(tmp_path / "out"), timeout=60)
        assert done.returncode == 2, (source, done.stderr)
        assert done.stderr.startswith("grade-all: ") and message in done.stderr, done.stderr
        assert "Traceback" not in done.stderr
    assert not (tmp_path / "evil.py").exists()
    assert not list((tmp_path / "out").glob("results/*"))




def test_a_resumed_batch_regrades_when_the_reference_or_the_hidden_tests_change(tmp_path):
    """A saved result is kept only while the submission and what graded it are the same:
    a changed reference (its answers) makes it stale, as a changed hidden test does; the
    plan and answers the Grader writes beside the tests do not."""
    from autograder.batch import Entry, fingerprint
    from autograder.judge import ANSWERS_FILE, PLAN_FILE, plan_key

    tests, solutions = tmp_path / "tests", tmp_path / "solutions"
    shutil.copytree(ROOT / "autograder" / "tests", tests,
                    ignore=shutil.ignore_patterns("__pycache__", PLAN_FILE, ANSWERS_FILE))
    shutil.copytree(ROOT / "solutions", solutions)
    entry = Entry("student", REFERENCE)

    def mark() -> str:
        return fingerprint(entry, plan_key((tests, solutions)))

    seen = {mark()}
    (tests / PLAN_FILE).write_text("{}")
    (tests / ANSWERS_FILE).write_text("{}")
    assert mark() in seen  # learnt files: nothing that grades changed
    for changed in (solutions / "regression.py", tests / "test_2_loss.py"):
        changed.write_text(changed.read_text() + "\n# changed\n")
        assert mark() not in seen, changed.name
        seen.add(mark())
