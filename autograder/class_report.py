"""A picture of the class: `report.html`, written by grade-all next to the gradebook.

Plots made with matplotlib (Agg, no display needed), embedded as PNG data URIs so the
report is one file that opens anywhere, offline: the score histogram, the pass rate of
each test, and how many submissions made each named mistake, then the list of what
could not be graded. Every text in it that a student chose (a file name, a display
name) is escaped, and the page allows no script and loads nothing from outside.

Mistakes are counted once per submission, by the cause its feedback names. Hidden tests
name causes in prose, so each cause is known by phrases of those messages: the
homework's description lists them (`[causes]` in homework.toml); tests/test_class_report.py
checks that every phrase still occurs in the feedback's source, and that each example
submission is counted under its own mistake, so a reworded message fails a test instead
of vanishing here.
A test result that carries a `cause` (a stable tag the judge could record from
`fail(message, cause=...)`) is counted by that tag instead.
"""

from __future__ import annotations

import base64
import html
import io
import statistics
from pathlib import Path

Causes = dict[str, tuple[str, ...]]  # cause -> phrases of feedback that name it (any one)
OTHER = "another mistake (no named cause)"
BAR = "#3b6ea5"  # one colour for every plot (the browser test looks for it)


def causes(result: dict, known: Causes) -> set[str]:
    """The named mistakes of one graded submission (empty when every test passed)."""
    found: set[str] = set()
    for test in result["tests"]:
        if test["score"] >= test["max_score"]:
            continue
        if test.get("cause"):  # a stable tag, where the hidden tests give one
            found.add(str(test["cause"]))
            continue
        text = test.get("feedback") or ""
        named = {cause for cause, phrases in known.items() if any(p in text for p in phrases)}
        found |= named or {OTHER}
    return found


def _plot(draw, rows: int = 8) -> str:
    """A matplotlib figure drawn by `draw(ax)`, as a PNG data URI; `rows` of bars set
    its height."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(9, max(3.0, 0.28 * rows + 1.2)), dpi=100, layout="constrained")
    draw(figure.subplots())
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _histogram(totals: list[float], maximum: float):
    def draw(ax) -> None:
        whole = all(float(t).is_integer() for t in totals) and maximum <= 40
        width = 1.0 if whole else max(maximum / 20, 0.25)
        # bars centred on the scores they count: 0 to maximum, both included
        edges = [(i - 0.5) * width for i in range(int(maximum / width) + 2)]
        ax.hist(totals, bins=edges, color=BAR, edgecolor="white")
        ax.set_xlabel(f"total score (of {maximum:g})")
        ax.set_ylabel("submissions")
        ax.yaxis.get_major_locator().set_params(integer=True)
    return draw


def _bars(labels: list[str], values: list[float], xlabel: str, unit: str = "",
          limit: float | None = None):
    def draw(ax) -> None:
        positions = range(len(labels))
        ax.barh(positions, values, color=BAR)
        ax.set_yticks(list(positions), labels=[_short(label) for label in labels])
        ax.invert_yaxis()
        ax.set_xlabel(xlabel)
        if limit is not None:
            ax.set_xlim(0, limit)
        else:
            ax.xaxis.get_major_locator().set_params(integer=True)
        for y, value in zip(positions, values, strict=True):
            ax.text(value, y, f" {value:.0f}{unit}", va="center", fontsize=8)
    return draw


def _short(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _who(key: str, record: dict) -> str:
    """A submission as the TA knows it: its students' names, and its key."""
    names = ", ".join(s.get("name") or "" for s in record.get("students") or [])
    return f"{names} ({key})" if names and names != Path(key).stem else key


def _figure(uri: str, alt: str, height: int) -> str:
    return f'<figure><img src="{uri}" alt="{html.escape(alt)}" data-plot="{height}"></figure>'


def render(records: dict[str, dict], failures: dict[str, str], known: Causes,
           title: str = "Class report") -> str:
    """The report as one HTML page. `records` are grade-all's saved records (by
    submission key), `failures` the submissions the grader itself failed on."""
    esc = html.escape
    graded = {k: r["result"] for k, r in records.items() if not r["result"].get("ungradable")}
    problems = {k: f"not graded: {r['result']['ungradable']}"
                for k, r in records.items() if r["result"].get("ungradable")}
    problems.update({k: f"grader failed: {why}" for k, why in failures.items()})
    total = len(records) + len(failures)
    parts = [f"<h1>{esc(title)}</h1>",
             f"<p>Graded: <b>{len(graded)}</b> of {total} submissions.</p>"]
    if graded:
        parts += _scores(graded) + _pass_rates(graded) + _mistakes(graded, records, known)
    parts.append(f"<h2>Could not be graded ({len(problems)})</h2>")
    if problems:
        parts.append("<table><tr><th>submission</th><th>why</th></tr>")
        parts += [f"<tr><td>{esc(_who(k, records.get(k, {})))}</td><td>{esc(why)}</td></tr>"
                  for k, why in sorted(problems.items())]
        parts.append("</table>")
    else:
        parts.append("<p>Every submission was graded.</p>")
    return _PAGE.format(title=esc(title), body="\n".join(parts))


def _scores(graded: dict[str, dict]) -> list[str]:
    totals = [sum(t["score"] for t in r["tests"]) for r in graded.values()]
    maximum = max(sum(t["max_score"] for t in r["tests"]) for r in graded.values())
    full = sum(1 for s in totals if s >= maximum)
    return [f"<p>Score: mean {statistics.mean(totals):.2f}, median "
            f"{statistics.median(totals):g} of {maximum:g}; {full} with every point.</p>",
            "<h2>Scores</h2>",
            _figure(_plot(_histogram(totals, maximum)), "histogram of total scores", 1)]


def _pass_rates(graded: dict[str, dict]) -> list[str]:
    passes: dict[str, list[bool]] = {}
    names: dict[str, str] = {}
    for result in graded.values():
        for t in result["tests"]:
            passes.setdefault(t["test_id"], []).append(t["score"] >= t["max_score"])
            names[t["test_id"]] = t["name"]
    rates = {k: 100 * sum(v) / len(v) for k, v in passes.items()}
    return ["<h2>Pass rate per test</h2>",
            _figure(_plot(_bars([names[k] for k in rates], list(rates.values()),
                                "% of graded submissions that passed", "%", 100),
                          rows=len(rates)),
                    "pass rate per test", 2)]


def _mistakes(graded: dict[str, dict], records: dict[str, dict], known: Causes) -> list[str]:
    esc = html.escape
    made: dict[str, list[str]] = {}
    for key, result in sorted(graded.items()):
        for cause in causes(result, known):
            made.setdefault(cause, []).append(_who(key, records[key]))
    order = sorted(made, key=lambda c: (c == OTHER, -len(made[c]), c))
    if not order:
        return ["<h2>Named mistakes</h2>",
                "<p>None: every graded submission passed every test.</p>"]
    return ["<h2>Named mistakes</h2>",
            _figure(_plot(_bars(order, [len(made[c]) for c in order],
                                "submissions that made it"), rows=len(order)),
                    "how many submissions made each named mistake", 3),
            "<table><tr><th>mistake</th><th>submissions</th><th>who</th></tr>",
            *(f"<tr><td>{esc(c)}</td><td>{len(made[c])}</td>"
              f"<td>{esc(', '.join(made[c]))}</td></tr>" for c in order),
            "</table>"]


def write_report(path: Path, records: dict[str, dict], failures: dict[str, str],
                 known: Causes, title: str = "Class report") -> None:
    from autograder.results import write_atomic

    write_atomic(path, render(records, failures, known, title))


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy"
 content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<title>{title}</title>
<style>
 body {{ font-family: sans-serif; max-width: 60rem; margin: 2rem auto; color: #222; }}
 figure {{ margin: 0 0 1.5rem 0; }} img {{ max-width: 100%; }}
 table {{ border-collapse: collapse; }} td, th {{ border: 1px solid #ccc; padding: .3rem .5rem;
 text-align: left; vertical-align: top; }}
</style></head>
<body>
{body}
</body></html>
"""
