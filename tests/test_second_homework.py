"""The engine knows no homework: a second one (tests/second_homework: stats.py with numpy,
other functions, its own homework.toml) is graded by the same engine, through the same
commands a TA types, with nothing of the first homework on the way.

Everything runs as people run it: `make ... HOMEWORK=tests/second_homework` in a real
subprocess, with the real sandbox; the second homework's own files (reference, starter,
examples, hidden inputs) are the test data.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path
from types import ModuleType

import jsonschema
import pytest
from schema import validate_results

from autograder.class_report import OTHER, causes
from autograder.homework import Homework

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / "tests" / "second_homework"
HOMEWORK = Homework.load(FOLDER)
REFERENCE, STARTER = HOMEWORK.reference, HOMEWORK.skeleton
EXAMPLES = {path.stem: path for path in HOMEWORK.examples}
ENV = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
FUNCTIONS = ("standardize()", "softmax()", "clip_norm()")
# each example's mistake: the one function it gets wrong, words its feedback must say,
# and the cause (homework.toml's [causes]) the class report counts it under
MISTAKES = {
    "sample_std": ("standardize()", "sample standard deviation (ddof=1)",
                   "sample std (ddof=1)"),
    "unstable_softmax": ("softmax()", "np.exp overflows", "softmax not stabilized"),
    "softmax_whole_array": ("softmax()", "normalizes the whole array",
                            "softmax over the whole array"),
    "always_rescales": ("clip_norm()", "already within max_norm",
                        "clip_norm rescales short vectors"),
    "returns_list": ("clip_norm()", "returned a Python list, not a numpy array",
                     "returned a list"),
}


def make(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    """A make target for the second homework, as a TA types it."""
    done = subprocess.run(["make", "--no-print-directory", *args,
                           f"HOMEWORK={FOLDER.relative_to(ROOT)}", f"PY={sys.executable}"],
                          cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"make {' '.join(args)}:\n{done.stdout[-3000:]}\n" \
                                 f"{done.stderr[-3000:]}"
    return done


def grade(submission: Path, tmp_path: Path) -> tuple[dict, str]:
    """One submission graded alone, as `make grade` grades it: its results.json (checked
    against Gradescope's format) and what the student sees of the run."""
    results = tmp_path / f"{submission.stem}-{len(list(tmp_path.iterdir()))}.json"
    done = subprocess.run([sys.executable, "-m", "autograder.grade", "--homework", str(FOLDER),
                           str(submission), "--results", str(results), "--student-view"],
                          cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return validate_results(results), done.stdout


def load_hidden() -> ModuleType:
    """The second homework's hidden.py (its hidden inputs and answers), loaded by path."""
    spec = importlib.util.spec_from_file_location("_second_homework_hidden", FOLDER / "hidden.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks itself up there
    spec.loader.exec_module(module)
    return module


def unescaped(markdown: str) -> str:
    """A test's output as the student reads it (results.json holds Markdown, escaped)."""
    return re.sub(r"\\(.)", r"\1", markdown)


def function_of(test: dict) -> str:
    return next(f for f in FUNCTIONS if f in test["name"])


# ---------------------------------------------------------------- (a) make grade


@pytest.fixture(scope="module")
def table() -> dict[str, tuple[float, float]]:
    """`make grade HOMEWORK=...`: the score table of the reference, starter and examples."""
    done = make("grade")
    rows = {}
    for line in done.stdout.splitlines():
        match = re.fullmatch(r"(\S+)\s+(\d+(?:\.\d+)?)/(\d+(?:\.\d+)?)\s+\d+\.\d+ s", line.strip())
        if match:
            rows[str((ROOT / match[1]).resolve())] = (float(match[2]), float(match[3]))
    return rows


def test_make_grade_scores_the_reference_the_starter_and_every_example(table):
    shown = [REFERENCE, STARTER, *EXAMPLES.values()]
    assert set(table) == {str(p) for p in shown}, table
    most = table[str(REFERENCE)][1]
    assert most > 0 and table[str(REFERENCE)] == (most, most)
    assert table[str(STARTER)] == (0, most)
    for name, path in EXAMPLES.items():
        score, maximum = table[str(path)]
        assert maximum == most and 0 < score < most, (name, score)


# ---------------------------------------------------------------- (b) one results.json


def test_make_grade_writes_results_json_naming_the_mistake(tmp_path):
    """Every example loses exactly the tests of the function it gets wrong, and the
    feedback of each says what the mistake is."""
    for name, path in EXAMPLES.items():
        results = tmp_path / f"{name}.json"
        make("grade", f"SUBMISSION={path}", f"RESULTS={results}")
        data = validate_results(results)
        tests = data["tests"]
        assert {function_of(t) for t in tests} == set(FUNCTIONS)
        function, words, _ = MISTAKES[name]
        wrong = [t for t in tests if function_of(t) == function]
        assert all(t["score"] == t["max_score"] for t in tests if t not in wrong), (name, tests)
        failed = [t for t in wrong if t["score"] < t["max_score"]]
        assert failed, name
        assert all(words in unescaped(t["output"]) for t in failed), (name, failed)
        assert data["score"] == sum(t["score"] for t in tests)
        assert data["score"] == sum(t["max_score"] for t in tests) \
            - sum(t["max_score"] for t in failed)


def test_make_grade_writes_prairielearn_results_too(tmp_path):
    """The other platform's adapter serves this homework as it is: the same score, as a
    fraction, in a results.json valid against PrairieLearn's documented format."""
    gradescope, prairielearn = tmp_path / "gradescope.json", tmp_path / "prairielearn.json"
    path = EXAMPLES["sample_std"]
    make("grade", f"SUBMISSION={path}", f"RESULTS={gradescope}")
    make("grade", f"SUBMISSION={path}", f"RESULTS={prairielearn}", "FORMAT=prairielearn")
    data = json.loads(prairielearn.read_text())
    schema = json.loads((ROOT / "tests" / "prairielearn_results.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(data)
    graded = validate_results(gradescope)
    most = sum(t["max_score"] for t in graded["tests"])
    assert data["gradable"] and 0 < data["score"] < 1
    assert data["score"] == pytest.approx(graded["score"] / most)
    assert any("sample standard deviation" in t["message"] for t in data["tests"])


# ---------------------------------------------------------------- (c) make grade-all


ALONE = """
import json, sys
from dataclasses import asdict
from pathlib import Path
from autograder.grade import Grader
from autograder.class_report import OTHER, causes
from autograder.homework import Homework
with Grader(Homework.load(sys.argv[1])) as grader:
    print(json.dumps([asdict(grader.grade(Path(p))) for p in sys.argv[2:]]))
"""


def test_make_grade_all_gives_each_student_the_score_it_gets_alone(tmp_path):
    """A class of folders (the reference, the starter, every example), graded at two at a
    time: each gets the score and feedback it gets alone, and the class report counts it
    under its own mistake (homework.toml's [causes]); so is a file that does not import."""
    broken = tmp_path / "broken.py"
    broken.write_text("import numpy as np\n\ndef standardize(x)\n    return x\n")
    students = {"ada": REFERENCE, "starter": STARTER, "broken": broken, **EXAMPLES}
    folder = tmp_path / "class"
    for student, source in students.items():
        (folder / student).mkdir(parents=True)
        shutil.copy(source, folder / student / "stats.py")
    book, out = tmp_path / "book.csv", tmp_path / "out"
    make("grade-all", f"SUBMISSIONS={folder}", f"GRADEBOOK={book}", f"OUT={out}", "JOBS=2")
    alone = subprocess.run([sys.executable, "-c", ALONE, str(FOLDER),
                            *(str(p) for p in students.values())], cwd=ROOT, env=ENV,
                           capture_output=True, text=True, timeout=300)
    assert alone.returncode == 0, alone.stderr[-3000:]
    by_itself = dict(zip(students, json.loads(alone.stdout.splitlines()[-1]), strict=True))
    with open(book, newline="") as f:
        rows = {row["Name"]: row for row in csv.DictReader(f)}
    assert set(rows) == set(students)
    for student in students:
        row, itself = rows[student], by_itself[student]
        record = json.loads((out / "results" / f"{student}.json").read_text())["result"]
        assert row["Status"] == "graded"
        assert float(row["Total Score"]) == sum(t["score"] for t in itself["tests"]), student
        assert [(t["name"], t["score"], t["feedback"]) for t in record["tests"]] == \
            [(t["name"], t["score"], t["feedback"]) for t in itself["tests"]], student
        assert (out / "feedback" / f"{student}.txt").is_file()
        want = ({MISTAKES[student][2]} if student in MISTAKES else
                {"not implemented (stub left)"} if student == "starter" else
                {"does not import"} if student == "broken" else set())
        assert causes(record, HOMEWORK.causes) == want, student


# Other ways to write it, right and wrong: the hidden tests judge what the code does,
# not how it is written, and name each mistake.
RIGHT = {
    "by_hand": """
        import math
        import numpy as np
        def standardize(x):
            mean = sum(x) / len(x)
            std = math.sqrt(sum((v - mean) ** 2 for v in x) / len(x))
            return np.array([(v - mean) / std for v in x])
        def softmax(x):
            m = np.max(x, axis=-1, keepdims=True)
            log_sum = m + np.log(np.sum(np.exp(x - m), axis=-1, keepdims=True))
            return np.exp(x - log_sum)
        def clip_norm(v, max_norm):
            norm = np.sqrt(np.sum(v * v))
            return v if norm <= max_norm else v / norm * max_norm
        """,
    "in_place_on_copies": """
        import numpy as np
        def standardize(x):
            z = x.astype(np.float64, copy=True)
            z -= z.mean()
            z /= x.std(ddof=0)
            return z
        def softmax(x):
            e = x - x.max(axis=-1, keepdims=True)
            np.exp(e, out=e)
            e /= e.sum(axis=-1, keepdims=True)
            return e
        def clip_norm(v, max_norm):
            out = v.copy()
            out *= min(1.0, max_norm / np.linalg.norm(v))
            return out
        """,
}
# name: (the code, the function it gets wrong, words its feedback must say, its cause in
# the class report if homework.toml names one)
WRONG = {
    "changes_its_input": ("""
        import numpy as np
        def standardize(x):
            return (x - x.mean()) / x.std()
        def softmax(x):
            x -= x.max(axis=-1, keepdims=True)
            e = np.exp(x)
            return e / e.sum(axis=-1, keepdims=True)
        def clip_norm(v, max_norm):
            return v * min(1.0, max_norm / np.linalg.norm(v))
        """, "softmax()", "changed the array it was given", "changed its input in place"),
    "axis_one": ("""
        import numpy as np
        def standardize(x):
            return (x - x.mean()) / x.std()
        def softmax(x):
            e = np.exp(x - x.max(axis=1, keepdims=True))
            return e / e.sum(axis=1, keepdims=True)
        def clip_norm(v, max_norm):
            return v * min(1.0, max_norm / np.linalg.norm(v))
        """, "softmax()", "axis=-1", None),
    "returns_a_matrix": ("""
        import numpy as np
        def standardize(x):
            return np.asmatrix((x - x.mean()) / x.std())
        def softmax(x):
            e = np.exp(x - x.max(axis=-1, keepdims=True))
            return e / e.sum(axis=-1, keepdims=True)
        def clip_norm(v, max_norm):
            return v * min(1.0, max_norm / np.linalg.norm(v))
        """, "standardize()", "returned a numpy matrix", None),
    "clips_each_element": ("""
        import numpy as np
        def standardize(x):
            return (x - x.mean()) / x.std()
        def softmax(x):
            e = np.exp(x - x.max(axis=-1, keepdims=True))
            return e / e.sum(axis=-1, keepdims=True)
        def clip_norm(v, max_norm):
            return np.clip(v, -max_norm, max_norm)
        """, "clip_norm()", "clips each element", None),
}


def test_other_ways_to_write_it(tmp_path):
    """Right code in other styles earns every point; wrong code loses the tests of the
    function it gets wrong, each with feedback naming the mistake."""
    sources = {}
    for name, code in {**RIGHT, **{n: c for n, (c, *_) in WRONG.items()}}.items():
        sources[name] = tmp_path / name / "stats.py"
        sources[name].parent.mkdir()
        sources[name].write_text(textwrap.dedent(code))
    done = subprocess.run([sys.executable, "-c", ALONE, str(FOLDER),
                           *(str(p) for p in sources.values())], cwd=ROOT, env=ENV,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    results = dict(zip(sources, json.loads(done.stdout.splitlines()[-1]), strict=True))
    for name in RIGHT:
        assert all(t["score"] == t["max_score"] for t in results[name]["tests"]), \
            (name, [t["feedback"] for t in results[name]["tests"] if t["feedback"]])
    for name, (_, function, words, cause) in WRONG.items():
        failed = [t for t in results[name]["tests"] if t["score"] < t["max_score"]]
        assert failed and all(function_of(t) == function for t in failed), (name, failed)
        assert all(words in t["feedback"] for t in failed), (name, failed)
        assert causes(results[name], HOMEWORK.causes) == {cause or OTHER}, name


# ---------------------------------------------------------------- (d) the zip


def test_the_zip_holds_this_homework_alone_and_grades_as_make_grade_does(tmp_path):
    done = make("autograder")
    built = re.search(r"Wrote (\S+\.zip)", done.stdout)
    assert built, done.stdout
    archive = ROOT / built[1]
    with zipfile.ZipFile(archive) as z:
        names = z.namelist()
        requirements = z.read("requirements.txt").decode()
    ours = {p.relative_to(FOLDER).as_posix() for p in FOLDER.rglob("*")
            if p.is_file() and p.suffix in (".py", ".toml")}
    shipped = {name.split("/", 2)[2] for name in names
               if name.startswith("tests/second_homework/")}
    assert ours <= shipped, sorted(ours - shipped)
    assert {"plan.json", "answers.json"} <= shipped  # Gradescope never learns them itself
    first = [n for n in names if n.startswith(("autograder/tests/", "solutions/", "examples/",
                                               "assignment/")) or "regression" in n]
    assert not first, first
    assert "numpy==" in requirements and "torch" not in requirements
    for name in ("unstable_softmax", "returns_list"):
        results = tmp_path / f"{name}-gradescope.json"
        make("gradescope-test", f"SUBMISSION={EXAMPLES[name]}", f"RESULTS={results}")
        zipped = validate_results(results)
        local, _ = grade(EXAMPLES[name], tmp_path)
        assert [(t["name"], t["score"], t["output"]) for t in zipped["tests"]] == \
            [(t["name"], t["score"], t["output"]) for t in local["tests"]]
        assert zipped["score"] == local["score"] < sum(t["max_score"] for t in local["tests"])


# ---------------------------------------------------------------- (e) nothing hidden leaks

# Wrong submissions that try to carry the hidden inputs out: in an exception's message or
# class name, in what they print, in the values they return.
LEAKY = {
    "raises_with_inputs": """
        import numpy as np
        def standardize(x):
            raise ValueError("got " + repr(x.tolist()))
        def softmax(x):
            raise ValueError(str(np.asarray(x).ravel().tolist()))
        def clip_norm(v, max_norm):
            raise ValueError(f"{v.tolist()} {max_norm}")
        """,
    "names_errors_after_inputs": """
        def _leak(values):
            name = "Leak" + "_".join(str(v).replace(".", "p").replace("-", "m") for v in values)
            raise type(name, (Exception,), {})()
        def standardize(x):
            _leak(x.tolist()[:3])
        def softmax(x):
            _leak(x.ravel().tolist()[:3])
        def clip_norm(v, max_norm):
            _leak([max_norm, *v.tolist()[:2]])
        """,
    "prints_and_is_off": """
        import numpy as np
        def standardize(x):
            print(x.tolist())
            return (x - x.mean()) / x.std() * 1.01
        def softmax(x):
            print(x.tolist())
            e = np.exp(x - x.max(axis=-1, keepdims=True))
            return e / e.sum(axis=-1, keepdims=True) + 0.01
        def clip_norm(v, max_norm):
            print(v.tolist(), max_norm)
            return v * 0.9
        """,
}


def _written(value: float) -> set[str]:
    """The ways a number may be written in a message: 2-4 decimals, 4-7 significant
    digits, repr; only texts with a fraction and three significant digits (a score, a
    count or "0.5" say nothing)."""
    value = abs(value)
    texts = {f"{value:.2f}", f"{value:.3f}", f"{value:.4f}", repr(value),
             *(f"{value:.{d}g}" for d in (4, 5, 6, 7))}
    return {t for t in texts if re.fullmatch(r"\d+\.\d*[1-9]\d*", t)
            and len(t.replace(".", "").lstrip("0")) >= 3}


def _numbers(value: object):
    """Every number in nested dicts and lists."""
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        for item in value:
            yield from _numbers(item)
    else:
        yield value


def leaks(text: str, forbidden: set[str]) -> list[str]:
    return sorted(set(re.findall(r"\d+\.\d+", text)) & forbidden)


def test_no_hidden_number_reaches_a_student(tmp_path):
    hidden = load_hidden()
    public = {t for v in _numbers(hidden.PUBLIC) for t in _written(v)}
    forbidden = {t for v in hidden.all_hidden_numbers() if abs(v) >= 0.01
                 for t in _written(v)} - public
    x = hidden.hidden_inputs().standardize[0]["x"][1]
    assert len(forbidden) > 100 and leaks(f"got {x} instead", forbidden)  # the scan bites
    sources = dict(EXAMPLES)
    for name, code in LEAKY.items():
        sources[name] = tmp_path / name / "stats.py"
        sources[name].parent.mkdir()
        sources[name].write_text(textwrap.dedent(code))
    for name, source in sources.items():
        data, student_view = grade(source, tmp_path)
        assert data["score"] < sum(t["max_score"] for t in data["tests"]), name
        del data["execution_time"]
        # A visible test shows what the student's code gave on the public inputs, which
        # may be any number: a short one (1.01) can equal a hidden input by chance. There
        # (and in the student's view of the run, which shows the visible tests alone) only
        # long numbers are looked for; in everything else, every hidden number is.
        shown = [t.pop("output") for t in data["tests"] if t["visibility"] == "visible"]
        assert not leaks(json.dumps(data), forbidden), (name, leaks(json.dumps(data), forbidden))
        long = {t for t in forbidden if len(t.replace(".", "").lstrip("0")) >= 5}
        for text in (json.dumps(shown), re.sub(r"\(\d+\.\d+ s\)", "", student_view)):
            assert not leaks(text, long), (name, leaks(text, long))
        # a visible test may name the error (its inputs are public); a hidden one never
        hidden_feedback = [t["output"] for t in data["tests"] if t["visibility"] != "visible"]
        assert "Leak" not in json.dumps(hidden_feedback), name


# ---------------------------------------------------------------- (f) the same engine

GRADE_AND_LOOK = """
import json, os, pathlib, sys
from autograder.grade import Grader
from autograder.class_report import OTHER, causes
from autograder.homework import Homework

def zygote_maps():  # the memory map of this process's child that runs the zygote
    for proc in pathlib.Path("/proc").glob("[0-9]*"):
        try:
            parent = int(proc.joinpath("stat").read_text().rsplit(")", 1)[1].split()[1])
            if parent == os.getpid() and b"autograder.sandbox.zygote" in \
                    proc.joinpath("cmdline").read_bytes():
                return proc.joinpath("maps").read_text()
        except (OSError, IndexError, ValueError):  # a process that ended meanwhile
            continue
    raise SystemExit("no zygote found among this process's children")

homework = Homework.load(sys.argv[1])
with Grader(homework) as grader:
    scores = {str(p): grader.grade(p).score
              for p in (homework.reference, homework.skeleton, *homework.examples)}
    maps = zygote_maps()
    print(json.dumps({"modules": sorted(sys.modules), "scores": scores,
                      "max": grader.grade(homework.reference).max_score,
                      "zygote_torch": "torch" in maps, "zygote_numpy": "numpy" in maps}))
"""


def test_the_engine_grades_it_without_torch():
    """The judge never imports torch (nor numpy, nor the reference: the answers come from
    answers.json), and the sandbox preloads numpy, as homework.toml says, not torch."""
    make("grade", f"SUBMISSION={REFERENCE}")  # the plan and the answers, settled
    done = subprocess.run([sys.executable, "-c", GRADE_AND_LOOK, str(FOLDER)], cwd=ROOT,
                          env=ENV, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.splitlines()[-1])
    modules = set(seen["modules"])
    assert not {m for m in modules if m.split(".")[0] == "torch"}, "the judge imported torch"
    assert "numpy" not in modules, "the judge imported numpy: an answer was computed live?"
    assert "_reference_stats" not in modules, "the judge imported the reference"
    assert seen["scores"][str(REFERENCE)] == seen["max"] > 0
    assert seen["scores"][str(STARTER)] == 0
    assert not seen["zygote_torch"], "the sandbox loaded torch: not preloaded here"
    assert seen["zygote_numpy"], "the sandbox did not preload numpy"


def test_the_package_suite_does_not_collect_the_hidden_tests():
    """tests/ holds the second homework's hidden tests, which need a submission: only the
    judge runs them, never `make test` passing through."""
    done = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q",
                           str(FOLDER)], cwd=ROOT, env=ENV, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 5, done.stdout[-2000:]  # 5: no tests collected
    assert "test_standardize" not in done.stdout
