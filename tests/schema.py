"""Gradescope's results.json format, checked: `from schema import validate_results`.

pytest puts tests/ on sys.path (it has no __init__.py and the default import mode is
`prepend`), so any test file here can import this module by its plain name.
"""

from __future__ import annotations

import functools
import json
import math
from pathlib import Path
from typing import Any

import jsonschema

SCHEMA_PATH = Path(__file__).with_name("gradescope_results.schema.json")


@functools.cache
def _validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def validate_results(results: str | Path | dict[str, Any]) -> dict[str, Any]:
    """Check a results.json (a path, or the parsed dict) against Gradescope's format and
    return it parsed. Raises jsonschema.ValidationError naming the first bad field, and
    ValueError for JSON Gradescope would refuse to parse (NaN or Infinity)."""
    if not isinstance(results, dict):
        results = json.loads(Path(results).read_text(), parse_constant=_refuse_constant)
    errors = sorted(_validator().iter_errors(results), key=lambda e: list(e.absolute_path))
    if errors:
        raise errors[0]
    for number in _numbers(results):
        if not math.isfinite(number):
            raise ValueError(f"results.json holds a non-finite number: {number}")
    return results


def _refuse_constant(name: str) -> float:
    raise ValueError(f"results.json holds {name}, which is not JSON")


def _numbers(value: Any):
    if isinstance(value, float):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _numbers(item)
    elif isinstance(value, list):
        for item in value:
            yield from _numbers(item)
