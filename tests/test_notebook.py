"""The notebook path: assignment/regression.ipynb stands alone in Jupyter and is graded like a .py.

The notebooks run in a real Jupyter kernel (nbclient), started from this venv's
Python through a kernelspec written to a temporary folder, with nothing else
beside them: the public tests travel inside the notebook.

- the release notebook, stubs left in, run as in Colab (the kernel's working folder
  is empty; the notebook file is not in it): every answer cell stops with "not
  implemented yet", every check cell and ``grader.check_all()`` report each
  question as failed with that message, and the export cell says no zip was made;
- the same notebook built from the solution (``notebook_text(stubbed=False)``), run
  as in Jupyter (the notebook alone in a folder), passes every check, shows the
  lecture's numbers in its answer cells, and exports a zip that grades full marks.

Then the autograder grades notebooks as a student uploads them: the solution
notebook earns full marks, the stubs none, a typical mistake partial credit with
feedback naming it; magics, shell lines and demo calls do no harm; a broken or
empty notebook gets one clear message and 0; beside a regression.py, a notebook
is ignored and the report says so.
"""

import itertools
import json
import shutil
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpecManager
from nbclient import NotebookClient

from autograder.grade import Grader
from release.student import notebook_text

ROOT = Path(__file__).resolve().parents[1]
SOLUTION = ROOT / "solutions" / "regression.py"
ASSIGNMENT = ROOT / "assignment"
RELEASE_NOTEBOOK = ASSIGNMENT / "regression.ipynb"
QUESTIONS = sorted(p.stem for p in (ASSIGNMENT / "tests").glob("q*.py"))
KERNEL = "homework-venv"
_ids = itertools.count(1)


def solution_notebook(source: str | None = None) -> str:
    """The notebook built from the solution (or a changed copy of it), without stubs."""
    return notebook_text(source or SOLUTION.read_text(), str(SOLUTION), stubbed=False)


@pytest.fixture(scope="module")
def kernel_specs(tmp_path_factory) -> KernelSpecManager:
    """A kernelspec that starts this venv's Python, whatever `python` is on PATH."""
    kernels = tmp_path_factory.mktemp("jupyter") / "kernels"
    (kernels / KERNEL).mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (homework venv)",
        "language": "python",
    }
    (kernels / KERNEL / "kernel.json").write_text(json.dumps(spec))
    return KernelSpecManager(kernel_dirs=[str(kernels)])


def execute(text: str, notebook_folder: Path, working_folder: Path, specs: KernelSpecManager,
            *, allow_errors: bool = False) -> nbformat.NotebookNode:
    """Run a notebook top to bottom as a student does: the notebook alone in
    ``notebook_folder``, the kernel working in ``working_folder`` (the same folder in
    Jupyter; another, empty one in Colab). Without ``allow_errors`` nbclient raises
    CellExecutionError if any cell raises."""
    for folder in (notebook_folder, working_folder):
        folder.mkdir(parents=True, exist_ok=True)
    path = notebook_folder / "regression.ipynb"
    path.write_text(text)
    notebook = nbformat.reads(text, as_version=4)
    manager = KernelManager(kernel_name=KERNEL, kernel_spec_manager=specs)
    client = NotebookClient(notebook, km=manager, timeout=120, allow_errors=allow_errors,
                            resources={"metadata": {"path": str(working_folder)}})
    client.execute()
    return notebook


def outputs(notebook: nbformat.NotebookNode) -> dict[str, tuple[str, str]]:
    """{cell id: (everything the code cell showed as text, the error it raised or "")}."""
    shown = {}
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        parts, error = [], ""
        for output in cell.outputs:
            if output.output_type == "error":
                error = f"{output.ename}: {output.evalue}"
            else:
                parts.append(output.get("text") or output.get("data", {}).get("text/plain", ""))
        shown[cell.id] = ("\n".join(parts), error)
    return shown


@pytest.fixture(scope="module")
def stub_run(tmp_path_factory, kernel_specs) -> dict[str, tuple[str, str]]:
    """The release notebook as in Colab: the kernel's folder is empty, the notebook elsewhere."""
    base = tmp_path_factory.mktemp("stub")
    working = base / "content"
    notebook = execute(RELEASE_NOTEBOOK.read_text(), base / "drive", working, kernel_specs,
                       allow_errors=True)
    assert not any(p.suffix == ".py" for p in working.rglob("*"))  # wrote no tests/ there
    return outputs(notebook)


@pytest.fixture(scope="module")
def solution_run(tmp_path_factory, kernel_specs) -> tuple[Path, dict[str, tuple[str, str]]]:
    """The solution notebook as in Jupyter: alone in its folder, the kernel working there."""
    folder = tmp_path_factory.mktemp("solution") / "homework"
    shown = outputs(execute(solution_notebook(), folder, folder, kernel_specs))
    assert sorted(p.name for p in folder.iterdir() if p.suffix != ".zip") == [
        ".OTTER_LOG", "regression.ipynb"]
    return folder, shown


def test_release_notebook_alone_runs_every_check_and_each_says_not_implemented(stub_run):
    errors = {cell: error for cell, (_, error) in stub_run.items() if error}
    # every answer cell calls forward() first
    assert errors == {f"{q}-answer": "NotImplementedError: forward() is not implemented yet"
                      for q in QUESTIONS}, errors
    for question in QUESTIONS:
        shown, _ = stub_run[f"{question}-check"]
        assert shown.startswith(f"{question} results:"), shown
        assert "Test case failed" in shown and "not implemented yet" in shown, shown
        assert "passed!" not in shown and "Test case passed" not in shown, shown
    every, _ = stub_run["check-all-code"]
    for question in QUESTIONS:
        assert f"{question} results:" in every, every
    assert "passed" not in every.replace("Test case failed", ""), every
    exported, _ = stub_run["export"]
    assert "No zip was made" in exported and "Download .ipynb" in exported, exported


def test_solution_notebook_alone_passes_every_check_and_shows_the_lecture_answers(solution_run):
    folder, shown = solution_run
    assert not any(error for _, error in shown.values())
    for question in QUESTIONS:
        assert shown[f"{question}-check"][0] == f"{question} results: All test cases passed!"
    assert "All test cases passed!" in shown["check-all-code"][0]
    answers = {
        "q1": ["prediction for 20: tensor(70., grad_fn=", "true value:        68.0"],
        "q2": ["preds:   tensor([-50.,  10.,  60.,  90., 130.], grad_fn="],
        "q3": ["loss: tensor(39.4000, grad_fn="],
        "q4": ["w.grad: tensor(390.)", "b.grad: tensor(-0.4000)"],
        "q5": ["w = 1.961, b = 30.00004", "w.grad: tensor(0.)"],
        "q6": ["preds: tensor([-48.4400,  10.3900,  59.4150,  88.8300, 128.0500]",
               "loss:  tensor(25.8098"],
    }
    for question, lines in answers.items():
        text, _ = shown[f"{question}-answer"]
        for line in lines:
            assert line in text, f"{line!r} not in {question}'s answer:\n{text}"


def test_solution_notebook_export_is_a_zip_that_grades_full_marks(grader, solution_run, tmp_path):
    folder, _ = solution_run
    (archive,) = folder.glob("regression_*.zip")
    with zipfile.ZipFile(archive) as opened:
        assert "regression.ipynb" in opened.namelist()
        opened.extractall(tmp_path / "upload")  # as Gradescope unpacks an uploaded zip
    result = grader.grade(tmp_path / "upload")
    assert result.score == result.max_score > 0, [t.feedback for t in result.tests]


@pytest.fixture(scope="module")
def grader():
    with Grader() as grader:
        yield grader


def test_solution_notebook_earns_full_marks(grader, solution_run):
    folder, _ = solution_run
    result = grader.grade(folder / "regression.ipynb")
    assert result.score == result.max_score > 0, [t.feedback for t in result.tests]
    assert not result.ungradable and not result.notes


def test_release_notebook_earns_nothing(grader):
    result = grader.grade(RELEASE_NOTEBOOK)
    assert result.score == 0 < result.max_score
    assert not result.ungradable
    assert all("not implemented" in t.feedback for t in result.tests), [
        t.feedback for t in result.tests
    ]


def test_mistake_in_a_notebook_earns_partial_credit_with_feedback_naming_it(grader, tmp_path):
    source = SOLUTION.read_text()
    assert "torch.mean(diff**2)" in source
    path = tmp_path / "regression.ipynb"
    path.write_text(solution_notebook(source.replace("torch.mean(diff**2)", "torch.sum(diff**2)")))
    result = grader.grade(path)
    assert 0 < result.score < result.max_score
    feedback = " ".join(t.feedback for t in result.tests if not t.passed).lower()
    assert "sum" in feedback and "mean" in feedback, feedback


def test_unfinished_notebook_keeps_the_points_of_what_is_written(grader, tmp_path):
    """A student who has not written update() yet: its answer cell raises at the top level,
    is skipped and named by its first line, and forward() and mse() still earn points."""
    source = SOLUTION.read_text()
    step = source[source.index("    with torch.no_grad():"):source.index("    # END SOLUTION",
                                                                       source.index("def update"))]
    path = tmp_path / "regression.ipynb"
    path.write_text(solution_notebook(source.replace(
        step, '    raise NotImplementedError("update() is not implemented yet")\n')))
    result = grader.grade(path)
    passed = {t.name for t in result.tests if t.score == t.max_score}
    assert 0 < result.score < result.max_score
    assert not any("update()" in name for name in passed), passed
    assert any(name.startswith("1. forward()") for name in passed), passed
    assert any("`# Question 5:" in note and "NotImplementedError" in note and "skipped" in note
               for note in result.notes), result.notes


def code_cell(source: str) -> dict:
    """A cell a student added."""
    return {"cell_type": "code", "execution_count": None, "id": f"extra-{next(_ids)}",
            "metadata": {}, "outputs": [], "source": source}


def test_magics_shell_lines_display_and_demo_calls_grade_fine(grader, tmp_path):
    notebook = json.loads(solution_notebook())
    notebook["cells"][2:2] = [code_cell("!pip install torch\n%matplotlib inline\n%load_ext foo")]
    notebook["cells"] += [
        code_cell("%time preds = forward(inputs, *initial_parameters())\nprint(preds)\n"
                  "%timeit mse(preds, targets)"),
        code_cell("%%time\nw, b = initial_parameters()\nloss = mse(forward(inputs, w, b), targets)"
                  "\nloss.backward()\nupdate(w, b)\nprint(w, b, loss)"),
        code_cell("%%bash\necho this is not Python"),
        code_cell("display(w, b)\ndisplay(loss, metadata={})"),
        code_cell("for step in range(3):\n    %time w, b = initial_parameters()\n"
                  "    !echo step\nprint(forward(torch.tensor(20.0), w, b))"),
    ]
    path = tmp_path / "regression.ipynb"
    path.write_text(json.dumps(notebook))
    result = grader.grade(path)
    assert result.score == result.max_score > 0, [t.feedback for t in result.tests]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"cells": [{"cell_type": "code", "source": ["import torch\\n"]', "not a valid Jupyter"),
        (json.dumps({"cells": [{"cell_type": "markdown", "metadata": {}, "source": "# Notes"}],
                     "metadata": {}, "nbformat": 4, "nbformat_minor": 5}), "no code cells"),
    ],
    ids=["invalid-json", "no-code-cells"],
)
def test_unreadable_notebook_gets_one_clear_message_and_zero(grader, tmp_path, content, message):
    path = tmp_path / "regression.ipynb"
    path.write_text(content)
    result = grader.grade(path)
    assert result.score == 0 < result.max_score
    assert message in result.ungradable and "regression.ipynb" in result.ungradable
    assert result.notes == [result.ungradable]
    assert {t.feedback for t in result.tests} == {result.ungradable}  # one message, not a trace


def test_folder_with_both_files_is_graded_from_the_py_and_says_so(grader, tmp_path):
    shutil.copy(SOLUTION, tmp_path / "regression.py")
    shutil.copy(RELEASE_NOTEBOOK, tmp_path / "regression.ipynb")  # stubs: would earn 0
    result = grader.grade(tmp_path)
    assert result.score == result.max_score > 0
    assert any("regression.ipynb was ignored" in note for note in result.notes), result.notes
