"""autograder.checks, the library every homework's hidden tests import, on plain data:
schemas accept what fits and refuse the rest (however deep), comparisons refuse what is not
a number, names come from a closed vocabulary, and Runner turns a failed call or malformed
data into feedback that quotes nothing the submission chose."""

from __future__ import annotations

import builtins
import math
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from autograder.checks import (
    BUILTIN_TYPES,
    MALFORMED,
    NUMBER,
    SHAPE,
    VALUES,
    Feedback,
    Runner,
    close,
    error_name,
    fail,
    fmt,
    fmt_shape,
    numbers_in,
    shape_of,
    valid,
)
from autograder.sandbox import Outcome

ROOT = Path(__file__).resolve().parents[1]
POINT = {"x": NUMBER, "label?": str, "tags": [str], "seen": (None, bool)}


def _deep(levels: int, leaf: Any = 1.0) -> Any:
    value = leaf
    for _ in range(levels):
        value = [value]
    return value


# ---------------------------------------------------------------- valid()


@pytest.mark.parametrize("value, schema", [
    (None, None),
    (3, NUMBER), (2.5, NUMBER), (float("nan"), NUMBER),
    (1.0, VALUES), ([1, 2.5], VALUES), ([[1.0, 2.0], [3.0, 4.0]], VALUES), ([], VALUES),
    (_deep(4), VALUES),
    ([], SHAPE), ([0, 5, 3], SHAPE), ([1] * 8, SHAPE),
    ("text", str), (7, int), (True, bool),
    (None, (None, VALUES)), ([1.0], (None, VALUES)),
    ({"x": 1, "tags": [], "seen": None}, POINT),
    ({"x": 1.5, "label": "a", "tags": ["b", "c"], "seen": True}, POINT),
    ([{"x": 1, "tags": [], "seen": False}] * 3, [POINT]),
])
def test_valid_accepts_what_fits(value, schema):
    assert valid(value, schema)


@pytest.mark.parametrize("value, schema", [
    (0, None),
    (True, NUMBER), ("3", NUMBER), (None, NUMBER), ([3], NUMBER),
    ([1, "2"], VALUES), ([True], VALUES), ({"a": 1}, VALUES), ((1, 2), VALUES),
    (_deep(5), VALUES),
    ([1] * 9, SHAPE), ([-1], SHAPE), ([True], SHAPE), ([2.0], SHAPE), ("(2,)", SHAPE),
    ("x" * 201, str), (True, int), (1, bool), (1, str),
    ("low", (None, VALUES)),
    ({"tags": [], "seen": None}, POINT),  # "x" is not optional
    ({"x": 1, "tags": [], "seen": None, "extra": 1}, POINT),
    ({"x": 1, "tags": [3], "seen": None}, POINT),
    ({"x": 1, "tags": [], "seen": None, "label": None}, POINT),  # may be missing, not None
    ([{"x": 1, "tags": [], "seen": None}], POINT),
    ([{"x": 1, "tags": [], "seen": None}] * 101, [POINT]),
    ({"x": 1, "tags": [], "seen": None}, [POINT]),
])
def test_valid_refuses_what_does_not_fit(value, schema):
    assert not valid(value, schema)


def test_deep_or_huge_data_is_refused_without_recursion():
    too_deep = _deep(100_000)  # far past the interpreter's recursion limit
    for schema in (VALUES, (None, VALUES), [VALUES], {"v": VALUES}, NUMBER, SHAPE, str):
        assert not valid(too_deep, schema)
    assert not valid({"v": too_deep}, {"v": VALUES})
    assert not valid([0.0] * 20_001, VALUES)
    assert valid([0.0] * 19_999, VALUES)


# ---------------------------------------------------------------- comparing, showing


def test_close_compares_numbers_only():
    assert close(70.00001, 70)
    assert close([1.0, [2.0, 3.0]], (1, (2, 3)))
    assert close(1e-5, 0)  # within the absolute tolerance
    assert not close(70.1, 70)
    assert close(70.1, 70, rel=1e-2)
    assert not close(1e-5, 0, abs_=1e-9)
    nan = float("nan")
    for got, want in [(nan, nan), (nan, 1.0), (None, 0.0), (None, None), (True, 1),
                      (False, 0), ("70", 70), ([1.0], 1.0), (1.0, [1.0]), ([1.0, 2.0], [1.0]),
                      ([1.0], [1.0, 2.0]), ({"a": 1}, [1.0]), ([None], [0.0])]:
        assert not close(got, want), (got, want)
    assert not close(math.inf, 1e308)


def test_fmt_shape_of_and_fmt_shape():
    assert fmt([-50.0, 10.0, 39.4]) == "[-50, 10, 39.4]"
    assert fmt(1.9609999, 4) == "1.961"
    assert fmt(None) == "None"
    assert shape_of([[1, 2, 3], [4, 5, 6]]) == [2, 3]
    assert shape_of(2.0) == []
    assert [fmt_shape(s) for s in ([], [5], [2, 3])] == ["()", "(5,)", "(2, 3)"]


# ---------------------------------------------------------------- a closed vocabulary


def test_error_name_says_only_built_in_exception_names():
    assert error_name("ZeroDivisionError") == "ZeroDivisionError"
    assert error_name("KeyboardInterrupt") == "KeyboardInterrupt"
    said = {error_name(name) for name in (
        "Leak12p34", "print", "int", "NoneType", "", "ValueError: 12.5", "valueerror",
        None, 3, ["ValueError"], b"ValueError", "__import__", "builtins.ValueError")}
    assert said == {"an exception"}
    for name, value in vars(builtins).items():
        expected = name if isinstance(value, type) and issubclass(value, BaseException) \
            else "an exception"
        assert error_name(name) == expected, name
    assert {"int", "float", "list", "NoneType", "ValueError"} <= BUILTIN_TYPES
    assert "print" not in BUILTIN_TYPES


# ---------------------------------------------------------------- Runner


@dataclass
class StandIn:
    """A submission as Runner sees one: each scenario has one outcome, given beforehand."""

    outcomes: dict[str, Outcome]
    public: bool = False
    calls: list[tuple[str, dict]] = field(default_factory=list)

    def run(self, scenario: str, **args: Any) -> Outcome:
        self.calls.append((scenario, args))
        return self.outcomes[scenario]

    def explain(self, outcome: Outcome, what: str) -> str:
        return f"{what} went wrong ({outcome.status}), explained by the submission's handle."


SCHEMAS = {"double": {"value": VALUES}, "count": {"n": int, "note?": str}}
HINTS = [("division by zero", "Hint: the list was empty."),
         ("zero", "Hint: a second hint that must not be added."),
         ("unsupported operand", "Hint: add numbers, not strings.")]


def _runner(**kwargs: Any) -> Runner:
    return Runner(SCHEMAS, hints=HINTS, **kwargs)


def _feedback(runner: Runner, submission: StandIn, scenario: str = "double",
              what: str = "double()") -> str:
    with pytest.raises(Feedback) as raised:
        runner.run(submission, scenario, what, x=[1.0, 2.0])
    return str(raised.value)


def test_runner_returns_data_that_fits_and_passes_the_arguments():
    data = {"value": [2.0, 4.0]}
    submission = StandIn({"double": Outcome("ok", value=data)})
    assert _runner().run(submission, "double", "double()", x=[1.0, 2.0]) is data
    assert submission.calls == [("double", {"x": [1.0, 2.0]})]


def test_runner_fails_malformed_data_with_the_malformed_message():
    default, own = _runner(), _runner(malformed="{what} sent something odd.")
    for value in ({"value": "12.5"}, {"value": _deep(100_000)}, {"value": [1.0], "x": 1},
                  [{"value": 1.0}], None, {"n": 3}):
        submission = StandIn({"double": Outcome("ok", value=value)})
        assert _feedback(default, submission) == MALFORMED.format(what="double()")
        assert _feedback(own, submission) == "double() sent something odd."
        assert "12.5" not in MALFORMED.format(what="double()")


def test_runner_extra_check_judges_data_that_fits():
    seen = []

    def positive(value: Any) -> bool:
        seen.append(value)
        return all(v > 0 for v in value["value"])

    runner = _runner(extra_check=positive)
    good, bad = {"value": [1.0]}, {"value": [-1.0]}
    assert runner.checked("double", good, "double()") is good
    with pytest.raises(Feedback, match="is not what this test's own code sends"):
        runner.checked("double", bad, "double()")
    with pytest.raises(Feedback):
        runner.checked("double", {"value": "no"}, "double()")
    assert seen == [good, bad]  # never called on data that does not fit its schema


def test_a_hidden_test_names_the_exception_alone_and_adds_one_hint():
    error = {"type": "ZeroDivisionError", "message": "division by zero for x=[17.25]",
             "line": 3, "function": "double"}
    submission = StandIn({"double": Outcome("error", error=error)})
    text = _feedback(_runner(), submission)
    assert text == "double() raised ZeroDivisionError.\nHint: the list was empty."
    own = {**error, "type": "Leak17p25Error", "message": "17.25"}
    text = _feedback(_runner(), StandIn({"double": Outcome("error", error=own)}))
    assert text == "double() raised an exception."
    for odd in (None, {}, {"type": 3, "message": ["division by zero"]}):
        text = _feedback(_runner(), StandIn({"double": Outcome("error", error=odd)}))
        assert text == "double() raised an exception."


def test_a_visible_test_explains_through_the_submission_with_a_hint():
    error = {"type": "TypeError", "message": "unsupported operand type(s) for +"}
    submission = StandIn({"double": Outcome("error", error=error)}, public=True)
    assert _feedback(_runner(), submission) == (
        "double() went wrong (error), explained by the submission's handle.\n"
        "Hint: add numbers, not strings.")
    for status in ("timeout", "not_implemented", "crash"):  # hidden or not: the handle says
        submission = StandIn({"double": Outcome(status, message="stopped")})
        assert _feedback(_runner(), submission, what="d()") == (
            f"d() went wrong ({status}), explained by the submission's handle.")


def test_runner_refuses_a_schema_or_a_scenario_it_does_not_know():
    for schema in ([int, str], [], 3, "numbr", {1: int}, {"a": [str, int]}, (None, "x")):
        with pytest.raises(ValueError, match="schema"):
            Runner({"s": schema})
    with pytest.raises(ValueError, match="what"):
        Runner({}, malformed="{what} sent {value}")
    runner = Runner({"s": {"a?": [VALUES], "b": (None, SHAPE, str)}})
    with pytest.raises(KeyError, match="no schema for scenario 'other'"):
        runner.checked("other", {}, "f()")


def test_fail_raises_feedback():
    with pytest.raises(Feedback, match="^the message$"):
        fail("the message")
    assert issubclass(Feedback, AssertionError)


def test_the_library_imports_neither_torch_nor_numpy():
    """A homework of any library imports checks; the judge must stay without torch."""
    code = ("import sys, autograder.checks; "
            "print(sorted({'torch', 'numpy'} & {m.split('.')[0] for m in sys.modules}))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, cwd=ROOT)
    assert done.stdout.strip() == "[]"


def test_numbers_in_finds_every_number_in_order_and_no_bool():
    data = {"x": [1, [2.5, (3,)]], "flag": True, "name": "7", "deep": [[[[[-4]]]]]}
    assert numbers_in(data, 8, None, [9.0]) == [1.0, 2.5, 3.0, -4.0, 8.0, 9.0]
    deep: list = [5]
    for _ in range(100_000):  # walked without recursion
        deep = [deep]
    assert numbers_in(deep) == [5.0]
