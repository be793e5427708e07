"""The generator: assignment/ is what it builds, stubs hide the solution, bad markers stop it.

The notebook (assignment/regression.ipynb) is checked here for what it is made of;
tests/test_notebook.py runs it in a Jupyter kernel and grades it.
"""

import ast
import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from release.student import (
    MarkerError,
    ReleaseError,
    find_blocks,
    notebook_text,
    release_files,
    split_module,
    stub_source,
)

ROOT = Path(__file__).resolve().parents[1]
SOLUTION = ROOT / "solutions" / "regression.py"
ASSIGNMENT = ROOT / "assignment"
SKELETON = ASSIGNMENT / "regression.py"
NOTEBOOK = ASSIGNMENT / "regression.ipynb"
TEMPLATE = ROOT / "release" / "template"


def generate(*args: str) -> subprocess.CompletedProcess:
    """Run the generator the way ``make student`` does (it imports no torch: fast)."""
    return subprocess.run(
        [sys.executable, "-m", "release.student", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
        and not {"__pycache__", ".pytest_cache", ".OTTER_LOG"} & set(p.relative_to(folder).parts)
    }


def test_assignment_is_exactly_what_the_generator_builds(tmp_path):
    out = tmp_path / "assignment"
    run = generate("--out", str(out))
    assert run.returncode == 0, run.stderr
    built = tree(out)
    assert {"regression.py", "regression.ipynb", "README.md", "tests/q1.py"} <= built.keys()
    committed = subprocess.run(
        ["git", "ls-files", "assignment"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert sorted(committed) == sorted(f"assignment/{name}" for name in built), (
        "git-tracked files in assignment/ differ from the release: run make student and commit"
    )
    stale = [name for name, content in built.items() if tree(ASSIGNMENT).get(name) != content]
    assert not stale, f"assignment/ is stale (run make student and commit): {stale}"


def test_generator_is_deterministic_and_idempotent(tmp_path):
    out = tmp_path / "assignment"
    assert generate("--out", str(out)).returncode == 0
    first = tree(out)
    (out / "tests" / "q9.py").write_text("stale = True\n")  # a test file that was renamed away
    second_run = generate("--out", str(out))
    assert second_run.returncode == 0, second_run.stderr
    assert tree(out) == first
    assert "removed" in second_run.stdout
    third_run = generate("--out", str(out))
    assert "already up to date" in third_run.stdout and "wrote" not in third_run.stdout


def test_skeleton_hides_every_solution_line_and_keeps_the_docstrings():
    solution_tree = ast.parse(SOLUTION.read_text())
    skeleton_text = SKELETON.read_text()
    skeleton_tree = ast.parse(skeleton_text)
    solution_funcs = {n.name: n for n in solution_tree.body if isinstance(n, ast.FunctionDef)}
    skeleton_funcs = {n.name: n for n in skeleton_tree.body if isinstance(n, ast.FunctionDef)}
    assert solution_funcs.keys() == skeleton_funcs.keys()
    for name in ("forward", "mse", "update"):
        solved, stub = solution_funcs[name], skeleton_funcs[name]
        assert ast.dump(solved.args) == ast.dump(stub.args), f"{name}() signature changed"
        assert ast.get_docstring(solved) == ast.get_docstring(stub), f"{name}() lost its docstring"
        assert ast.get_docstring(stub), f"{name}() has no docstring to guide students"
        body = stub.body[1:]  # after the docstring: only the raise
        assert len(body) == 1 and isinstance(body[0], ast.Raise), ast.unparse(stub)
        assert f"{name}() is not implemented yet" in ast.unparse(body[0])
    skeleton_lines = {line.strip() for line in skeleton_text.splitlines()}
    hidden = [
        line.strip()
        for block in find_blocks(SOLUTION.read_text(), str(SOLUTION))
        for line in SOLUTION.read_text().splitlines()[block.begin : block.end - 1]
        if line.strip()
    ]
    assert len(hidden) >= 3
    assert not [line for line in hidden if line in skeleton_lines], "solution code leaked"
    assert "SOLUTION" not in skeleton_text


def test_skeleton_walkthrough_stops_with_a_short_message():
    run = subprocess.run(
        [sys.executable, str(SKELETON)], capture_output=True, text=True, timeout=120
    )
    assert run.returncode != 0
    assert "forward() is not implemented yet" in run.stderr
    assert "Traceback" not in run.stderr


def test_stub_source_keeps_indentation_and_code_around_blocks():
    source = textwrap.dedent(
        '''\
        import torch


        def helper():
            return 1


        class Model:
            def step(self, x):
                """Docs."""
                y = x
                if y:
                    # BEGIN SOLUTION
                    return y * 2
                    # END SOLUTION
                return 0
        '''
    )
    stubbed = stub_source(source, "model.py")
    assert "return y * 2" not in stubbed
    assert '            raise NotImplementedError("step() is not implemented yet")' in stubbed
    assert "def helper():\n    return 1" in stubbed and "        return 0" in stubbed
    assert stub_source(source, "model.py") == stubbed
    ast.parse(stubbed)


BROKEN = {
    "no closing marker": (
        "def f(x):\n    # BEGIN SOLUTION\n    return x\n",
        2,
        "no matching",
    ),
    "stray end": (
        "def f(x):\n    return x\n    # END SOLUTION\n",
        3,
        "without an open",
    ),
    "nested begin": (
        "def f(x):\n    # BEGIN SOLUTION\n    # BEGIN SOLUTION\n    return x\n    # END SOLUTION\n",
        3,
        "cannot nest",
    ),
    "outside a function": (
        "# BEGIN SOLUTION\nX = 1\n# END SOLUTION\n\n\ndef f(x):\n    return x\n",
        1,
        "outside a function",
    ),
    "end in the next function": (
        "def f(x):\n    # BEGIN SOLUTION\n    return x\n\n\ndef g(x):\n"
        "    return x\n    # END SOLUTION\n",
        8,
        "does not line up",
    ),
    "misspelt marker": (
        "def f(x):\n    # BEGIN SOLUTIONS\n    return x\n    # END SOLUTION\n",
        2,
        "looks like a marker",
    ),
    "no blocks at all": ("def f(x):\n    return x\n", 1, "would be the solution"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_markers_stop_the_build_naming_file_and_line(case, tmp_path):
    source, line, words = BROKEN[case]
    bad = tmp_path / "bad_solution.py"
    bad.write_text(source)
    out = tmp_path / "out"
    run = generate("--solution", str(bad), "--out", str(out))
    assert run.returncode != 0
    assert f"{bad}:{line}:" in run.stderr and words in run.stderr, run.stderr
    assert "Traceback" not in run.stderr
    assert not out.exists(), "a failed build must not write a partial release"


def test_marker_inside_a_string_is_not_a_marker():
    source = 'def f(x):\n    """Write # BEGIN SOLUTION blocks."""\n    # BEGIN SOLUTION\n'
    source += "    return x\n    # END SOLUTION\n"
    assert "Write # BEGIN SOLUTION blocks." in stub_source(source, "f.py")


def test_release_files_raise_marker_error_for_the_solution_path(tmp_path):
    bad = tmp_path / "regression.py"
    bad.write_text("def f():\n    # END SOLUTION\n    pass\n")
    with pytest.raises(MarkerError) as error:
        release_files(bad)
    assert error.value.line == 2 and str(bad) in str(error.value)


def test_public_test_folder_holds_only_otter_test_files():
    files = sorted(p.name for p in (ASSIGNMENT / "tests").iterdir() if p.name != "__pycache__")
    assert files == [f"q{i}.py" for i in range(1, 7)], files
    for i in range(1, 7):
        tree_ = ast.parse((ASSIGNMENT / "tests" / f"q{i}.py").read_text())
        assigned = {
            t.id: node.value
            for node in tree_.body
            if isinstance(node, ast.Assign)
            for t in node.targets
            if isinstance(t, ast.Name)
        }
        assert ast.literal_eval(assigned["name"]) == f"q{i}"
        assert ast.literal_eval(assigned["OK_FORMAT"]) is False
        assert ast.literal_eval(assigned["points"]) > 0


def test_student_readme_says_what_to_upload_and_how_to_check():
    readme = (ASSIGNMENT / "README.md").read_text()
    for needed in (
        "Upload **`regression.py`**",
        "Gradescope",
        "python -m pytest",
        "otter check regression.py",
        "pip install torch numpy pytest otter-grader",
        "Upload **`regression.ipynb`**",
        "Colab",
        "`regression.py` is graded and the notebook is ignored",
    ):
        assert needed in readme, needed
    order = [
        "input of 20",
        "Predictions on the inputs",
        "The loss",
        "The gradients",
        "The update",
        "new predictions and loss",
    ]
    positions = [readme.find(heading) for heading in order]
    assert -1 not in positions and positions == sorted(positions), dict(
        zip(order, positions, strict=True)
    )
    ini = (ASSIGNMENT / "pytest.ini").read_text()
    assert "[pytest]" in ini and "testpaths = tests" in ini


def notebook_cells(text: str) -> list[dict]:
    return json.loads(text)["cells"]


def code_of(cells: list[dict]) -> dict[str, str]:
    return {c["id"]: "".join(c["source"]) for c in cells if c["cell_type"] == "code"}


EXTRA_CELLS = {"setup-install", "setup-checks", "walkthrough-run"}  # the notebook's own glue


def functions_of(source: str) -> dict[str, str]:
    return {n.name: ast.dump(n) for n in ast.parse(source).body if isinstance(n, ast.FunctionDef)}


def test_notebook_is_valid_and_its_code_is_the_skeletons_code():
    nbformat = pytest.importorskip("nbformat")
    text = NOTEBOOK.read_text()
    nbformat.validate(nbformat.reads(text, as_version=nbformat.NO_CONVERT))
    cells = notebook_cells(text)
    assert len({c["id"] for c in cells}) == len(cells)
    code = code_of(cells)
    skeleton = split_module(SKELETON.read_text())
    # every piece of the skeleton, verbatim, in one cell each: the stubs are the .py's stubs
    for piece in [skeleton.prelude, *skeleton.functions.values()]:
        assert sum(piece.strip() in cell for cell in code.values()) == 1, piece[:60]
    # and nothing else of the module: the same functions, byte for byte as the .py's
    module = "\n\n".join(
        cell for key, cell in code.items() if key == "data" or key not in EXTRA_CELLS
        and not key.endswith("-check")
    )
    assert functions_of(module) == functions_of(SKELETON.read_text())
    assert "SOLUTION" not in text and "torch.mean(diff" not in text


def test_notebook_asks_each_question_with_its_stub_and_check_in_order():
    cells = notebook_cells(NOTEBOOK.read_text())
    ids = [c["id"] for c in cells]
    questions = [f"q{i}" for i in range(1, 7)]
    assert [i for i in ids if i in questions] == questions
    for question in questions:
        assert ids.index(question) < ids.index(f"{question}-check")
    for function, question in (("forward", "q1"), ("mse", "q3"), ("update", "q5")):
        stub = ids.index(f"{question}-{function}")
        assert ids.index(question) < stub < ids.index(f"{question}-check")
        assert f'{function}() is not implemented yet' in "".join(cells[stub]["source"])
    code = code_of(cells)
    for question in questions:
        assert code[f"{question}-check"] == f'grader.check("{question}")'
    assert ids[:4] == ["intro", "notebook", "setup-install", "setup-checks"]
    assert "%pip install -q otter-grader" in code["setup-install"]
    assert 'if importlib.util.find_spec("otter") is None:' in code["setup-install"]
    assert 'otter.Notebook(tests_dir="tests")' in code["setup-checks"]
    assert ids[-1] == "submit" and "regression.ipynb" in "".join(cells[-1]["source"])
    assert 'if __name__ == "__main__":' in code["walkthrough-run"]


def test_solution_notebook_differs_from_the_release_only_in_the_stubs():
    source = SOLUTION.read_text()
    stubbed = code_of(notebook_cells(notebook_text(source, str(SOLUTION))))
    solved = code_of(notebook_cells(notebook_text(source, str(SOLUTION), stubbed=False)))
    assert stubbed.keys() == solved.keys()
    assert [k for k in stubbed if stubbed[k] != solved[k]] == ["q1-forward", "q3-mse", "q5-update"]
    assert "return torch.mean(diff**2)" in solved["q3-mse"]
    assert notebook_text(source, str(SOLUTION)) == NOTEBOOK.read_text()


def template_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "template"
    shutil.copytree(TEMPLATE, copy)
    return copy


def test_readme_question_without_its_test_file_stops_the_build(tmp_path):
    template = template_copy(tmp_path)
    readme = template / "README.md"
    text = readme.read_text()
    readme.write_text(text.replace("(`tests/q2.py`)", "(`tests/q9.py`)"))
    line = text[: text.index("2. **Predictions")].count("\n") + 1  # where the item starts
    with pytest.raises(ReleaseError) as error:
        notebook_text(SOLUTION.read_text(), template=template)
    assert "tests/q9.py" in str(error.value)
    assert error.value.path.endswith("README.md") and error.value.line == line


def test_public_test_without_a_readme_question_stops_the_build(tmp_path):
    template = template_copy(tmp_path)
    shutil.copy(template / "tests" / "q6.py", template / "tests" / "q7.py")
    with pytest.raises(ReleaseError, match="q7"):
        notebook_text(SOLUTION.read_text(), template=template)


def test_statement_between_functions_stops_the_build_naming_its_line():
    source = "import torch\n\n\ndef f(x):\n    # BEGIN SOLUTION\n    return x\n"
    source += "    # END SOLUTION\n\n\nY = f(1)\n"
    with pytest.raises(ReleaseError) as error:
        split_module(source, "m.py")
    assert error.value.line == 10 and "first function" in str(error.value)
