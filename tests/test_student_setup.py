"""The student README's setup, followed word for word in a fresh venv, works.

One venv for the module (the slow part: about a minute), built with exactly the
packages the README's install line names and nothing from this repository's venv
(no --system-site-packages, which would hide a missing package). torch is pinned
to the version of this venv's torch, so pip takes the wheel this machine holds
instead of downloading one. Then, in a copy of assignment/ and as a student whose
shell has the venv activated, the README's three commands run on the skeleton (each
says what is missing, with no traceback) and on the solution (everything passes):
``python regression.py``, ``python -m pytest`` and ``otter check regression.py``.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = ROOT / "assignment"
README = ASSIGNMENT / "README.md"
SOLUTION = ROOT / "solutions" / "regression.py"
CPU_INDEX = "--index-url https://download.pytorch.org/whl/cpu"


def setup_commands() -> list[list[str]]:
    """The commands of the code blocks in the README's Setup section, one list of words each."""
    text = README.read_text()
    section = text[text.index("## Setup"): text.index("\n## ", text.index("## Setup") + 1)]
    blocks = re.findall(r"```\n(.*?)```", section, flags=re.DOTALL)
    return [[line.split("#")[0].split() for line in block.splitlines() if line.strip()]
            for block in blocks]


def install_lines() -> tuple[list[str], list[list[str]]]:
    """The README's install line (the packages), and its CPU-only alternative's lines."""
    main, *alternatives = setup_commands()
    (packages,) = [words[2:] for words in main if words[:2] == ["pip", "install"]]
    assert len(alternatives) == 1, alternatives
    cpu = [words[2:] for words in alternatives[0] if words[:2] == ["pip", "install"]]
    return packages, cpu


def test_cpu_alternative_installs_the_same_packages_with_torch_from_the_cpu_index():
    packages, cpu = install_lines()
    assert "ipykernel" in packages  # otter check runs the tests in a Jupyter kernel
    assert cpu[0] == ["torch", *CPU_INDEX.split()]
    assert sorted(["torch", *cpu[1]]) == sorted(packages)


@pytest.fixture(scope="module")
def student_venv(tmp_path_factory) -> dict[str, str]:
    """A venv with the README's packages; returns the environment of a shell that activated it."""
    packages, _ = install_lines()
    torch = importlib.metadata.version("torch").split("+")[0]  # this machine's wheel
    venv = tmp_path_factory.mktemp("student") / ".venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    pinned = [f"torch=={torch}" if name == "torch" else name for name in packages]
    install = subprocess.run(
        # --no-compile: no .pyc for all of torch up front (a third of the time); same packages
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-compile", *pinned],
        capture_output=True, text=True, timeout=1200,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    home = tmp_path_factory.mktemp("home")  # a new machine: no Jupyter kernels of its own
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("PYTHON", "VIRTUAL_ENV", "JUPYTER", "PYTEST"))}
    return {**env, "HOME": str(home), "VIRTUAL_ENV": str(venv),
            "PATH": f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"}


def run(command: str, folder: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run a README command as typed in the student's shell."""
    return subprocess.run(command.split(), cwd=folder, env=env, capture_output=True, text=True,
                          timeout=600)


def homework(tmp_path: Path, solved: bool) -> Path:
    folder = tmp_path / "assignment"
    shutil.copytree(ASSIGNMENT, folder, ignore=shutil.ignore_patterns("__pycache__", ".*"))
    if solved:
        shutil.copyfile(SOLUTION, folder / "regression.py")
    return folder


def test_readme_commands_on_the_skeleton_say_what_is_missing(student_venv, tmp_path):
    folder = homework(tmp_path, solved=False)
    walk = run("python regression.py", folder, student_venv)
    assert walk.returncode == 1
    assert walk.stderr.strip() == ("Stopped: forward() is not implemented yet. Write it in "
                                   "regression.py, then run this again."), walk.stderr
    tests = run("python -m pytest", folder, student_venv)
    assert tests.returncode == 1, tests.stdout + tests.stderr
    assert "Traceback" not in tests.stdout + tests.stderr
    failed = int(re.search(r"(\d+) failed", tests.stdout)[1])
    said = re.findall(r"^q\d: (?:forward|mse|update)\(\) is not implemented yet$", tests.stdout,
                      flags=re.MULTILINE)
    assert len(said) == failed >= 6, tests.stdout
    otter = run("otter check regression.py", folder, student_venv)
    # otter check always ends with 0; the README says so and points to pytest's status
    assert otter.returncode == 0, otter.stdout + otter.stderr
    assert "NoSuchKernel" not in otter.stderr and "Traceback" not in otter.stderr, otter.stderr
    for question in ("q1", "q2", "q3", "q4", "q5", "q6"):
        assert f"{question} results:" in otter.stdout, otter.stdout
    assert "All tests passed!" not in otter.stdout
    assert "forward() is not implemented yet" in otter.stdout


def test_readme_commands_on_the_solution_pass(student_venv, tmp_path):
    folder = homework(tmp_path, solved=True)
    walk = run("python regression.py", folder, student_venv)
    assert walk.returncode == 0, walk.stderr
    for number in ("forward(20) = 70", "loss = 39.4", "w.grad = 390", "w = 1.961",
                   "loss  = 25.8098"):
        assert number in walk.stdout, walk.stdout
    tests = run("python -m pytest", folder, student_venv)
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert re.search(r"\b\d+ passed\b", tests.stdout) and "failed" not in tests.stdout
    otter = run("otter check regression.py", folder, student_venv)
    assert otter.returncode == 0, otter.stdout + otter.stderr
    assert otter.stdout.strip() == "All tests passed!", otter.stdout
