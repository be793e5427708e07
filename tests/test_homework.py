"""The homework description: every key read with its default, every mistake named."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.homework import Homework, HomeworkError
from autograder.limits import DEFAULT_LIMITS

ROOT = Path(__file__).resolve().parents[1]


def folder_with(tmp_path: Path, toml: str) -> Path:
    (tmp_path / "ref").mkdir()
    (tmp_path / "ref" / "hw.py").write_text("def f(x):\n    return x\n")
    (tmp_path / "scenarios.py").write_text("def call(sub, x):\n    return sub.f(x)\n")
    (tmp_path / "homework.toml").write_text(toml)
    return tmp_path


def test_the_smallest_description_takes_every_default(tmp_path):
    homework = Homework.load(folder_with(tmp_path, 'module = "hw"\nreference = "ref/hw.py"\n'))
    assert homework.name == tmp_path.name and homework.upload_name == "hw.py"
    assert homework.scenarios == (tmp_path / "scenarios.py").resolve()
    assert homework.secrets == (tmp_path.resolve(), (tmp_path / "ref").resolve())
    assert homework.preload == () and homework.examples == () and homework.causes == {}
    assert homework.skeleton is None and homework.requirements is None
    assert homework.limits == DEFAULT_LIMITS


def test_every_key_is_read(tmp_path):
    folder = folder_with(tmp_path, """
name = "HW"
module = "hw"
reference = "ref/hw.py"
secrets = ["more"]
preload = ["json"]
examples = ["ex/*.py"]
skeleton = "start/hw.py"
requirements = "requirements.txt"
[limits]
cpu_seconds = 2
wall_seconds = 7.5
[causes]
"off by one" = ["one too many"]
""")
    (folder / "ex").mkdir()
    (folder / "ex" / "a.py").write_text("")
    homework = Homework.load(folder / "homework.toml")  # the file itself will do too
    assert homework.name == "HW" and homework.preload == ("json",)
    assert homework.secrets[-1] == (folder / "more").resolve()
    assert homework.examples == ((folder / "ex" / "a.py").resolve(),)
    assert homework.skeleton == (folder / "start" / "hw.py").resolve()
    assert homework.limits.cpu_seconds == 2 and homework.limits.wall_seconds == 7.5
    assert homework.limits.memory_mb == DEFAULT_LIMITS.memory_mb
    assert homework.causes == {"off by one": ("one too many",)}


@pytest.mark.parametrize("toml, says", [
    ('reference = "ref/hw.py"\n', "'module' is required"),
    ('module = "hw"\n', "'reference' is required"),
    ('module = "hw-1"\nreference = "ref/hw.py"\n', "not a Python module name"),
    ('module = "hw"\nreference = "ref/none.py"\n', "does not exist"),
    ('module = "hw"\nreference = "ref/hw.py"\nscenario = "s.py"\n', "unknown key(s) scenario"),
    ('module = "hw"\nreference = "ref/hw.py"\npreload = "torch"\n', "preload must be a list"),
    ('module = "hw"\nreference = "ref/hw.py"\n[limits]\ncpu_seconds = 1.5\n', "whole number"),
    ('module = "hw"\nreference = "ref/hw.py"\n[limits]\nmemory = 1\n', "unknown field(s) memory"),
    ('module = "hw"\nreference = "ref/hw.py"\n[limits]\ncpu_seconds = -1\n', "positive"),
    ('module = "hw"\nreference = "ref/hw.py"\n[causes]\nx = "a"\n', "list of phrases"),
    ('module = "hw"\nreference = ', "not valid TOML"),
])
def test_a_mistake_in_the_description_is_named(tmp_path, toml, says):
    with pytest.raises(HomeworkError, match="homework.toml") as caught:
        Homework.load(folder_with(tmp_path, toml))
    assert says in str(caught.value)


def test_a_command_given_no_homework_says_so_without_a_traceback(tmp_path):
    for module in ("autograder.grade", "autograder.batch", "release.gradescope"):
        args = [str(tmp_path)] if module == "autograder.batch" else []
        done = subprocess.run([sys.executable, "-m", module, *args, "--homework",
                               str(tmp_path / "nowhere")], cwd=ROOT, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode != 0, module
        assert "no homework description at" in done.stderr, (module, done.stderr)
        assert "Traceback" not in done.stderr, module


def test_a_new_homework_is_a_folder(tmp_path):
    """A homework the engine has never seen (no preload, a reference not named after the
    module, one visible test) is graded by the same commands, with no engine change."""
    folder = tmp_path / "hw"
    (folder / "solution").mkdir(parents=True)
    (folder / "homework.toml").write_text('module = "twice"\nreference = "solution/answer.py"\n')
    (folder / "solution" / "answer.py").write_text("def double(x):\n    return 2 * x\n")
    (folder / "scenarios.py").write_text("def double(sub, x):\n    return sub.double(x)\n")
    (folder / "test_double.py").write_text(
        "import pytest\n\nfrom autograder.checks import fail\n\n\n"
        "@pytest.mark.points(2)\n@pytest.mark.visible\ndef test_double(submission):\n"
        '    """double() doubles"""\n'
        '    outcome = submission.run("double", x=21)\n'
        "    if not outcome.ok:\n"
        '        fail(submission.explain(outcome, "double()"))\n'
        "    if outcome.value != 42:\n"
        '        fail("double(21) should be 42.")\n')
    for name, body, score in [("right", "return x + x", 2), ("wrong", "return x", 0),
                              ("raises", "return 1 / 0", 0)]:
        upload = tmp_path / name / "twice.py"
        upload.parent.mkdir()
        upload.write_text(f"def double(x):\n    {body}\n")
        results = tmp_path / f"{name}.json"
        done = subprocess.run([sys.executable, "-m", "autograder.grade", str(upload),
                               "--homework", str(folder), "--results", str(results)],
                              cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        data = json.loads(results.read_text())
        assert data["score"] == score, (name, data)
        text = json.dumps(data)
        assert {"right": "Passed", "wrong": "should be 42",
                "raises": "double() raised ZeroDivisionError"}[name] in text, (name, text)
    assert (folder / "plan.json").is_file() and (folder / "answers.json").is_file()


def test_a_description_that_is_not_text_is_named(tmp_path):
    folder = folder_with(tmp_path, "")
    (folder / "homework.toml").write_bytes(b'module = "hw"\nreference = "ref/hw.py"\n\xff = 1\n')
    with pytest.raises(HomeworkError, match=r"homework.toml is not valid TOML \(UTF-8\)"):
        Homework.load(folder)


def test_a_homework_without_hidden_tests_is_a_message_not_a_traceback(tmp_path):
    """The course staff's mistake (no test_*.py yet): each command says what is missing."""
    folder = folder_with(tmp_path, 'module = "hw"\nreference = "ref/hw.py"\n')
    for command in (["autograder.grade", str(folder / "ref" / "hw.py")], ["release.gradescope",
                    "--output", str(tmp_path / "hw.zip")]):
        done = subprocess.run([sys.executable, "-m", *command, "--homework", str(folder)],
                              cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert done.returncode != 0, command
        assert f"no hidden test was found in {folder}" in done.stderr, done.stderr
        assert "Traceback" not in done.stderr, done.stderr
    assert not (tmp_path / "hw.zip").exists()
