"""report.html, the picture of the class grade-all draws: the mistakes it counts, what it
lists, and that its plots render in a real browser (Chromium, headless).

The class is the package's own corpus graded by `python -m autograder.batch` in a real
subprocess: the reference, the skeleton, every example mistake in examples/, the
alternative solutions in tests/alternatives/, and three uploads that cannot be graded.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy
import pytest
from PIL import Image

from autograder.class_report import BAR, OTHER
from autograder.class_report import causes as named_causes
from autograder.homework import Homework

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
ALTERNATIVES = sorted((ROOT / "tests" / "alternatives").glob("*.py"))
HOSTILE_NAME = "<img src=x onerror=alert(1)>.py"
CAUSES = Homework.load().causes  # the homework's named mistakes (homework.toml)


def causes(result: dict) -> set[str]:
    return named_causes(result, CAUSES)

# each example is named after its mistake: the cause the report must count it under
EXPECTED = {
    "forgot_bias": "forgot the bias",
    "forward_without_graph": "broke the autograd graph",
    "grads_not_zeroed": "gradients not zeroed",
    "ignores_lr": "ignored lr",
    "rebinds_parameters": "rebinds w instead of changing it",
    "returns_float": "returned a Python number",
    "returns_new_tensors": "returned new tensors",
    "returns_numpy": "returned a numpy array",
    "steps_uphill": "stepped uphill",
    "sum_instead_of_mean": "sum instead of mean",
    "update_outside_no_grad": "step outside torch.no_grad()",
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    top = tmp_path_factory.mktemp("class")
    folder = top / "hw"
    folder.mkdir()
    for path in [*EXAMPLES, *ALTERNATIVES]:
        shutil.copy(path, folder / path.name)
    shutil.copy(ROOT / "solutions" / "regression.py", folder / "reference.py")
    shutil.copy(ROOT / "assignment" / "regression.py", folder / "skeleton.py")
    shutil.copy(ROOT / "examples" / "forgot_bias.py", folder / HOSTILE_NAME)
    (folder / "empty_folder").mkdir()
    (folder / "two_files").mkdir()
    for name in ("a.py", "b.py"):
        shutil.copy(ROOT / "solutions" / "regression.py", folder / "two_files" / name)
    out = top / "graded"
    done = subprocess.run([sys.executable, "-m", "autograder.batch", str(folder), "--out",
                           str(out), "--jobs", "2"], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr
    records = {p.stem: json.loads(p.read_text()) for p in (out / "results").glob("*.json")}
    return {"out": out, "run": done, "records": records,
            "report": out / "report.html"}


def test_every_example_is_counted_under_its_own_mistake(graded):
    assert set(EXPECTED) == {p.stem for p in EXAMPLES}, "a new example needs its cause here"
    records = graded["records"]
    for stem, cause in EXPECTED.items():
        assert causes(records[f"{stem}.py"]["result"]) == {cause}, stem
    assert causes(records["reference.py"]["result"]) == set()
    for right in ALTERNATIVES:  # right in another way: never counted as a named mistake
        assert causes(records[right.name]["result"]) <= {OTHER}, right.name
    assert causes(records["skeleton.py"]["result"]) == {"not implemented (stub left)"}


def test_every_phrase_a_cause_is_known_by_is_in_the_feedback_source():
    """A reworded message fails here instead of silently dropping out of the counts."""
    source = "\n".join(p.read_text() for p in (ROOT / "autograder").rglob("*.py"))
    source = re.sub(r'"\s*\n\s*f?"', "", source)  # join implicitly concatenated strings
    for cause, phrases in CAUSES.items():
        for phrase in phrases:
            assert phrase in source, (cause, phrase)


def test_the_report_counts_lists_and_escapes(graded):
    text = graded["report"].read_text()
    assert graded["run"].stdout.count("report.html") == 1
    assert text.count('src="data:image/png;base64,') == 3  # histogram, pass rates, mistakes
    table = text[text.index("<h2>Named mistakes"):text.index("<h2>Could not be graded")]
    for stem, cause in EXPECTED.items():
        row = re.search(rf"<tr><td>{re.escape(cause)}</td><td>(\d+)</td><td>([^<]*)</td>",
                        table)
        assert row, cause
        assert f"{stem}.py" in row.group(2)
    bias = re.search(r"<tr><td>forgot the bias</td><td>(\d+)</td><td>([^<]*)</td>", table)
    assert bias.group(1) == "2"  # the example and the hostile file name, once each
    other = re.search(rf"<tr><td>{re.escape(OTHER)}</td><td>\d+</td><td>([^<]*)</td>", table)
    assert not other or not any(f"{stem}.py" in other.group(1) for stem in EXPECTED)
    unable = text[text.index("<h2>Could not be graded"):]
    assert "Could not be graded (2)" in unable
    assert "empty_folder" in unable and "two_files" in unable and "Ambiguous" in unable
    # a file name is a student's text: shown, never markup
    assert "&lt;img src=x onerror=alert(1)&gt;.py" in text
    assert "<img src=x" not in text
    assert "script-src" not in text and "default-src 'none'" in text  # no script may run


# --------------------------------------------------------------- in a real browser


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    reason = "no Chromium here (Debian: apt-get install chromium; .ci/run installs it)"
    print(f"SKIPPED: {reason}")
    pytest.skip(reason)


def browse(page: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    browser = chromium()
    return subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}", *args, page.as_uri()],
        capture_output=True, text=True, timeout=120)


def test_the_plots_render_in_a_browser(graded, tmp_path):
    """The report exactly as written: a screenshot shows the plots' bars."""
    shot = tmp_path / "report.png"
    done = browse(graded["report"], tmp_path, "--window-size=1000,3200",
                  "--hide-scrollbars", f"--screenshot={shot}")
    assert shot.is_file(), done.stderr
    pixels = numpy.asarray(Image.open(shot).convert("RGB"), dtype=int)
    want = numpy.array([int(BAR[i:i + 2], 16) for i in (1, 3, 5)])
    bar = (numpy.abs(pixels - want) <= 8).all(axis=2)  # pixels of the bars' colour
    assert bar.sum() > 20_000, f"only {bar.sum()} bar pixels: the plots did not render"
    rows = numpy.flatnonzero(bar.any(axis=1))
    plots = 1 + int((numpy.diff(rows) > 40).sum())  # separate bands of bars down the page
    assert plots == 3, f"bars in {plots} places down the page; expected 3 plots"


def test_every_image_loads_in_a_browser(graded, tmp_path):
    """A copy with a script that records each image's natural width once the page has
    loaded (the report itself allows no script: its policy is lifted in the copy only)."""
    text = graded["report"].read_text()
    text = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", text)
    probe = ("<script>window.addEventListener('load', () => { for (const img of "
             "document.images) img.setAttribute('data-natural-width', img.naturalWidth); "
             "document.body.setAttribute('data-probed', document.images.length); });</script>")
    text = text.replace("</body>", probe + "</body>")

    def widths(page: str) -> list[int]:
        copy = tmp_path / "probed.html"
        copy.write_text(page)
        done = browse(copy, tmp_path, "--virtual-time-budget=5000", "--dump-dom")
        assert 'data-probed="3"' in done.stdout, done.stderr[-2000:]
        return [int(w) for w in re.findall(r'data-natural-width="(\d+)"', done.stdout)]

    loaded = widths(text)
    assert len(loaded) == 3 and all(w > 100 for w in loaded), loaded
    # the probe tells a broken image: the same page with the PNG data cut short
    broken = re.sub(r"base64,[^\"]{200}", "base64,", text)
    assert widths(broken) == [0, 0, 0]


def test_a_stable_cause_tag_is_counted_as_given(graded):
    """Where the judge records a test's cause, the tag counts, not the message's words."""
    result = json.loads(json.dumps(graded["records"]["sum_instead_of_mean.py"]["result"]))
    for test in result["tests"]:
        if test["score"] < test["max_score"]:
            test["cause"] = "sum_not_mean"
    assert causes(result) == {"sum_not_mean"}
