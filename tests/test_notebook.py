"""The notebook path: assignment/regression.ipynb runs in Jupyter and is graded like a .py.

The notebooks run in a real Jupyter kernel (nbclient), started from this venv's
Python through a kernelspec written to a temporary folder, in a folder laid out
as a student has it (the notebook with tests/ next to it):

- the release notebook, stubs left in, runs top to bottom without an error, and
  every check cell reports its question as failed with "not implemented yet";
- the same notebook built from the solution (``notebook_text(stubbed=False)``)
  passes every check and walks through the lecture's numbers.

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


def execute(text: str, folder: Path, specs: KernelSpecManager) -> nbformat.NotebookNode:
    """Run a notebook top to bottom as a student does, with tests/ next to it. Raises
    nbclient's CellExecutionError if any cell raises."""
    folder.mkdir(parents=True)
    shutil.copytree(ASSIGNMENT / "tests", folder / "tests")
    path = folder / "regression.ipynb"
    path.write_text(text)
    notebook = nbformat.reads(text, as_version=4)
    manager = KernelManager(kernel_name=KERNEL, kernel_spec_manager=specs)
    client = NotebookClient(
        notebook, km=manager, timeout=120, resources={"metadata": {"path": str(folder)}}
    )
    client.execute()
    nbformat.write(notebook, path)  # saved with its outputs, as a student uploads it
    return notebook


def outputs(notebook: nbformat.NotebookNode) -> dict[str, str]:
    """{cell id: everything the code cell showed, as text}."""
    shown = {}
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        parts = []
        for output in cell.outputs:
            assert output.output_type != "error", f"cell {cell.id} raised: {output}"
            parts.append(output.get("text") or output.get("data", {}).get("text/plain", ""))
        shown[cell.id] = "\n".join(parts)
    return shown


@pytest.fixture(scope="module")
def stub_run(tmp_path_factory, kernel_specs) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("stub") / "assignment"
    return outputs(execute(RELEASE_NOTEBOOK.read_text(), folder, kernel_specs))


@pytest.fixture(scope="module")
def solution_run(tmp_path_factory, kernel_specs) -> tuple[Path, dict[str, str]]:
    folder = tmp_path_factory.mktemp("solution") / "assignment"
    shown = outputs(execute(solution_notebook(), folder, kernel_specs))
    return folder / "regression.ipynb", shown


@pytest.fixture(scope="module")
def grader():
    with Grader() as grader:
        yield grader


def test_release_notebook_runs_with_stubs_and_every_check_says_not_implemented(stub_run):
    assert "no tests/ folder" not in stub_run["setup-checks"]
    for question in QUESTIONS:
        shown = stub_run[f"{question}-check"]
        assert shown.startswith(f"{question} results:"), shown
        assert "Test case failed" in shown and "not implemented yet" in shown, shown
        assert "passed!" not in shown and "Test case passed" not in shown, shown
    assert "Stopped: forward() is not implemented yet" in stub_run["walkthrough-run"]


def test_solution_notebook_passes_every_check_and_walks_through_the_lecture(solution_run):
    _, shown = solution_run
    for question in QUESTIONS:
        assert shown[f"{question}-check"] == f"{question} results: All test cases passed!"
    walk = shown["walkthrough-run"]
    for number in ("forward(20) = 70", "[-50, 10, 60, 90, 130]", "loss = 39.4",
                   "w.grad = 390", "b.grad = -0.4", "w = 1.961", "b = 30.00004",
                   "[-48.44, 10.39, 59.415, 88.83, 128.05]", "loss  = 25.8098"):
        assert number in walk, f"{number!r} not in the walk-through:\n{walk}"
    assert "Stopped" not in walk


def test_solution_notebook_earns_full_marks(grader, solution_run):
    path, _ = solution_run
    result = grader.grade(path)
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
