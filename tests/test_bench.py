"""`make bench`: the class it builds is the mix it claims to be.

The benchmark itself takes minutes (even a class of 4 takes about 40 s: it starts
otter and several graders), so it is not run here; what can silently go wrong without
anyone noticing, the class builder, is checked instead, in well under a second.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib.util
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

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


# --- make bench-gradescope -----------------------------------------------------------------


def load_gradescope_bench():
    spec = importlib.util.spec_from_file_location("bench_gradescope",
                                                  ROOT / "bench" / "gradescope.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_gradescope"] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_the_gradescope_benchmark_says_what_it_measures():
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "gradescope.py"), "--help"],
                          capture_output=True, text=True, timeout=60, check=True)
    assert "--repeat" in done.stdout and "Gradescope" in done.stdout


def test_its_submissions_are_correct_and_do_what_they_say():
    """Without Gradescope's limits (and with time to spare on a busy machine) both earn
    full marks; one holds 400 MiB, the other spends 2 CPU-seconds at import."""
    from autograder.grade import Grader
    from autograder.limits import DEFAULT_LIMITS

    bench = load_gradescope_bench()
    roomy = dataclasses.replace(DEFAULT_LIMITS, wall_seconds=120, cpu_seconds=120)
    with Grader(limits=roomy) as grader:
        for name in ("holds_400mb.py", "top_level_work.py"):
            result = grader.grade(bench.SUBMISSIONS / name)
            assert result.score == result.max_score > 0, (name, result.tests)
    ballast = ast.parse((bench.SUBMISSIONS / "holds_400mb.py").read_text())
    assert "torch.ones(100 * 1024 * 1024)" in ast.unparse(ballast)  # float32: 400 MiB
    code = "import resource, runpy, sys; runpy.run_path(sys.argv[1]); " \
           "u = resource.getrusage(resource.RUSAGE_SELF); print(u.ru_utime + u.ru_stime)"
    work = str(bench.SUBMISSIONS / "top_level_work.py")
    done = subprocess.run([sys.executable, "-c", code, work],
                          capture_output=True, text=True, timeout=300, check=True)
    assert float(done.stdout) >= 2.0


def test_a_process_in_the_container_is_in_its_cgroups_with_its_limits():
    bench = load_gradescope_bench()
    box, why = bench.Container.make()
    if box is None:
        pytest.skip(f"no cgroup here: {why}")
    try:
        done, _, _ = box.run(["cat", "/proc/self/cgroup"], capture_output=True, text=True,
                             check=True)
        for folder in box.folders:
            assert f"{folder.name}\n" in done.stdout
        limit = "memory.limit_in_bytes" if box.version == 1 else "memory.max"
        assert int((box.folders[0] / limit).read_text()) == bench.MEMORY_BYTES
    finally:
        box.close()
    assert not any(folder.exists() for folder in box.folders)
