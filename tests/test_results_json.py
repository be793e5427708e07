"""results.json as a student reads it on Gradescope: a summary that says what is still
hidden (tests and points, never which pass), Markdown that shows the feedback's exact
text, and tags naming what each test is about.

Submissions are graded as Gradescope grades them: `python -m autograder.grade SUBMISSION
--results results.json` in a real subprocess, with the real sandbox.
"""

from __future__ import annotations

import html
import re
import subprocess
import sys
from pathlib import Path

import mistune
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from schema import validate_results

from autograder.platforms.gradescope import markdown

ROOT = Path(__file__).resolve().parents[1]
FUNCTIONS = {"forward", "mse", "update"}


def graded(submission: Path, tmp_path: Path) -> dict:
    results = tmp_path / f"{submission.stem}.json"
    done = subprocess.run([sys.executable, "-m", "autograder.grade", str(submission),
                           "--results", str(results)], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return validate_results(results)


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("results")
    return {"reference": graded(ROOT / "solutions" / "regression.py", tmp),
            "mistake": graded(ROOT / "examples" / "forgot_bias.py", tmp)}


def test_the_summary_says_what_is_still_hidden(pair):
    for data in pair.values():
        assert data["output_format"] == "md" and data["test_output_format"] == "md"
        tests = data["tests"]
        hidden = [t for t in tests if t["visibility"] != "visible"]
        shown = [t for t in tests if t["visibility"] == "visible"]
        assert hidden and shown
        points = sum(t["max_score"] for t in hidden)
        assert (f"**Hidden until grades are published:** {len(hidden)} more tests worth "
                f"{points:g} points") in data["output"]
        assert (f"**Shown now:** {len(shown)} tests worth "
                f"{sum(t['max_score'] for t in shown):g} points; you have "
                f"{sum(t['score'] for t in shown):g} of them.") in data["output"]
    # what is said of the hidden tests is the same whether they pass or not
    hidden_part = [d["output"].split("**Hidden")[1] for d in pair.values()]
    assert hidden_part[0] == hidden_part[1]
    assert pair["mistake"]["score"] < pair["reference"]["score"]


def test_every_test_is_tagged_with_what_it_is_about(pair):
    for t in pair["reference"]["tests"]:
        assert t["tags"], t["name"]
        named = set(re.findall(r"\b(\w+)\(\)", t["name"]))
        assert named <= set(t["tags"]), t
        assert set(t["tags"]) <= FUNCTIONS | {"gradients", "update", "loss"}, t
    assert FUNCTIONS <= {tag for t in pair["reference"]["tests"] for tag in t["tags"]}


def rendered(markdown_text: str) -> str:
    """What a reader sees of Markdown: the text of its HTML, a line per line break."""
    page = mistune.html(markdown_text)
    page = re.sub(r"<br\s*/?>\n?", "\n", page)
    page = re.sub(r"</p>\s*<p>", "\n", page)
    return html.unescape(re.sub(r"<[^>]+>", "", page)).strip("\n")


def shown(text: str) -> str:
    """The text as the student should see it: code spans without their backticks, every
    line's indent kept (as non-breaking spaces), its trailing spaces and empty lines not."""
    lines = []
    for line in text.expandtabs(4).splitlines():
        line = re.sub(r"`([^`]+)`", r"\1", line.rstrip(" "))
        if line.strip(" "):
            stripped = line.lstrip(" ")
            lines.append("\xa0" * (len(line) - len(stripped)) + stripped)
    return "\n".join(lines)


def test_feedback_in_markdown_shows_its_exact_text(pair):
    failed = [t for t in pair["mistake"]["tests"] if t["status"] == "failed"]
    assert any("w \\* x" in t["output"] for t in failed)  # not an emphasis
    for t in failed:
        assert "\n".join(x for x in rendered(t["output"]).splitlines() if x.strip()) \
            == shown(_plain(t["output"]))


def _plain(md: str) -> str:
    """The plain text a Markdown output was made from (undo markdown())."""
    text = md.replace("  \n", "\n").replace("&nbsp;", " ")
    return re.sub(r"\\(.)", r"\1", text)


@settings(max_examples=400, deadline=None)
@given(st.text(st.sampled_from(list("ab1 .-+=*_`#>|[]()!<&\\~{}\t\n:")), max_size=40))
def test_any_text_reads_the_same_after_markdown(text):
    if text.count("`") % 2:  # an unpaired backtick is text; paired, a code span
        text = text.replace("`", "'")
    code_spans = re.findall(r"`([^`]+)`", text)
    if any(span != span.strip() or not span.strip() for span in code_spans):
        return  # CommonMark trims a code span's edges; feedback never has such spans
    assert "\n".join(x for x in rendered(markdown(text)).splitlines() if x.strip()) \
        == shown(text)
