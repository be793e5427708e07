"""`make bench`: the class it builds is the mix it claims to be.

The benchmark itself takes minutes (even a class of 4 takes about 40 s: it starts
otter and several graders), so it is not run here; what can silently go wrong without
anyone noticing, the class builder, is checked instead, in well under a second.
"""

from __future__ import annotations

import ast
import importlib.util
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = {p.read_text(): p.stem for p in (ROOT / "examples").glob("*.py")}


def load_bench():
    spec = importlib.util.spec_from_file_location("bench", ROOT / "bench" / "bench.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench"] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_the_class_is_the_promised_mix(tmp_path):
    bench = load_bench()
    kinds = bench.make_class(tmp_path / "class", 200)
    assert len(kinds) == 200 == len(list((tmp_path / "class").glob("student*.py")))
    counts = Counter(kind.split(":")[0] for kind in kinds.values())
    assert counts == {"reference": 69, "mistake": 91, "skeleton": 20, "syntax error": 18,
                      "endless loop": 2}
    used = {kind.split(":")[1] for kind in kinds.values() if kind.startswith("mistake:")}
    assert used == set(EXAMPLES.values()), "every typical mistake is in the class"
    assert list(kinds.values())[:10] != sorted(kinds.values())[:10], "kinds are spread"
    reference = (ROOT / "solutions" / "regression.py").read_text()
    for name, kind in kinds.items():
        text = (tmp_path / "class" / name).read_text()
        if kind == "syntax error":
            try:
                ast.parse(text)
            except SyntaxError:
                continue
            raise AssertionError(f"{name} should not parse")
        ast.parse(text)
        if kind == "reference":
            assert text == reference
        elif kind.startswith("mistake:"):
            assert EXAMPLES[text] == kind.split(":")[1]
        elif kind == "endless loop":
            assert "\nwhile mse(" in text and '__name__ == "__main__"' not in text


def test_a_small_class_has_no_endless_loop(tmp_path):
    kinds = load_bench().make_class(tmp_path / "class", 40)
    assert len(kinds) == 40 and "endless loop" not in kinds.values()


def test_the_benchmark_says_what_it_measures():
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "bench.py"), "--help"],
                          capture_output=True, text=True, timeout=60, check=True)
    for option in ("--n", "--jobs", "--grade-sample", "--otter-sample", "--repeat"):
        assert option in done.stdout
