"""The Gradescope zip: what it holds, and that it grades as Gradescope would run it.

The runs go through release.gradescope_test (what `make gradescope-test` runs): the zip
unzipped into a throwaway /autograder tree, its own run_autograder run there with this
venv's Python standing in for what setup.sh installs. Every results.json is checked
against Gradescope's format (schema.py).
"""

from __future__ import annotations

import re
import shutil
import stat
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from schema import validate_results

from autograder.homework import Homework
from autograder.judge import PLAN_FILE, stored_plan
from release import gradescope, gradescope_test

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "solutions" / "regression.py"


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    return gradescope.build(tmp_path_factory.mktemp("zip") / "autograder.zip")


@pytest.fixture(scope="module")
def names(archive) -> list[str]:
    with zipfile.ZipFile(archive) as z:
        return z.namelist()


def test_setup_and_run_autograder_sit_at_the_root_and_are_executable(archive, tmp_path):
    with zipfile.ZipFile(archive) as z:
        for name in ("setup.sh", "run_autograder"):
            info = z.getinfo(name)
            assert stat.S_IMODE(info.external_attr >> 16) == 0o755, name
            script = tmp_path / name
            script.write_bytes(z.read(name))
            assert z.read(name).startswith(b"#!/usr/bin/env bash\n"), name
            checked = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
            assert checked.returncode == 0, f"{name}: {checked.stderr}"


def test_the_zip_holds_what_grading_needs_and_nothing_else(names):
    for needed in ("requirements.txt", "autograder/grade.py", "autograder/sandbox/zygote.py",
                   "autograder/tests/homework.toml", "autograder/tests/scenarios.py",
                   f"autograder/tests/{PLAN_FILE}", "solutions/regression.py"):
        assert needed in names
    assert any(re.fullmatch(r"autograder/tests/test_.*\.py", n) for n in names), "hidden tests"
    unwanted = [n for n in names
                if n.split("/")[0] in ("tests", ".venv", "build", "assignment", "examples")
                or "__pycache__" in n or n.endswith((".pyc", ".zip"))
                or any(part.startswith(".") for part in n.split("/"))]
    assert not unwanted
    assert "autograder/batch.py" not in names, "grade-all is for TAs: grading never imports it"
    for script in ("setup.sh", "run_autograder", "requirements.txt"):
        assert names.count(script) == 1 and f"autograder/gradescope/{script}" not in names


def test_the_zip_ships_the_plan_learnt_from_its_own_hidden_tests(archive, tmp_path):
    """Gradescope's one run per submission finds the plan fresh and never learns it."""
    gradescope_test.unzip(archive, tmp_path)
    homework = Homework.load(tmp_path / "autograder" / "tests")
    shipped = stored_plan(homework.folder, homework.secrets)
    here = Homework.load()
    assert shipped is not None and shipped == stored_plan(here.folder, here.secrets)
    assert shipped.calls


def test_the_zip_is_the_same_bytes_for_the_same_sources(archive, tmp_path):
    again = gradescope.build(tmp_path / "again.zip")
    assert again.read_bytes() == archive.read_bytes()


def test_setup_installs_the_pinned_cpu_torch_and_run_autograder_uses_its_venv(archive):
    with zipfile.ZipFile(archive) as z:
        setup = z.read("setup.sh").decode()
        run = z.read("run_autograder").decode()
        requirements = z.read("requirements.txt").decode()
    pin = re.search(r"^torch==([\w.+]+)\s*# index: (\S+)$", requirements, re.M)
    assert pin, "requirements.txt pins torch, from the CPU index"
    assert pin.group(2) == "https://download.pytorch.org/whl/cpu"
    full = (ROOT / "requirements.txt").read_text()
    assert re.search(rf"^torch=={re.escape(pin.group(1))}\s*$", full, re.M), "one torch"
    # setup.sh's own pattern (run by bash here) sends torch, and only torch, to its index
    pattern = re.search(r"^INDEXED='(.*)'$", setup, re.M).group(1)
    indexed = {}
    for line in requirements.splitlines():
        done = subprocess.run(["bash", "-c", 'if [[ "$1" =~ $2 ]]; then '
                               'echo "${BASH_REMATCH[1]}|${BASH_REMATCH[2]}"; fi',
                               "-", line, pattern], capture_output=True, text=True, check=True)
        if done.stdout.strip():
            requirement, index = done.stdout.strip().split("|")
            indexed[requirement] = index
    assert indexed == {f"torch=={pin.group(1)}": "https://download.pytorch.org/whl/cpu"}
    # the image's own Python (3.10 on Ubuntu 22.04): no PPA, no other Python
    commands = "\n".join(line for line in setup.splitlines() if not line.lstrip().startswith("#"))
    assert "add-apt-repository" not in commands and "ppa:" not in commands
    assert not re.search(r"python3\.\d", commands)
    assert "python3 python3-venv" in commands
    venv = re.search(r"^VENV=(\S+)$", setup, re.M).group(1)
    assert f"{venv}/bin/python" in run
    assert "--results \"$RESULTS\"" in run and "/autograder" in run


def test_the_reference_earns_full_marks_through_make_gradescope_test(tmp_path):
    results = tmp_path / "results.json"
    done = subprocess.run(["make", "--no-print-directory", "gradescope-test",
                           f"SUBMISSION={REFERENCE}", f"RESULTS={results}",
                           f"PY={sys.executable}"],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    data = validate_results(results)
    most = sum(t["max_score"] for t in data["tests"])
    assert most > 0 and data["score"] == most, data


def test_a_broken_submission_scores_zero_with_every_test_reported(archive, tmp_path):
    broken = tmp_path / "upload" / "regression.py"
    broken.parent.mkdir()
    broken.write_text("import torch\n\ndef forward(x, w, b)\n    return w * x + b\n")
    data = validate_results(gradescope_test.run(broken.parent, archive=archive))
    assert data["score"] == 0 and data["tests"]
    assert all(t["status"] == "failed" for t in data["tests"])
    assert all("SyntaxError" in t["output"] for t in data["tests"]), data["tests"][0]


def test_an_upload_without_regression_py_scores_zero(archive, tmp_path):
    upload = tmp_path / "upload"
    upload.mkdir()
    (upload / "notes.txt").write_text("I forgot the code\n")
    data = validate_results(gradescope_test.run(upload, archive=archive))
    assert data["score"] == 0
    assert "regression.py" in data["output"]


def test_a_grader_that_cannot_run_still_leaves_a_valid_results_json(archive, tmp_path):
    results = tmp_path / "results.json"
    data = gradescope_test.run(REFERENCE, results, python=str(tmp_path / "no-such-python"),
                               archive=archive)
    assert validate_results(results) == data
    assert data["score"] == 0 and data["tests"] == []
    assert "could not grade" in data["output"]


@pytest.mark.parametrize("where", ["at the top", "in the assignment's folder"])
def test_regression_py_uploaded_with_the_assignments_own_files_is_graded(archive, tmp_path,
                                                                          where):
    """The student release uploaded whole (its tests/, conftest.py, README, notebook), with
    the student's regression.py in it: that file is graded, with a note."""
    upload = tmp_path / "upload"
    folder = upload if where == "at the top" else upload / "assignment"
    shutil.copytree(ROOT / "assignment", folder,
                    ignore=shutil.ignore_patterns("__pycache__", ".*"))
    shutil.copy(REFERENCE, folder / "regression.py")
    assert len(list(upload.rglob("*.py"))) > 3
    started = time.monotonic()
    data = validate_results(gradescope_test.run(upload, archive=archive))
    wall = time.monotonic() - started
    most = sum(t["max_score"] for t in data["tests"])
    assert most > 0 and data["score"] == most, data
    graded = "regression.py" if where == "at the top" else "assignment/regression.py"
    assert f"Graded {graded}; the other files (" in data["output"], data["output"]
    assert "conftest.py" in data["output"] and "were ignored" in data["output"]
    # execution_time is the whole run: Python's and torch's start-up, the zygote's, the
    # judge's; not only the tests (a bound on a reported duration, not a speed claim)
    assert wall - 1.0 <= data["execution_time"] <= wall


def test_no_zip_is_built_from_a_reference_that_fails_the_hidden_tests(tmp_path):
    """The plan the zip ships is learnt from the reference: one that loses points (here a
    copy of the package whose forward() forgets the bias) could miss calls, so the build
    stops and says why instead."""
    root = tmp_path / "checkout"
    shutil.copytree(ROOT / "autograder", root / "autograder",
                    ignore=shutil.ignore_patterns("__pycache__", PLAN_FILE))
    (root / "solutions").mkdir()
    source = REFERENCE.read_text()
    broken = source.replace("return w * x + b", "return w * x")
    assert broken != source
    (root / "solutions" / "regression.py").write_text(broken)
    with pytest.raises(gradescope.BuildError, match="does not earn full marks"):
        gradescope.build(tmp_path / "autograder.zip", root=root)
    assert not (tmp_path / "autograder.zip").exists()
    assert not (root / "autograder" / "tests" / PLAN_FILE).exists()
