"""Untrusted input: no upload, text or export can crash, hang or fool the grader (issue 10).

Every case runs through the real grader as a TA or Gradescope runs it, in a subprocess:
`python -m autograder.grade PATH --results R` for one upload, `python -m autograder.batch`
for a class. Each checks the score, the message, a valid results.json under its cap, and
the time bound (the subprocess's timeout: a hang fails the test instead of holding it).
Batches check that every other student's row and score is intact, and that the batch
resumes. The property tests at the end throw random bytes, Unicode and nesting at the
notebook reader and the report writers.

The single gradings run three at a time (each starts its own sandbox), so the module
takes about as long as its slowest few cases.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import zipfile
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path, PurePosixPath

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schema import validate_results

from autograder import batch
from autograder.platforms.gradescope import RESULTS_JSON_BYTES, gradescope_json
from autograder.results import (
    GradingResult,
    bounded,
    report,
)
from autograder.results import (
    TestResult as OneTest,
)
from autograder.submission import NoSubmission, notebook_module, upload_digest
from autograder.text import clean
from release import gradescope, gradescope_test

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "solutions" / "regression.py"
SKELETON = ROOT / "assignment" / "regression.py"
HIDDEN_TEST = ROOT / "autograder" / "tests" / "test_1_forward.py"
SECRET = "UNTRUSTED_INPUT_TEST_SECRET_0451"  # in the grader's environment only
ENV = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", SECRET: SECRET}
TIMEOUT = 240  # seconds for one grading, with two others running beside it
UNSAFE = ("\x1b", "\x07", "\r", "\x9b", "\x9d", "\ud800")  # what no output may hold
LINK = "regression.py is a symbolic link: upload the file itself"


def notebook(*sources: str) -> str:
    """A notebook with a markdown cell first and one code cell per source."""
    cells = [{"cell_type": "markdown", "metadata": {}, "source": ["# Homework\n"]}]
    cells += [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
               "source": source} for source in sources]
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def reference_with(old: str, new: str) -> str:
    source = REFERENCE.read_text()
    assert old in source
    return source.replace(old, new, 1)


# --- the single uploads, each made by a function of a fresh folder -------------------------


def link_absolute(folder: Path) -> Path:
    (folder / "regression.py").symlink_to(REFERENCE)
    return folder


def link_relative(folder: Path) -> Path:
    # as in the zip's own run_autograder: ../source/solutions/regression.py, relative
    (folder / "regression.py").symlink_to(os.path.relpath(REFERENCE, folder))
    return folder


def link_to_hidden_test(folder: Path) -> Path:
    (folder / "regression.py").symlink_to(HIDDEN_TEST)
    return folder


def link_to_blocking_file(folder: Path) -> Path:
    (folder / "regression.py").symlink_to("/proc/kmsg")
    return folder


def link_to_environ(folder: Path) -> Path:
    (folder / "regression.py").symlink_to("/proc/self/environ")
    return folder


def fifo(folder: Path) -> Path:
    os.mkfifo(folder / "regression.py")
    return folder


def link_to_folder(folder: Path) -> Path:
    (folder / "elsewhere").mkdir()
    shutil.copy(REFERENCE, folder / "elsewhere" / "regression.py")
    (folder / "upload").mkdir()
    (folder / "upload" / "work").symlink_to(folder / "elsewhere")
    return folder / "upload"


def huge_script(folder: Path) -> Path:
    with open(folder / "regression.py", "wb") as f:  # 70 MB, sparse: costs no disk
        f.truncate(70_000_000)
    return folder


def huge_notebook(folder: Path) -> Path:
    with open(folder / "regression.ipynb", "wb") as f:
        f.truncate(25_000_000)
    return folder


def forged_report(folder: Path) -> Path:
    # a worker's report of its own on the result pipe, with a million values, then exit
    forge = ("import json as _j, os as _o\n"
             "def _forge(*args, **kwargs):\n"
             "    _o.write(3, (_j.dumps({'status': 'ok', 'value': [123456.5] * 300_000})"
             " + '\\n').encode())\n"
             "    _o._exit(0)\n")
    source = forge + reference_with("def forward(", "def _forward(")
    (folder / "regression.py").write_text(source + "\nforward = _forge\nmse = _forge\n")
    return folder


def surrogate_message(folder: Path) -> Path:
    (folder / "regression.py").write_text(reference_with(
        "def update(", "def update(*args, **kwargs):\n    raise ValueError('bad \\ud800 value')"
        "\n\n\ndef _update("))
    return folder


def plain_message(folder: Path) -> Path:
    (folder / "regression.py").write_text(reference_with(
        "def update(", "def update(*args, **kwargs):\n    raise ValueError('bad value')"
        "\n\n\ndef _update("))
    return folder


ESCAPES = ("\\x1b[2J\\x1b[1A\\x1b[K\\x1b]0;owned\\x07\\x1b]52;c;ZXZpbA==\\x07\\r"
           "  PASS  every test  10/10\\x9b31m")


def escapes(folder: Path) -> Path:
    (folder / "regression.py").write_text(
        f"print('{ESCAPES}')\n" + reference_with(
            "def update(", f"def update(*args, **kwargs):\n    raise ValueError('{ESCAPES}')"
            "\n\n\ndef _update("))
    return folder


def deep_notebook(folder: Path) -> Path:
    (folder / "regression.ipynb").write_text("[" * 50_000 + "]" * 50_000)
    return folder


def deep_metadata(folder: Path) -> Path:
    # 150 levels: what json parses, but no notebook holds
    text = notebook(REFERENCE.read_text()).replace('"metadata": {}', '"metadata": {"a": ' +
                                                    "[" * 150 + "]" * 150 + "}", 1)
    json.loads(text)
    (folder / "regression.ipynb").write_text(text)
    return folder


def not_utf8_notebook(folder: Path) -> Path:
    (folder / "regression.ipynb").write_bytes(b'{"cells": ["\xff\xfe\xfa"]}')
    return folder


def surrogate_in_cell(folder: Path) -> Path:
    text = notebook(REFERENCE.read_text(), "label = 'w \\ud800'\nprint(label)")
    assert "\\\\ud800" in text  # the JSON escape of a lone surrogate, as Jupyter may save it
    (folder / "regression.ipynb").write_text(text.replace("\\\\ud800", "\\ud800"))
    return folder


def fragile_cells(folder: Path) -> Path:
    (folder / "regression.ipynb").write_text(notebook(
        REFERENCE.read_text(),
        "forward?\nprint(prediction_from_a_typo)",  # help syntax, then a NameError
        "losses = !ls\n",  # IPython-only syntax
        "for epoch in range(10**12):\n    pass\n",  # a training loop that runs too long
        "%matplotlib inline\nprint('still here')\n"))
    return folder


def error_in_a_cell(folder: Path) -> Path:
    (folder / "regression.ipynb").write_text(notebook(
        "import torch\n",
        reference_with("def forward(", "def forward(*args, **kwargs):\n"
                       "    raise ValueError('no forward today')\n\n\ndef _forward(")))
    return folder


def loops_before_the_code(folder: Path) -> Path:
    """Sixty cells that never end, then the code: once the cells' time is up, a cell's
    definitions still run and its top-level work does not (a tenth of a second for each
    endless cell would have spent the worker's CPU limit before the code)."""
    loop = "while True:\n    pass\n"
    (folder / "regression.ipynb").write_text(notebook(*[loop] * 60, REFERENCE.read_text()))
    return folder


def many_cells(folder: Path) -> Path:
    """The code, then 60,000 small cells: staging and running them is linear in the
    notebook's size (numbering each cell by padding it with blank lines was quadratic)."""
    (folder / "regression.ipynb").write_text(notebook(
        REFERENCE.read_text(), *[f"y{i} = {i}\n" for i in range(60_000)]))
    return folder


CASES = {f.__name__: f for f in (
    link_absolute, link_relative, link_to_hidden_test, link_to_blocking_file, link_to_environ,
    fifo, link_to_folder, huge_script, huge_notebook, forged_report, surrogate_message,
    plain_message, escapes, deep_notebook, deep_metadata, not_utf8_notebook, surrogate_in_cell,
    fragile_cells, error_in_a_cell, loops_before_the_code, many_cells)}


class Graded:
    """One upload graded by `python -m autograder.grade PATH --results R`."""

    def __init__(self, folder: Path, make) -> None:  # noqa: ANN001
        upload = make(folder / "upload")
        self.results_path = folder / "results.json"
        self.done = subprocess.run(
            [sys.executable, "-m", "autograder.grade", str(upload), "--results",
             str(self.results_path)], cwd=ROOT, env=ENV, capture_output=True, timeout=TIMEOUT)
        self.stdout = self.done.stdout.decode("utf-8")  # strict: a bad byte fails the test
        self.stderr = self.done.stderr.decode("utf-8", "replace")

    def results(self) -> dict:
        """results.json, valid for Gradescope and under its cap, after a clean exit."""
        assert self.done.returncode == 0, self.stderr
        assert "Traceback" not in self.stdout + self.stderr, self.stderr
        assert self.results_path.stat().st_size <= RESULTS_JSON_BYTES
        results = validate_results(self.results_path)
        text = self.results_path.read_text()
        json.loads(text)  # plain JSON
        for unsafe in UNSAFE:
            assert unsafe not in self.stdout
            assert unsafe not in json.dumps(results, ensure_ascii=False)
        return results


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> dict[str, Future]:
    """Every case graded, three at a time, started once for the module."""
    pool = ThreadPoolExecutor(3)
    futures = {}
    for name, make in CASES.items():
        folder = tmp_path_factory.mktemp(name)
        (folder / "upload").mkdir()
        futures[name] = pool.submit(Graded, folder, make)
    yield futures
    pool.shutdown(wait=True, cancel_futures=True)


def outcome(graded: dict[str, Future], name: str) -> tuple[Graded, dict]:
    run = graded[name].result()
    return run, run.results()


# --- links, special files, sizes -----------------------------------------------------------


@pytest.mark.parametrize("name", ["link_absolute", "link_relative", "link_to_hidden_test",
                                  "link_to_blocking_file", "link_to_environ"])
def test_a_link_in_the_upload_gets_zero_and_one_sentence(graded, name):
    run, results = outcome(graded, name)
    assert results["score"] == 0
    assert LINK in results["output"].replace("\\", "")  # (Markdown escapes)
    assert all(test["score"] == 0 for test in results["tests"])
    assert LINK in run.stdout


def test_a_linked_hidden_test_shows_none_of_its_lines(graded):
    run, results = outcome(graded, "link_to_hidden_test")
    shown = run.stdout + json.dumps(results)
    for line in HIDDEN_TEST.read_text().splitlines():
        if len(line.strip()) > 25:
            assert line.strip() not in shown


def test_a_link_to_environ_shows_none_of_the_environment(graded):
    run, results = outcome(graded, "link_to_environ")
    assert SECRET not in run.stdout + run.stderr + json.dumps(results)


def test_a_fifo_is_refused_without_waiting_on_it(graded):
    run, results = outcome(graded, "fifo")
    assert results["score"] == 0
    assert "regression.py is not a regular file (a named pipe)" in run.stdout


def test_a_linked_folder_is_not_followed(graded):
    run, results = outcome(graded, "link_to_folder")
    assert results["score"] == 0
    assert "No regression.py (or notebook) was found" in run.stdout


@pytest.mark.parametrize(("name", "message"), [
    ("huge_script", "regression.py is larger than 1 MB"),
    ("huge_notebook", "regression.ipynb is larger than 20 MB"),
])
def test_an_oversized_upload_gets_zero_and_one_sentence(graded, name, message):
    run, results = outcome(graded, name)
    assert results["score"] == 0
    assert message in run.stdout


def test_a_forged_report_of_a_million_values_stays_under_the_caps(graded):
    run, results = outcome(graded, "forged_report")
    assert results["score"] < 10
    for test in results["tests"]:
        assert len(test["output"]) <= 3 * 2_000  # a message's cap, with Markdown escapes


# --- text that is not clean ----------------------------------------------------------------


def test_a_lone_surrogate_in_an_exception_costs_what_a_plain_message_costs(graded):
    _, surrogate = outcome(graded, "surrogate_message")
    _, plain = outcome(graded, "plain_message")
    assert 0 < surrogate["score"] == plain["score"] < 10
    assert ([t["score"] for t in surrogate["tests"]] == [t["score"] for t in plain["tests"]])


def test_terminal_escapes_never_reach_the_terminal_and_fake_no_pass_line(graded):
    run, results = outcome(graded, "escapes")  # (results() checks no escape is left)
    passed = sum(t["status"] == "passed" for t in results["tests"])
    assert 0 < passed < len(results["tests"])
    marks = [line for line in run.stdout.splitlines() if line.startswith("  PASS  ")]
    assert len(marks) == passed, run.stdout


# --- notebooks: bounded parsing, and cells that fail ---------------------------------------


@pytest.mark.parametrize(("name", "message"), [
    ("deep_notebook", "regression.ipynb is not a valid Jupyter notebook (it is nested more "
                      "than 100 levels deep)"),
    ("deep_metadata", "regression.ipynb is not a valid Jupyter notebook (it is nested more "
                      "than 100 levels deep)"),
    ("not_utf8_notebook", "regression.ipynb is not a valid Jupyter notebook ("),
])
def test_a_broken_notebook_gets_zero_and_one_sentence(graded, name, message):
    run, results = outcome(graded, name)
    assert results["score"] == 0
    assert message in run.stdout
    assert {t["output"] for t in results["tests"]} == {results["tests"][0]["output"]}


def test_a_lone_surrogate_in_a_cell_is_graded(graded):
    _, results = outcome(graded, "surrogate_in_cell")
    assert results["score"] == 10


def test_cells_that_raise_or_run_too_long_are_skipped_and_named(graded):
    run, results = outcome(graded, "fragile_cells")
    assert results["score"] == 10, run.stdout
    notes = run.stdout
    assert ("Cell 3 (`# forward?`) raised NameError (name 'prediction_from_a_typo' is not "
            "defined); it was skipped.") in notes
    assert "Cell 4 (`losses = !ls`) is not Python (invalid syntax, line 1)" in notes
    assert ("Cell 5 (`for epoch in range(10**12):`) ran too long (a cell's top-level code "
            "may run 1 s, all cells 2 s); it was skipped.") in notes
    assert "Cell 6" not in notes  # a magic is left out, the rest of the cell runs


def test_cells_past_the_notebooks_time_still_define_their_functions(graded):
    run, results = outcome(graded, "loops_before_the_code")
    assert results["score"] == 10, run.stdout
    assert ("Cell 4 (`while True:`): the cells' 2 s for top-level code were used up, so "
            "only its imports and definitions ran.") in run.stdout, run.stdout


def test_a_notebook_of_many_cells_is_graded(graded):
    run, results = outcome(graded, "many_cells")
    assert results["score"] == 10, run.stdout


def test_an_error_in_a_notebook_names_the_cell_not_a_line_of_a_generated_file(graded):
    run, results = outcome(graded, "error_in_a_cell")
    assert 0 < results["score"] < 10
    shown = [t["output"] for t in results["tests"] if t["visibility"] == "visible"
             and "no forward today" in t["output"]]
    assert shown, run.stdout
    line = [i for i, text in enumerate(REFERENCE.read_text().splitlines(), 1)
            if text.startswith("def forward(")][0] + 1  # the raise, in cell 3
    for output in shown:
        assert f"at cell 3, line {line}" in output, output
        assert "at line" not in output


# --- through the Gradescope zip's own run_autograder ---------------------------------------


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    return gradescope.build(tmp_path_factory.mktemp("zip") / "autograder.zip")


def through_the_zip(archive: Path, tmp_path: Path, make) -> dict:  # noqa: ANN001
    """The zip in a Gradescope-like tree (release.gradescope_test), the upload made in
    place by `make`: a link in it then points where it would on Gradescope."""
    root = tmp_path / "autograder"
    (tmp_path / "empty").mkdir(parents=True)
    gradescope_test.lay_out(root, archive, tmp_path / "empty")
    make(root / "submission")
    env = {**ENV, "AUTOGRADER_ROOT": str(root), "AUTOGRADER_PYTHON": sys.executable}
    env.pop("PYTHONPATH", None)
    subprocess.run([str(root / "source" / "run_autograder")], cwd=root, env=env, check=True,
                   timeout=TIMEOUT, capture_output=True)
    return validate_results(root / "results" / "results.json")


def link_into_the_source(folder: Path) -> None:
    # what the review uploaded: a relative link from /autograder/submission to the solution
    (folder / "regression.py").symlink_to("../source/solutions/regression.py")
    assert (folder / "regression.py").read_text() == REFERENCE.read_text()


def test_through_the_zip_a_link_gets_zero_and_a_surrogate_what_it_earns(archive, tmp_path,
                                                                        graded):
    linked = through_the_zip(archive, tmp_path / "link", link_into_the_source)
    assert linked["score"] == 0 and LINK in linked["output"]
    surrogate = through_the_zip(archive, tmp_path / "surrogate", surrogate_message)
    _, alone = outcome(graded, "surrogate_message")
    assert surrogate["score"] == alone["score"] > 0  # not the fallback 0


# --- a class: one student's content costs that student alone -------------------------------


def run_batch(source: Path, *args: str, timeout: float = 400) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "autograder.batch", str(source), *args],
                          cwd=ROOT, env=ENV, capture_output=True, timeout=timeout)


def test_a_class_with_hostile_uploads_grades_everyone_and_resumes(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    for i in range(3):  # first in the batch, as in the review: three deep notebooks
        (folder / f"a_deep_{i}.ipynb").write_text("[" * 50_000 + "]" * 50_000)
    hostile = {"b_link": link_absolute, "c_blocking": link_to_blocking_file, "d_fifo": fifo,
               "e_surrogate": surrogate_message, "e_plain": plain_message, "f_escapes": escapes,
               "g_huge": huge_script}
    for name, make in hostile.items():
        (folder / name).mkdir()
        make(folder / name)
    shutil.copy(REFERENCE, folder / "y_honest.py")
    shutil.copy(SKELETON, folder / "z_stubs.py")
    out = tmp_path / "out"
    done = run_batch(folder, "--out", str(out), "--jobs", "2")
    stderr = done.stderr.decode("utf-8")
    assert done.returncode == 0, stderr
    with open(out / "gradebook.csv", newline="", encoding="utf-8") as f:
        rows = {row["Submission"]: row for row in csv.DictReader(f)}
    assert set(rows) == {p.name for p in folder.iterdir()}
    assert rows["y_honest.py"]["Total Score"] == "10"
    assert rows["z_stubs.py"]["Total Score"] == "0"
    assert rows["e_surrogate"]["Total Score"] == rows["e_plain"]["Total Score"] != "0"
    for name in ("a_deep_0.ipynb", "b_link", "c_blocking", "d_fifo", "g_huge"):
        assert rows[name]["Total Score"] == "0" and rows[name]["Status"].startswith(
            "not graded: "), rows[name]
    assert LINK in rows["b_link"]["Status"]
    for feedback in (out / "feedback").iterdir():
        text = feedback.read_text(encoding="utf-8")
        assert not any(unsafe in text for unsafe in UNSAFE), feedback.name
    again = run_batch(folder, "--out", str(out), "--jobs", "2")
    assert again.returncode == 0, again.stderr.decode()
    assert f"{len(rows)} already graded" in again.stderr.decode()


# --- hostile exports: exit 2 and one line --------------------------------------------------


def export_zip(folder: Path, metadata: str, extra: dict[str, bytes] | None = None) -> Path:
    archive = folder / "export.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("export/submission_metadata.yml", metadata)
        z.writestr("export/submission_1/regression.py", REFERENCE.read_bytes())
        for name, data in (extra or {}).items():
            z.writestr(name, data)
    return archive


ONE = ("submission_1:\n  :submitters:\n  - :name: Ann\n    :sid: '1'\n    :email: a@b.c\n")
LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(  # 10**9 x's, from 555 bytes
    f"{c}: &{c} [{', '.join([f'*{p}'] * 10)}]\n"
    for p, c in zip("abcdefgh", "bcdefghi", strict=True))


def bomb(folder: Path) -> Path:
    archive = folder / "export.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("export/submission_metadata.yml", ONE)
        with z.open("export/submission_1/data.bin", "w", force_zip64=True) as member:
            zeros = bytes(1 << 20)
            for _ in range(300):
                member.write(zeros)
    assert archive.stat().st_size < 2_000_000
    return archive


def nul_in_member_name(folder: Path) -> Path:
    archive = export_zip(folder, ONE, {"export/submission_1/XnulX.py": b"x = 1\n"})
    archive.write_bytes(archive.read_bytes().replace(b"XnulX", b"X\0ulX"))
    return archive


@pytest.mark.parametrize(("make", "message"), [
    (lambda folder: export_zip(folder, LAUGHS + ONE), "alias"),
    (bomb, "would unpack to"),
    (lambda folder: export_zip(folder, ONE + '"submission_\\0x":\n  :submitters: []\n'),
     "not a plain folder name"),
    (lambda folder: export_zip(folder, ONE.replace("submission_1", "s" * 300)),
     "not a plain folder name"),
    (nul_in_member_name, "not a file name"),
    (lambda folder: export_zip(folder, "a: " + "[" * 5000 + "]" * 5000 + "\n"),
     "export/submission_metadata.yml"),
], ids=["yaml-aliases", "zip-bomb", "nul-in-key", "300-character-key", "nul-in-member",
        "deep-yaml"])
def test_a_hostile_export_stops_with_exit_2_and_one_line(tmp_path, make, message):
    archive = make(tmp_path)
    out = tmp_path / "out"
    done = run_batch(archive, "--out", str(out), timeout=120)
    stderr = done.stderr.decode("utf-8")
    assert done.returncode == 2, stderr
    assert len(stderr.strip().splitlines()) == 1, stderr
    assert stderr.startswith("grade-all: ") and message in stderr, stderr
    assert not (out / "gradebook.csv").exists()
    unpacked = sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) if out.exists() else 0
    assert unpacked < 10_000_000


def members(count: int, size: int, packed: int, name: str = "s/{i}.py") -> list:
    infos = []
    for i in range(count):
        info = zipfile.ZipInfo(name.format(i=i))
        info.file_size, info.compress_size = size, packed
        infos.append(info)
    return infos


@pytest.mark.parametrize(("infos", "message"), [
    (members(batch.MAX_MEMBERS + 1, 10, 10), "members, more than"),
    (members(25, 190_000_000, 100_000_000), "would unpack to 4,750,000,000 bytes"),
    (members(1, 300, 300, "s/" + "x" * 256 + ".py"), "not a file name"),
    (members(1, 300, 300, "../x.py"), "outside its folder"),
], ids=["member-count", "total-size", "long-name", "outside"])
def test_the_export_limits_are_checked_before_anything_is_written(tmp_path, infos, message):
    """The limits a test archive would take gigabytes to reach, on the archive's own
    declared sizes (what _extract then holds each member to)."""
    names = [PurePosixPath(info.filename) for info in infos]
    with pytest.raises(batch.BatchError, match=message):
        batch._check_members(tmp_path / "export.zip", infos, names, tmp_path / "unpacked")
    assert not (tmp_path / "unpacked").exists()


# --- properties: random input, a clean result or a clean refusal ---------------------------


def nested(depth: int, kind: str) -> str:
    return (("[" * depth + "]" * depth) if kind == "list"
            else '{"a":' * depth + "1" + "}" * depth)


# any character, lone surrogates and controls often, and whole escape sequences
CHARACTERS = st.characters() | st.characters(categories=["Cs", "Cc", "Cf", "Zl"])
PIECES = st.text(CHARACTERS, max_size=40) | st.sampled_from(
    ["\x1b[2J", "\x1b[1A", "\x1b]0;title\x07", "\x1b]52;c;ZXZpbA==\x1b\\", "\r", "\x9b31m",
     "\x1bP1$r\x1b\\", "\u202e", "\n  PASS  "])
TEXT = st.lists(PIECES, max_size=80).map("".join)
def containers(inner: st.SearchStrategy) -> st.SearchStrategy:
    return st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT, containers,
    max_leaves=30)
CELL = st.fixed_dictionaries({"cell_type": st.sampled_from(["code", "markdown", "raw"])},
                             optional={"source": st.one_of(
                                 TEXT,
                                 st.lists(TEXT, max_size=5),
                                 JSON_VALUES)})
NOTEBOOKS = st.one_of(
    st.binary(max_size=2_000),
    TEXT.map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.builds(nested, st.integers(0, 60_000), st.sampled_from(["list", "dict"]))
    .map(str.encode),
    JSON_VALUES.map(lambda v: json.dumps(v).encode()),
    st.lists(CELL, max_size=6).map(lambda cells: json.dumps({"cells": cells}).encode()),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(NOTEBOOKS)
def test_the_notebook_reader_gives_a_module_or_a_clear_refusal(data):
    try:
        staged = notebook_module(data, "regression.ipynb")
    except NoSubmission as refusal:
        assert str(refusal).startswith("regression.ipynb ") and "\n" not in str(refusal)
        assert clean(str(refusal)) == str(refusal)
        return
    compile(staged.source, "regression.py", "exec")  # the module always compiles
    assert all(clean(line, None) == line for line in staged.lines)
    for start, number in staged.cells.items():
        assert staged.where(start) == f"cell {number}, line 1"


@settings(max_examples=200, deadline=None)
@given(feedback=st.lists(TEXT, min_size=1, max_size=5), notes=st.lists(TEXT, max_size=5),
       output=TEXT, submission=TEXT)
def test_the_report_writers_always_give_clean_valid_capped_text(feedback, notes, output,
                                                               submission):
    tests = [OneTest(name=f"test {i}", test_id=f"t.py::test_{i}", score=0.0,
                        max_score=1.0, feedback=text, detail=text,
                        shown_now=bool(i % 2))
             for i, text in enumerate(feedback)]
    result = bounded(GradingResult(tests, 0.5, submission, notes, output))
    for staff in (True, False):
        text = report(result, staff=staff)
        text.encode("utf-8")  # strict: no lone surrogate
        assert not any(unsafe in text for unsafe in UNSAFE[:-1])
    written = gradescope_json(result)
    assert len(written) <= RESULTS_JSON_BYTES
    validate_results(json.loads(written))
    for test in result.tests:
        assert len(test.feedback) <= 2_000


@settings(max_examples=500, deadline=None)
@given(text=TEXT | st.binary(max_size=500), limit=st.none() | st.integers(0, 3_000))
def test_clean_gives_safe_text_and_is_idempotent(text, limit):
    cleaned = clean(text, limit)
    cleaned.encode("utf-8")  # strict
    assert not any(unsafe in cleaned for unsafe in UNSAFE)
    assert all(ch in "\n\t" or not (ord(ch) < 32 or 0x7f <= ord(ch) <= 0x9f) for ch in cleaned)
    assert limit is None or len(cleaned) <= max(limit, len(" [...cut]"))
    assert clean(cleaned, limit) == cleaned


def test_the_batch_fingerprint_follows_no_link_and_sees_each_change(tmp_path):
    """What a resumed batch compares (batch.fingerprint): read like an upload, yet every
    change shows, a link's target name and a large file's size included."""
    (tmp_path / "regression.py").write_text("x = 1\n")
    (tmp_path / "link.py").symlink_to(REFERENCE)
    os.mkfifo(tmp_path / "pipe.py")
    with open(tmp_path / "data.bin", "wb") as f:
        f.truncate(30_000_000)  # over the cap: counted by size and time
    seen = {upload_digest(tmp_path)}
    changes = [lambda: (tmp_path / "regression.py").write_text("x = 2\n"),
               lambda: ((tmp_path / "link.py").unlink(),
                        (tmp_path / "link.py").symlink_to(SKELETON)),
               lambda: os.truncate(tmp_path / "data.bin", 30_000_001),
               lambda: (tmp_path / "pipe.py").unlink()]
    for change in changes:
        change()
        digest = upload_digest(tmp_path)
        assert digest not in seen
        seen.add(digest)
    assert upload_digest(tmp_path) in seen  # nothing changed: the same
