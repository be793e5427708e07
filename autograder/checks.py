"""Checks that any homework's hidden tests reuse: comparing numbers, checking what a worker
sent, running a scenario.

A test author gets feedback that is safe by construction:
- a closed vocabulary: an exception or a type is named only from fixed sets (error_name,
  BUILTIN_TYPES, NUMPY_TYPES), never by a name the submission chose, which could be made
  of the hidden inputs;
- no hidden numbers in messages: in a hidden test a failed call is named by its
  exception alone (no text, no line), and a hint is the judge's own words, chosen from
  the error's text, never quoting it;
- data checked before it is read: a scenario's data must fit its schema (valid: bounded
  depth and size, walked without recursion) before a test reads any of it, so a
  submission that sends something else fails its test with a message, not the grader.
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from autograder.judge import Feedback, fail
from autograder.text import BUILTIN_EXCEPTIONS

if TYPE_CHECKING:
    from autograder.sandbox import Outcome

__all__ = ["BUILTIN_TYPES", "MALFORMED", "NUMBER", "NUMPY_TYPES", "SHAPE", "VALUES",
           "Feedback", "Runner", "Runs", "close", "error_name", "fail", "fmt", "fmt_shape",
           "is_number", "shape_of", "valid"]


# ---------------------------------------------------------------- comparing numbers


def is_number(value: Any) -> bool:
    """An int or a float, not a bool (True is not 1 in an answer)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def close(got: Any, want: Any, rel: float = 1e-4, abs_: float = 1e-4) -> bool:
    """Same nesting and every number within tolerance; never true for None, a bool or NaN."""
    if isinstance(want, (list, tuple)):
        return (isinstance(got, (list, tuple)) and len(got) == len(want)
                and all(close(g, w, rel, abs_) for g, w in zip(got, want, strict=True)))
    if not is_number(got):
        return False
    return math.isclose(got, want, rel_tol=rel, abs_tol=abs_)


def fmt(value: Any, digits: int = 6) -> str:
    """A number or list as a student reads it: 70, 39.4, [-50, 10, 60]."""
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(fmt(v, digits) for v in value) + "]"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def fmt_shape(shape: Sequence[int]) -> str:
    """A shape as Python writes it: (), (5,), (2, 3)."""
    return "(" + ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"


def shape_of(value: Any) -> list[int]:
    """The shape of a plain number or nested list (one of the test's own inputs)."""
    return [len(value), *shape_of(value[0])] if isinstance(value, list) else []


def numbers_in(*values: Any) -> list[float]:
    """Every number in plain data (nested lists, tuples, dicts): a test of the package
    scans student-visible text for the hidden ones."""
    numbers: list[float] = []
    todo = list(reversed(values))
    while todo:
        value = todo.pop()
        if isinstance(value, (list, tuple)):
            todo.extend(reversed(value))
        elif isinstance(value, dict):
            todo.extend(reversed(list(value.values())))
        elif is_number(value):
            numbers.append(float(value))
    return numbers


# ---------------------------------------------------------------- what a worker may send

# A schema is a type, a tuple of alternatives, a dict of keys (a key ending in "?" may be
# missing), a one-item list for a list of those, None, or one of these names: NUMBER (an
# int or float), VALUES (a number or lists of numbers), SHAPE (a list of sizes).
NUMBER, VALUES, SHAPE = "number", "values", "shape"
_MAX_DEPTH, _MAX_NUMBERS, _MAX_TEXT, _MAX_ITEMS, _MAX_DIMS = 4, 20_000, 200, 100, 8


def _values_ok(value: Any) -> bool:
    """A number, or lists of numbers nested at most _MAX_DEPTH deep: walked without
    recursion, so a value nested 900 deep is refused, not a RecursionError."""
    todo, count = [(value, 0)], 0
    while todo:
        item, depth = todo.pop()
        count += 1
        if count > _MAX_NUMBERS:
            return False
        if isinstance(item, list):
            if depth >= _MAX_DEPTH:
                return False
            todo.extend((v, depth + 1) for v in item)
        elif not is_number(item):
            return False
    return True


def valid(value: Any, schema: Any) -> bool:
    """Whether worker data has the shape `schema` describes. Only the schema's own nesting
    is recursed into; strings, lists and numbers are capped in size."""
    if schema is None:
        return value is None
    if isinstance(schema, tuple):
        return any(valid(value, alternative) for alternative in schema)
    if schema == NUMBER:
        return is_number(value)
    if schema == VALUES:
        return _values_ok(value)
    if schema == SHAPE:
        return (isinstance(value, list) and len(value) <= _MAX_DIMS
                and all(isinstance(n, int) and not isinstance(n, bool) and 0 <= n for n in value))
    if isinstance(schema, list):
        return (isinstance(value, list) and len(value) <= _MAX_ITEMS
                and all(valid(item, schema[0]) for item in value))
    if isinstance(schema, dict):
        if not isinstance(value, dict):
            return False
        keys = {key.rstrip("?"): key for key in schema}
        return (set(value) <= set(keys)
                and all(key in value for key in schema if not key.endswith("?"))
                and all(valid(value[name], schema[key]) for name, key in keys.items()
                        if name in value))
    if schema is str:
        return isinstance(value, str) and len(value) <= _MAX_TEXT
    return isinstance(value, schema) and not (schema is int and isinstance(value, bool))


def _schema_problem(schema: Any, where: str) -> str | None:
    """What is wrong with a schema a test author wrote, or None (checked once, by Runner)."""
    if schema is None or schema in (NUMBER, VALUES, SHAPE):
        return None
    if isinstance(schema, tuple):
        parts = [_schema_problem(s, f"{where}[{i}]") for i, s in enumerate(schema)]
        return next((p for p in parts if p), None)
    if isinstance(schema, list):
        if len(schema) != 1:
            return f"{where}: a list schema has exactly one item, the schema of its items"
        return _schema_problem(schema[0], f"{where}[0]")
    if isinstance(schema, dict):
        for key, part in schema.items():
            if not isinstance(key, str):
                return f"{where}: a dict schema's keys are strings, not {key!r}"
            problem = _schema_problem(part, f"{where}[{key!r}]")
            if problem:
                return problem
        return None
    if isinstance(schema, type):
        return None
    return (f"{where}: {schema!r} is not a schema (a type, a tuple, a dict, a one-item list, "
            "None, NUMBER, VALUES or SHAPE)")


# ---------------------------------------------------------------- a closed vocabulary

# Feedback names a type or an exception only from these fixed sets, never with a name the
# submission chose (a class named after the hidden inputs would carry them out).
BUILTIN_TYPES = frozenset({name for name, value in vars(builtins).items()
                           if isinstance(value, type)} | {"NoneType"})
NUMPY_TYPES = frozenset({"ndarray", "matrix", "bool_", "float16", "float32", "float64",
                         "longdouble", "int8", "int16", "int32", "int64", "uint8", "uint16",
                         "uint32", "uint64", "complex64", "complex128"})


def error_name(name: Any) -> str:
    """An exception's name if it is a built-in one, else "an exception"."""
    return name if isinstance(name, str) and name in BUILTIN_EXCEPTIONS else "an exception"


# ---------------------------------------------------------------- running scenarios

MALFORMED = ("What came back from {what} is not what this test's own code sends, so it cannot "
             "be judged. That happens when a submission changes a library or the grader's "
             "code in its worker, or returns an object that does: use the library's plain "
             "operations, and leave it as it is.")


class Runs(Protocol):
    """What Runner needs of a submission (autograder.judge.Submission is one)."""

    public: bool  # False in a hidden test: the student's own error text is withheld

    def run(self, scenario: str, **args: Any) -> Outcome: ...

    def explain(self, outcome: Outcome, what: str) -> str: ...


class Runner:
    """Runs a homework's scenarios for its tests: a failed call or malformed data fails
    the test with feedback, so a test reads only data that fits its scenario's schema.

    `schemas` maps each scenario to the schema of its data; `hints` are (pattern, hint)
    pairs: the first hint whose pattern is in the error's text is added to the feedback;
    `malformed` is the feedback for data that does not fit ({what} is the call's name);
    `extra_check` judges data that fits its schema further (it may recurse: the schema
    bounds the data's depth)."""

    def __init__(self, schemas: dict[str, Any], *, hints: Sequence[tuple[str, str]] = (),
                 malformed: str = MALFORMED,
                 extra_check: Callable[[Any], bool] | None = None) -> None:
        for scenario, schema in schemas.items():
            problem = _schema_problem(schema, f"schemas[{scenario!r}]")
            if problem:
                raise ValueError(problem)
        try:
            malformed.format(what="f()")
        except (KeyError, IndexError, ValueError) as error:
            raise ValueError(f"malformed may hold {{what}} and no other field: {error!r}") from None
        self.schemas = dict(schemas)
        self.hints = tuple(hints)
        self.malformed = malformed
        self.extra_check = extra_check

    def run(self, submission: Runs, scenario: str, what: str, **args: Any) -> Any:
        """Run a scenario and return its data, checked. If the student's code failed, fail
        the test saying what went wrong, plus a hint when the error is a well-known one."""
        outcome = submission.run(scenario, **args)
        if not outcome.ok:
            error = outcome.error if isinstance(outcome.error, dict) else {}
            if outcome.status == "error" and not submission.public:
                # no line or function: which line raises is the worker's choice, and so could
                # carry a hidden input out (a line number is not a number the test owns)
                message = f"{what} raised {error_name(error.get('type'))}."
            else:
                message = submission.explain(outcome, what)
            text = error.get("message") or ""
            hints = [hint for pattern, hint in self.hints
                     if isinstance(text, str) and pattern in text]
            fail("\n".join([message, *hints[:1]]))
        return self.checked(scenario, outcome.value, what)

    def checked(self, scenario: str, value: Any, what: str) -> Any:
        """A scenario's data if it fits its schema (and extra_check); else the test fails,
        saying so (never "the grader could not run this test": the malformed data is the
        submission's doing)."""
        if scenario not in self.schemas:
            raise KeyError(f"no schema for scenario {scenario!r} (known: {sorted(self.schemas)})")
        fits = valid(value, self.schemas[scenario])
        if not (fits and (self.extra_check is None or self.extra_check(value))):
            fail(self.malformed.format(what=what))
        return value
