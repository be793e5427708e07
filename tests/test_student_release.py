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


def test_check_flag_tells_whether_the_release_is_up_to_date(tmp_path):
    out = tmp_path / "assignment"
    assert generate("--out", str(out)).returncode == 0
    assert generate("--check", "--out", str(out)).returncode == 0
    (out / "tests" / "q2.py").write_text("edited by hand\n")
    (out / "notes.txt").write_text("not released\n")
    (out / "regression.ipynb").unlink()
    run = generate("--check", "--out", str(out))
    assert run.returncode == 1 and "make student" in run.stderr
    assert [line.split()[0] for line in run.stdout.splitlines()] == ["missing", "out", "not"]
    assert "q2.py" in run.stdout and "notes.txt" in run.stdout
    assert (out / "notes.txt").exists() and not (out / "regression.ipynb").exists()  # unwritten


# names that hold the parameters and data a public test passes to the student's functions
_TENSORS = {"w", "b", "x", "inputs", "targets", "preds", "column", "t1", "t2"}


def test_public_tests_compare_with_the_lectures_numbers_and_never_compute_an_answer():
    """Expected values are literals: no test file does the arithmetic of forward, mse or
    update on the tensors (w * inputs + b, a mean, a step), which would hand out the answer."""
    for path in sorted((TEMPLATE / "tests").glob("*.py")):
        tree_ = ast.parse(path.read_text())
        for node in ast.walk(tree_):
            if isinstance(node, ast.BinOp):
                names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
                assert not names & _TENSORS, f"{path.name}:{node.lineno}: {ast.unparse(node)}"
            if isinstance(node, ast.Attribute | ast.Name):
                name = node.attr if isinstance(node, ast.Attribute) else node.id
                assert name not in {"mean", "sum", "no_grad", "sub_", "zero_"}, (
                    f"{path.name}:{node.lineno}: {ast.unparse(node)}")


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
        "pip install torch numpy pytest otter-grader ipykernel",
        "pip install torch --index-url https://download.pytorch.org/whl/cpu",
        "always ends with status 0",
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
    from autograder.limits import DEFAULT_LIMITS
    from autograder.submission import CELL_SECONDS

    # the limits the autograder applies, as the README states them
    assert f"time limit of {DEFAULT_LIMITS.cpu_seconds:g} seconds" in readme
    assert f"longer than {CELL_SECONDS:g} second" in readme
    ini = (ASSIGNMENT / "pytest.ini").read_text()
    assert "[pytest]" in ini and "testpaths = tests" in ini


def notebook_cells(text: str) -> list[dict]:
    return json.loads(text)["cells"]


def code_of(cells: list[dict]) -> dict[str, str]:
    return {c["id"]: "".join(c["source"]) for c in cells if c["cell_type"] == "code"}


# the notebook's own glue, besides the stubbed module's code
GLUE_CELLS = {"setup-code", "check-all-code", "export"}
QUESTIONS = [f"q{i}" for i in range(1, 7)]


def glue(cell_id: str) -> bool:
    return cell_id in GLUE_CELLS or cell_id.endswith(("-check", "-answer"))


def functions_of(source: str) -> dict[str, str]:
    return {n.name: ast.dump(n) for n in ast.parse(source).body if isinstance(n, ast.FunctionDef)}


def test_notebook_is_valid_and_its_code_is_the_skeletons_code_without_the_walkthrough():
    nbformat = pytest.importorskip("nbformat")
    text = NOTEBOOK.read_text()
    nbformat.validate(nbformat.reads(text, as_version=nbformat.NO_CONVERT))
    cells = notebook_cells(text)
    assert len({c["id"] for c in cells}) == len(cells)
    code = code_of(cells)
    skeleton = split_module(SKELETON.read_text())
    walkthrough = {name for name in skeleton.functions if name == "main" or name.startswith("_")}
    assert walkthrough == {"main", "_fmt"}
    # every other piece of the skeleton, verbatim, in one cell each: the .py's stubs
    for name, piece in [("prelude", skeleton.prelude), *skeleton.functions.items()]:
        count = sum(piece.strip() in cell for cell in code.values())
        assert count == (0 if name in walkthrough else 1), name
    module = "\n\n".join(cell for key, cell in code.items() if not glue(key))
    wanted = functions_of(SKELETON.read_text())
    assert functions_of(module) == {k: v for k, v in wanted.items() if k not in walkthrough}
    assert "SOLUTION" not in text and "torch.mean(diff" not in text


def test_notebook_asks_each_question_with_its_stub_answer_and_check_in_order():
    cells = notebook_cells(NOTEBOOK.read_text())
    ids = [c["id"] for c in cells]
    assert [i for i in ids if i in QUESTIONS] == QUESTIONS
    for question in QUESTIONS:
        assert ids.index(question) < ids.index(f"{question}-answer") < ids.index(
            f"{question}-check")
    for function, question in (("forward", "q1"), ("mse", "q3"), ("update", "q5")):
        stub = ids.index(f"{question}-{function}")
        assert ids.index(question) < stub < ids.index(f"{question}-answer")
        assert f'{function}() is not implemented yet' in "".join(cells[stub]["source"])
    # question 4 asks what the gradients say: a markdown cell for the student's answer
    reflection = cells[ids.index("q4-reflection")]
    assert reflection["cell_type"] == "markdown"
    assert ids.index("q4-answer") < ids.index("q4-reflection") < ids.index("q4-check")
    code = code_of(cells)
    for question in QUESTIONS:
        assert code[f"{question}-check"] == f'grader.check("{question}")'
    assert ids[:3] == ["intro", "setup", "setup-code"]
    assert ids[-4:] == ["check-all", "check-all-code", "submit", "export"]
    assert code["check-all-code"] == "grader.check_all()"
    assert "grader.export(" in code["export"]
    text = "\n".join("".join(c["source"]) for c in cells)
    assert "Upload notebook" not in text and "jupyter lab" not in text  # no "how to open it"
    assert "`tests/q" not in text  # no test file to fetch: the notebook carries them


def test_notebook_carries_every_public_test_and_tags_otters_cells():
    cells = notebook_cells(NOTEBOOK.read_text())
    setup = next(c for c in cells if c["id"] == "setup-code")
    source = "".join(setup["source"])
    assert source.startswith("# @title ")  # Colab shows the title of a collapsed form only
    assert setup["metadata"]["cellView"] == "form"
    assert setup["metadata"]["jupyter"] == {"source_hidden": True}
    tree_ = ast.parse("\n".join(line for line in source.splitlines()
                                if not line.lstrip().startswith("%")))
    carried = next(ast.literal_eval(node.value) for node in tree_.body
                   if isinstance(node, ast.Assign) and node.targets[0].id == "_PUBLIC_TESTS")
    files = {p.stem: p.read_text() for p in sorted((ASSIGNMENT / "tests").glob("*.py"))}
    assert carried == files
    otters = {c["id"] for c in cells if "otter_ignore" in c["metadata"].get("tags", [])}
    assert otters == {"setup-code", "check-all-code", "export"} | {f"{q}-check" for q in QUESTIONS}


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
