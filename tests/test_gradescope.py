"""The Gradescope zip: what it holds, and that it grades as Gradescope would run it.

The runs go through release.gradescope_test (what `make gradescope-test` runs): the zip
unzipped into a throwaway /autograder tree, its own run_autograder run there with this
venv's Python standing in for what setup.sh installs. Every results.json is checked
against Gradescope's format (schema.py).
"""

from __future__ import annotations

import re
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from schema import validate_results

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
                   "solutions/regression.py"):
        assert needed in names
    assert any(re.fullmatch(r"autograder/tests/test_.*\.py", n) for n in names), "hidden tests"
    unwanted = [n for n in names
                if n.split("/")[0] in ("tests", ".venv", "build", "assignment", "examples")
                or "__pycache__" in n or n.endswith((".pyc", ".zip"))
                or any(part.startswith(".") for part in n.split("/"))]
    assert not unwanted
    assert names.count("setup.sh") == 1 and "autograder/gradescope/setup.sh" not in names


def test_the_zip_is_the_same_bytes_for_the_same_sources(archive, tmp_path):
    again = gradescope.build(tmp_path / "again.zip")
    assert again.read_bytes() == archive.read_bytes()


def test_setup_installs_the_pinned_cpu_torch_and_run_autograder_uses_its_venv(archive):
    with zipfile.ZipFile(archive) as z:
        setup = z.read("setup.sh").decode()
        run = z.read("run_autograder").decode()
        requirements = z.read("requirements.txt").decode()
    pin = re.search(r"^torch==([\w.]+)\s*$", requirements, re.M)
    assert pin, "requirements.txt pins torch"
    assert f"TORCH=torch=={pin.group(1)}" in setup
    assert "https://download.pytorch.org/whl/cpu" in setup
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
