"""The grader graded: real submissions through the real sandbox and hidden tests.

The reference solution earns every point, the skeleton none, each shipped example
mistake (examples/) loses exactly the points it should with feedback naming its cause,
correct solutions written other ways earn every point, a regrade gives the same result,
no hidden input or hidden expected value ever reaches what a student sees, and every
results.json is valid Gradescope output.

One Grader (one sandbox zygote) serves the whole module, and each submission is graded
once: results are cached by path.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from autograder.grade import Grader, Homework, examples
from autograder.judge import Feedback
from autograder.platforms.gradescope import to_gradescope
from autograder.platforms.gradescope import write as write_results_json
from autograder.results import GradingResult, report
from autograder.tests import feedback, hidden

try:  # the package's Gradescope schema helper (tests/schema.py), when it is there
    from schema import validate_results
except ImportError:
    validate_results = None

ROOT = Path(__file__).resolve().parents[1]
SOLUTION = ROOT / "solutions" / "regression.py"
SKELETON = ROOT / "assignment" / "regression.py"
EXAMPLES = ROOT / "examples"
ALTERNATIVES = sorted((ROOT / "tests" / "alternatives").glob("*.py"))

# The hidden tests by function name: (points, visible).
TESTS = {
    "test_predict_from_20": (1, True),
    "test_predictions_on_the_inputs": (1, True),
    "test_forward_hidden": (1, False),
    "test_lecture_loss": (1, True),
    "test_loss_hidden": (1, False),
    "test_lecture_gradients": (1, True),
    "test_gradients_hidden": (1, False),
    "test_lecture_update": (1, True),
    "test_update_in_place": (1, True),
    "test_update_learning_rates": (0.5, True),
    "test_update_several_steps": (0.5, False),
}
FORWARD = ("test_predict_from_20", "test_predictions_on_the_inputs", "test_forward_hidden")
LOSS = ("test_lecture_loss", "test_loss_hidden")
FORWARD_GRADIENTS = "test_lecture_gradients"  # the test computes the loss itself
LOSS_GRADIENTS = "test_gradients_hidden"  # the test computes the line itself
UPDATE_VALUES = ("test_lecture_update", "test_update_learning_rates", "test_update_several_steps")
UPDATE = (*UPDATE_VALUES, "test_update_in_place")


def _each(tests: tuple[str, ...], cause: str) -> dict[str, str]:
    return dict.fromkeys(tests, cause)


# Each shipped mistake: its exact score, and for each test it fails, words its feedback
# must contain (the named cause). Every other test must pass. A mistake in one function
# costs points in that function's tests only: the gradient tests take the other function
# from the test itself (a mistaken mse() no longer costs forward()'s gradient test, and
# the other way round), so each mistake below costs one point less than it used to.
MISTAKES: dict[str, tuple[float, dict[str, str]]] = {
    "sum_instead_of_mean": (7, {
        **_each(LOSS, "sum of the squared differences, not their mean"),
        LOSS_GRADIENTS: "sums the squared differences instead of averaging",
    }),
    "forgot_bias": (6, {
        **_each(FORWARD, "the bias is missing"),
        FORWARD_GRADIENTS: "forget the bias",
    }),
    "forward_without_graph": (6, _each((*FORWARD, FORWARD_GRADIENTS),
                                       "without an autograd graph")),
    "returns_float": (7, _each((*LOSS, LOSS_GRADIENTS), "returned a Python float")),
    "returns_numpy": (7, _each((*LOSS, LOSS_GRADIENTS), "returned a numpy array")),
    "grads_not_zeroed": (8.5, {
        "test_update_in_place": "left the gradients in w.grad and b.grad",
        "test_update_several_steps": "use accumulated gradients",
    }),
    "steps_uphill": (8, _each(UPDATE_VALUES, "moved uphill")),
    "rebinds_parameters": (7, _each(UPDATE, "only rebinds a local name")),
    "returns_new_tensors": (7, _each(UPDATE, "returned new tensors instead")),
    "ignores_lr": (9, _each(UPDATE_VALUES[1:], "ignore its lr argument")),
    "update_outside_no_grad": (7, _each(UPDATE, "with torch.no_grad():")),
}

# Correct solutions written other ways, besides those in tests/alternatives/.
HEADER = """\
import torch
import torch.nn.functional as F

inputs = torch.tensor([-40.0, -10.0, 15.0, 30.0, 50.0])
targets = torch.tensor([-40.0, 14.0, 59.0, 86.0, 122.0])
"""
CORRECT_INLINE = {
    "mse_loss_module_and_copy": """
        def forward(x, w, b):
            return b + x * w

        def mse(t1, t2):
            return torch.nn.MSELoss()(t1, t2)

        def update(w, b, lr=1e-4):
            with torch.no_grad():
                w.copy_(w - lr * w.grad)
                b.copy_(b - lr * b.grad)
            w.grad = None
            b.grad = None
        """,
    "functional_and_data_add": """
        def forward(x, w, b):
            return torch.mul(w, x).add(b)

        def mse(t1, t2):
            return F.mse_loss(t1, t2, reduction="mean")

        def update(w, b, lr=1e-4):
            for p in (w, b):
                p.data.add_(p.grad, alpha=-lr)
                p.grad.detach_()
                p.grad.zero_()
        """,
    "keyword_only_lr": """
        def forward(x, w, b):
            return w * x + b

        def mse(t1, t2):
            return ((t1 - t2) ** 2).mean()

        def update(w, b, *, lr=1e-4):
            with torch.no_grad():
                w.sub_(lr * w.grad)
                b.sub_(lr * b.grad)
            w.grad = None
            b.grad = None
        """,
    "square_and_loop": """
        print("imported: the student's own chatter")

        def forward(x, w, b):
            return w * x + b * torch.ones_like(x)

        def mse(t1, t2):
            return torch.mean(torch.square(t2 - t1))

        def update(w, b, lr=1e-4):
            with torch.no_grad():
                for p in (w, b):
                    p -= lr * p.grad
                    p.grad.zero_()
        """,
}

# The reference's three functions: each wrong inline submission below replaces one.
CORRECT_FUNCTIONS = {
    "forward": """
        def forward(x, w, b):
            return w * x + b
        """,
    "mse": """
        def mse(t1, t2):
            return ((t1 - t2) ** 2).mean()
        """,
    "update": """
        def update(w, b, lr=1e-4):
            with torch.no_grad():
                w -= lr * w.grad
                b -= lr * b.grad
            w.grad.zero_()
            b.grad.zero_()
        """,
}
# Wrong in one function each (the others are the reference's), in a way the shipped
# examples do not show: (score, failed test -> words of its feedback, the function).
WRONG_INLINE = {
    "default_lr_changed": (9, {"test_lecture_update": "its default must be lr=1e-4"}, """
        def update(w, b, lr=1e-3):
            with torch.no_grad():
                w -= lr * w.grad
                b -= lr * b.grad
            w.grad.zero_()
            b.grad.zero_()
        """),
    "mse_detaches_targets": (9, {"test_gradients_hidden": "second argument"}, """
        def mse(t1, t2):
            return ((t1 - t2.detach()) ** 2).mean()
        """),
    "mse_keepdim": (8, {"test_lecture_loss": "0-dim", "test_loss_hidden": "0-dim"}, """
        def mse(t1, t2):
            return ((t1 - t2) ** 2).reshape(-1).mean(0, keepdim=True)
        """),
    "forward_in_float32": (9, {'test_forward_hidden': "keeps its inputs' dtype"}, """
        def forward(x, w, b):
            return (w * x + b).float()
        """),
    "forward_detaches_x": (9, {"test_lecture_gradients": "cut the graph through x"}, """
        def forward(x, w, b):
            return w * x.detach() + b
        """),
    "mse_over_last_dimension": (9, {"test_loss_hidden": "a single number"}, """
        def mse(t1, t2):
            return ((t1 - t2) ** 2).mean(-1)
        """),
}
# Wrong on purpose, with the inputs in their errors, prints and results: feedback must
# still never show a hidden number.
LEAKY_INLINE = {
    "raises_with_inputs": """
        def forward(x, w, b):
            print("forward", x.tolist(), w.item(), b.item())
            raise ValueError(f"x={x.tolist()} w={w.item()} b={b.item()}")

        def mse(t1, t2):
            print("mse", t1.tolist(), t2.tolist())
            raise ValueError(f"t1={t1.tolist()} t2={t2.tolist()}")

        def update(w, b, lr=1e-4):
            raise ValueError(f"w={w.item()} b={b.item()} grads={w.grad.item()} {b.grad.item()}")
        """,
    "carries_inputs_to_a_visible_test": """
        # a grouped run shares one worker between calls: what hidden calls gave it must
        # not come out in a later visible test's error message, which students read
        _seen = []

        def forward(x, w, b):
            _seen.append(x.flatten().tolist())
            return w * x + b + 0.5

        def mse(t1, t2):
            _seen.append(t1.flatten().tolist())
            raise ValueError(f"seen so far: {_seen}")

        def update(w, b, lr=1e-4):
            raise ValueError(f"seen so far: {_seen}")
        """,
    "names_errors_after_inputs": """
        def _leak(values):
            # a class or function name cannot hold a ".", so the digits go in as "Leak12p345"
            name = "Leak" + "_".join(str(v).replace(".", "p").replace("-", "m") for v in values)
            raise type(name, (Exception,), {})()

        def forward(x, w, b):
            _leak(x.flatten().tolist()[:3] + [w.item(), b.item()])

        def mse(t1, t2):
            _leak(t1.flatten().tolist()[:3])

        def update(w, b, lr=1e-4):
            _leak([w.item(), b.item()])
        """,
    "returns_objects_named_after_inputs": """
        def _named(values):
            name = "Leak" + "_".join(str(v).replace(".", "p").replace("-", "m") for v in values)
            return type(name, (), {})()

        def forward(x, w, b):
            return _named(x.flatten().tolist()[:3] + [w.item(), b.item()])

        def mse(t1, t2):
            return _named(t1.flatten().tolist()[:3])

        def update(w, b, lr=1e-4):
            return _named([w.item(), b.item(), w.grad.item()])
        """,
    "picks_the_line_that_raises": """
        # which line raises, chosen from a hidden input, would show as "at line N"
        _PAD = 1000

        def _raise_at(value):
            line = int(abs(value) * 100) % _PAD
            exec(compile("\\n" * line + "raise ValueError()", __file__, "exec"))

        def forward(x, w, b):
            _raise_at(x.flatten()[0].item())

        def mse(t1, t2):
            _raise_at(t1.flatten()[0].item())

        def update(w, b, lr=1e-4):
            _raise_at(w.item())
        """ + "        #\n" * 1000,
    "wrong_values": """
        def forward(x, w, b):
            return w * x * b + 0.5

        def mse(t1, t2):
            return (t1 - t2).abs().sum() * 1.5

        def update(w, b, lr=1e-4):
            with torch.no_grad():
                w *= 1 + lr
                b -= 3 * lr * b.grad
            w.grad.zero_()
        """,
    "wrong_shapes": """
        def forward(x, w, b):
            return (w * x + b).reshape(-1)[:1]

        def mse(t1, t2):
            return (t1 - t2) ** 2

        def update(w, b, lr=1e-4):
            with torch.no_grad():
                w.data = w.reshape(1) - lr * w.grad
                b.data = b.double() - lr * b.grad
            w.requires_grad_(False)
        """,
}


@dataclass
class Graded:
    result: GradingResult
    results_json: str  # the results.json file, as written
    student_view: str  # the terminal report a student may see

    def by_test(self) -> dict[str, object]:
        return {t.test_id.split("::")[-1]: t for t in self.result.tests}


def _with_correct_others(function: str) -> str:
    """A whole submission: `function`, and the reference's versions of the other two."""
    name = textwrap.dedent(function).split("(")[0].split()[-1]
    others = [textwrap.dedent(code) for other, code in CORRECT_FUNCTIONS.items() if other != name]
    return "\n".join([textwrap.dedent(function), *others])


@pytest.fixture(scope="module")
def inline(tmp_path_factory) -> dict[str, Path]:
    """The inline submissions as files."""
    folder = tmp_path_factory.mktemp("inline")
    paths = {}
    wrong = {name: _with_correct_others(body) for name, (_, _, body) in WRONG_INLINE.items()}
    for name, body in {**CORRECT_INLINE, **LEAKY_INLINE, **wrong}.items():
        path = folder / f"{name}.py"
        path.write_text(HEADER + textwrap.dedent(body))
        paths[name] = path
    return paths


@pytest.fixture(scope="module")
def grade(tmp_path_factory):
    """grade(path) -> Graded, through one Grader for the whole module; every results.json
    it writes is checked against Gradescope's format."""
    folder = tmp_path_factory.mktemp("results")
    cache: dict[Path, Graded] = {}
    with Grader() as grader:

        def run(path: Path, again: bool = False) -> Graded:
            if path in cache and not again:
                return cache[path]
            result = grader.grade(path)
            out = folder / f"{path.stem}-{len(cache)}.json"
            write_results_json(result, out)
            validate_gradescope(out)
            text = out.read_text()
            graded = Graded(result, text, report(result, staff=False))
            cache.setdefault(path, graded)
            return graded

        yield run


def validate_gradescope(path: Path) -> None:
    """Gradescope's results format: with the package's schema (tests/schema.py) when it
    is there, else the keys and types this package relies on."""
    if validate_results is not None:
        validate_results(path)
        return
    doc = json.loads(path.read_text())
    assert isinstance(doc["score"], (int, float))
    assert isinstance(doc["execution_time"], (int, float))
    assert doc["stdout_visibility"] in ("hidden", "after_due_date", "after_published", "visible")
    for test in doc["tests"]:
        assert set(test) <= {"name", "score", "max_score", "status", "output", "visibility",
                             "output_format", "tags", "number", "name_format", "extra_data"}
        assert isinstance(test["name"], str) and isinstance(test["output"], str)
        assert 0 <= test["score"] <= test["max_score"]
        assert test["status"] in ("passed", "failed")
        assert test["visibility"] in ("hidden", "after_due_date", "after_published", "visible")
    assert doc["score"] == pytest.approx(sum(t["score"] for t in doc["tests"]))


# ---------------------------------------------------------------- scores


def test_reference_earns_every_point(grade):
    graded = grade(SOLUTION)
    result = graded.result
    failed = {t.test_id: t.feedback + t.detail for t in result.tests if not t.passed}
    assert not failed
    assert (result.score, result.max_score) == (10, 10)
    assert {name: (t.max_score, t.shown_now)
            for name, t in graded.by_test().items()} == TESTS
    assert json.loads(graded.results_json)["score"] == 10


def test_points_and_visibility(grade):
    """10 points; the visible tests use the lecture's data only (what the public tests
    check, a visible test checks too), the hidden ones other data; every test is named for
    the student by its docstring."""
    tests = grade(SOLUTION).result.tests
    assert sum(t.max_score for t in tests) == 10
    assert sum(t.max_score for t in tests if t.shown_now) == 6.5
    assert all(isinstance(t.shown_now, bool) for t in tests)
    assert all(not t.name.startswith("test_") for t in tests)
    assert len({t.name for t in tests}) == len(tests)


def test_skeleton_earns_nothing(grade):
    result = grade(SKELETON).result
    assert result.score == 0 and result.max_score == 10
    for t in result.tests:
        assert "not implemented" in t.feedback, t


@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_example_mistake_loses_its_points(grade, mistake):
    score, causes = MISTAKES[mistake]
    graded = grade(EXAMPLES / f"{mistake}.py")
    tests = graded.by_test()
    failed = {name for name, t in tests.items() if not t.passed}
    assert failed == set(causes), {name: tests[name].feedback for name in failed}
    for name, cause in causes.items():
        assert cause in tests[name].feedback, tests[name].feedback
        assert not tests[name].detail, tests[name].detail  # a named cause, not a grader fault
    assert graded.result.score == score


def test_every_shipped_example_has_an_expected_score():
    shipped = {p.stem for p in EXAMPLES.glob("*.py")}
    assert shipped == set(MISTAKES)
    assert [p for p in examples(Homework.load())][:2] == [SOLUTION, SKELETON]


@pytest.mark.parametrize("path", ALTERNATIVES, ids=lambda p: p.stem)
def test_alternative_solution_earns_every_point(grade, path):
    result = grade(path).result
    assert result.score == 10, {t.name: t.feedback for t in result.tests if not t.passed}


@pytest.mark.parametrize("name", sorted(CORRECT_INLINE))
def test_other_correct_solution_earns_every_point(grade, inline, name):
    result = grade(inline[name]).result
    assert result.score == 10, {t.name: t.feedback for t in result.tests if not t.passed}


@pytest.mark.parametrize("name", sorted(WRONG_INLINE))
def test_each_mistake_costs_its_own_functions_tests_only(grade, inline, name):
    """One mistake: exactly the tests of that behaviour fail, each naming it."""
    score, causes, _ = WRONG_INLINE[name]
    tests = grade(inline[name]).by_test()
    failed = {test for test, t in tests.items() if not t.passed}
    assert failed == set(causes), {test: tests[test].feedback for test in failed}
    for test, cause in causes.items():
        assert cause in tests[test].feedback, tests[test].feedback
    assert sum(t.score for t in tests.values()) == score


def test_wrong_submissions_get_feedback_not_grader_faults(grade, inline):
    for name in LEAKY_INLINE:
        result = grade(inline[name]).result
        assert result.score == 0, {t.name: t.feedback for t in result.tests if t.passed}
        for t in result.tests:
            assert t.feedback and not t.detail, (name, t.name, t.detail)


def test_regrade_gives_the_same_result(grade):
    path = EXAMPLES / "grads_not_zeroed.py"
    first, again = grade(path), grade(path, again=True)
    assert [(t.test_id, t.score, t.feedback) for t in first.result.tests] == \
        [(t.test_id, t.score, t.feedback) for t in again.result.tests]
    assert hidden.hidden_inputs() == hidden.hidden_inputs()


# ---------------------------------------------------------------- nothing hidden leaks


def _formats(value: float) -> set[str]:
    """The ways a number may be written in a message: rounded to 2-4 decimals, 4-7
    significant digits, repr, and as float32."""
    value = abs(value)
    f32 = hidden.float32(value)
    texts = {f"{value:.2f}", f"{value:.3f}", f"{value:.4f}", repr(value), repr(f32)}
    texts |= {f"{v:.{d}g}" for v in (value, f32) for d in (4, 5, 6, 7)}
    # a whole number (a line number, a score) or two digits say nothing: keep texts with
    # a fraction and at least three significant digits
    return {t for t in texts if re.fullmatch(r"\d+\.\d*[1-9]\d*", t)
            and len(t.replace(".", "").lstrip("0")) >= 3}


def _lecture_texts() -> set[str]:
    texts: set[str] = set()
    for value in hidden.LECTURE.values():
        for v in value if isinstance(value, list) else [value]:
            texts |= _formats(v)
    return texts


def hidden_texts() -> set[str]:
    """Every hidden input and answer, written every way, except what the lecture shows."""
    lecture = _lecture_texts()
    return {t for v in hidden.all_hidden_numbers() if abs(v) >= 0.01
            for t in _formats(v)} - lecture


def student_texts(graded: Graded) -> list[str]:
    """What a student sees: results.json and the student's report, without the timings."""
    doc = json.loads(graded.results_json)
    del doc["execution_time"]
    view = re.sub(r"\(\d+\.\d+ s\)", "", graded.student_view)
    return [json.dumps(doc), view]


def leaks(text: str, forbidden: set[str]) -> list[str]:
    """The forbidden numbers written in `text` (as whole numbers: 12.34 is not in 112.345)."""
    return sorted(set(re.findall(r"\d+\.\d+", text)) & forbidden)


def test_the_leak_scan_finds_a_hidden_number():
    forbidden = hidden_texts()
    assert len(forbidden) > 100
    x = hidden.hidden_inputs().forward[1]["x"][3]
    assert leaks(f"forward got {x} instead", forbidden)
    assert leaks(f"got {x:.3f}.", forbidden)
    assert not leaks("Expected 39.4, got 197. at line 42: return w * x", forbidden)


def test_no_hidden_number_reaches_a_student(grade, inline):
    forbidden = hidden_texts()
    paths = [SOLUTION, SKELETON, *sorted(EXAMPLES.glob("*.py")), *ALTERNATIVES,
             *inline.values()]
    for path in paths:
        for text in student_texts(grade(path)):
            assert not leaks(text, forbidden), (path.name, leaks(text, forbidden))
    # an exception class named after the inputs: in hidden tests only built-in names show
    named = grade(inline["names_errors_after_inputs"])
    hidden_feedback = [t.feedback for t in named.result.tests if not t.shown_now]
    assert hidden_feedback and all("raised an exception" in f for f in hidden_feedback)
    assert "Leak" not in json.dumps([t.feedback for t in named.result.tests
                                     if not t.shown_now])
    # the line that raises, chosen by the submission: never shown in a hidden test
    lines = grade(inline["picks_the_line_that_raises"]).result
    assert all("line" not in t.feedback for t in lines.tests if not t.shown_now)
    # a returned object's class named after the inputs: its name never shows
    objects = grade(inline["returns_objects_named_after_inputs"]).result
    assert "Leak" not in json.dumps([t.feedback for t in objects.tests])
    assert all("an object of a class of its own" in t.feedback
               for t in objects.tests if t.test_id.split("::")[-1] not in UPDATE)
    # the staff's view of the leaky one does show them (what it printed): the scan works
    leaky = grade(inline["raises_with_inputs"]).result
    assert leaks(report(leaky, staff=True), forbidden)
    assert not leaks(json.dumps(to_gradescope(leaky)), forbidden)


# ---------------------------------------------------------------- the judge's own data


def test_reference_gives_the_lecture_numbers():
    """The hidden tests' lecture constants are what the reference solution computes."""
    ref, lec = hidden.load_reference(), hidden.LECTURE
    assert hidden.predict(ref, lec["x"], lec["w"], lec["b"])["value"] == pytest.approx(70)
    preds = hidden.predict(ref, lec["inputs"], lec["w"], lec["b"])["value"]
    assert preds == pytest.approx(lec["preds"])
    assert hidden.loss(ref, lec["preds"], lec["targets"])["value"] == pytest.approx(lec["loss"])
    grads = hidden.gradients(ref, lec["inputs"], lec["targets"], lec["w"], lec["b"])
    assert (grads["grad_w"], grads["grad_b"]) == pytest.approx((390, -0.4), abs=1e-4)
    path = hidden.update_paths(ref, lec["inputs"], lec["targets"], lec["w"], lec["b"],
                               lec["lr"], 1)["reference"]
    assert path[0] == pytest.approx((lec["w_after"], lec["b_after"]), abs=2e-6)
    after = hidden.loss_at(lec["inputs"], lec["targets"], *path[0])
    assert after == pytest.approx(lec["loss_after"], abs=1e-3)


def test_hidden_inputs_cover_the_cases():
    """Every dimension up to 3-d, more than one shape of each (0-d aside), float64 too."""
    h = hidden.hidden_inputs()
    for cases, key, dims in ((h.forward, "x", {0, 1, 2, 3}), (h.loss, "t1", {1, 2, 3})):
        shapes = {tuple(torch_shape(case[key])) for case in cases}
        assert {len(shape) for shape in shapes} == dims
        assert all(sum(len(s) == d for s in shapes) >= 2 for d in dims - {0})
        assert {case["dtype"] for case in cases} == {"float32", "float64"}
    numbers = hidden.all_hidden_numbers()
    assert any(v < 0 for v in numbers) and any(v != int(v) for v in numbers)
    assert h.trajectory["steps"] > 1
    assert h.trajectory["lr"] != hidden.LECTURE["lr"]


def torch_shape(value) -> list[int]:
    return [len(value), *torch_shape(value[0])] if isinstance(value, list) else []


# ---------------------------------------------------------------- one pytest session per Grader


def test_the_session_leaves_the_process_output_alone():
    """The hidden tests' pytest session lives as long as its Grader: it must not hold
    sys.stdout (pytest's capture would swallow a TA's report printed meanwhile)."""
    before = sys.stdout, sys.stderr
    with Grader() as grader:
        assert (sys.stdout, sys.stderr) == before
        assert grader.grade(SOLUTION).score == 10
        assert (sys.stdout, sys.stderr) == before


def test_broken_hidden_tests_stop_grading_with_the_reason(tmp_path):
    """A hidden test file that does not import is the course staff's fault: the Grader
    (if it runs the hidden tests when it starts, to settle its plan of calls) or every
    grade says so (with the file), never a score of zero for the student."""
    tests = tmp_path / "autograder" / "tests"  # beside a copy of solutions/, as in the repo
    shutil.copytree(ROOT / "autograder" / "tests", tests)
    shutil.copytree(ROOT / "solutions", tmp_path / "solutions")
    # a new file: pytest names hidden test modules by file name, and the process has
    # imported the real test_2_loss.py already
    (tests / "test_5_broken.py").write_text("def test_broken(:\n")
    try:
        grader = Grader(Homework.load(tests))
    except RuntimeError as caught:
        assert "did not run" in str(caught) and "test_5_broken.py" in str(caught)
        return
    with grader:
        for _ in range(2):
            with pytest.raises(RuntimeError, match="did not run") as caught:
                grader.grade(SOLUTION)
            assert "test_5_broken.py" in str(caught.value)


# ---------------------------------------------------------------- worker data and vocabulary


@pytest.fixture(scope="module")
def scenarios():
    """scenarios.py as the worker loads it, to run here on trusted modules."""
    spec = importlib.util.spec_from_file_location(
        "scenarios_in_judge", ROOT / "autograder" / "tests" / "scenarios.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _module(path: Path):
    spec = importlib.util.spec_from_file_location(f"graded_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _every_call(cases: hidden.Hidden) -> list[tuple[str, dict]]:
    lecture = hidden.LECTURE
    line = {"x": lecture["inputs"], "y": lecture["targets"], "w": lecture["w"], "b": lecture["b"]}
    return [*(("predict", case) for case in cases.forward),
            *(("loss", case) for case in cases.loss),
            ("gradients", line), ("loss_gradients", cases.gradients),
            ("update_steps", {**cases.trajectory})]


def test_what_scenarios_send_fits_their_schemas(scenarios):
    """SCHEMAS says what each scenario sends: for the reference and for every shipped
    mistake (non-tensors, no graph, wrong values), on every hidden input."""
    cases = hidden.hidden_inputs()
    modules = [_module(SOLUTION), *(_module(p) for p in sorted(EXAMPLES.glob("*.py")))]
    for module in modules:
        for scenario, args in _every_call(cases):
            try:
                value = getattr(scenarios, scenario)(module, **args)
            except Exception:  # the mistake raises (update outside no_grad): no data to check
                continue
            assert feedback.checked(scenario, value, "it") is value, (module, scenario)
    assert set(feedback.SCHEMAS) == {name for name in vars(scenarios)
                                     if not name.startswith("_") and callable(
                                         getattr(scenarios, name)) and name != "torch"}


def _deep(levels: int):
    value = 1.0
    for _ in range(levels):
        value = [value]
    return value


def test_malformed_worker_data_fails_the_test_with_a_message_about_the_submission(scenarios):
    ref = _module(SOLUTION)
    good = scenarios.predict(ref, x=[1.5, 2.5], w=2.0, b=1.0)
    steps = scenarios.update_steps(ref, x=[1.0, 2.0], y=[3.0, 4.0], w=0.5, b=0.5, lr=0.1,
                                   steps=2)
    malformed = [
        ("predict", {**good, "result": {**good["result"], "value": _deep(900)}}),
        ("predict", {**good, "result": {**good["result"], "shape": "(2,)"}}),
        ("predict", {**good, "result": {**good["result"], "dtype": None}}),
        ("predict", {**good, "x_unchanged": 1}),
        ("predict", {**good, "extra": 1}),
        ("predict", [good]),
        ("update_steps", {**steps, "steps": [{"w": _deep(900)}]}),
        ("update_steps", {**steps, "loss_after": "low"}),
        ("update_steps", {**steps, "steps": steps["steps"] * 1000}),
        ("loss", {"result": _deep(900), "inputs_unchanged": True}),
    ]
    for scenario, value in malformed:
        with pytest.raises(Feedback, match="is not what this test's own code sends"):
            feedback.checked(scenario, value, "forward()")


def test_feedback_names_come_from_a_closed_vocabulary():
    assert feedback.error_name("RuntimeError") == "RuntimeError"
    assert feedback.error_name("Leak12p34") == "an exception"
    assert feedback.error_name("print") == "an exception"  # a builtin, not an exception
    assert feedback.dtype_name({"dtype": "torch.float64"}) == "torch.float64"
    assert feedback.dtype_name({"dtype": "torch.Leak12p34"}) == "another dtype"
    leak = {"type": "Leak12p34", "module": "regression", "tensor": False}
    disguised = {**leak, "module": "numpy"}
    for desc in (leak, disguised, {**leak, "module": "builtins"}, {**leak, "module": "torch"},
                 {**leak, "tensor_subclass": True}):
        assert "Leak" not in feedback.returned_problem(desc, "forward()")
    assert "numpy array" in feedback.returned_problem({**disguised, "type": "ndarray"}, "mse()")
