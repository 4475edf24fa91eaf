"""`digest issue report N --html`: the report as one self-contained page with plain SVG charts.

The charts are drawn by hand (rectangles and text in inline SVG, laid out here, written by
a Jinja2 template with autoescape on), so the page needs no script, font, stylesheet or image
from anywhere: it opens offline in any browser and can be mailed or archived as one file.
Every name in it (a tool's, a subject) is escaped text, never markup.
"""

from __future__ import annotations

from dataclasses import dataclass

from digest.report import IssueReport

WIDTH = 640  # every chart's drawing width, in SVG user units
BAR = 22  # a horizontal bar's height
LABEL = 210  # room for the labels left of horizontal bars


@dataclass(frozen=True)
class Bar:
    """One horizontal bar: its label, value and drawn length."""

    label: str
    value: int
    length: float
    y: int
    tone: str  # a, b, loss, gain or muted: the template's colour


@dataclass(frozen=True)
class Chart:
    title: str
    bars: list[Bar]
    height: int
    empty: str  # said instead of the chart when there is nothing to draw

    @property
    def label_x(self) -> int:
        return LABEL - 8

    @property
    def bar_x(self) -> int:
        return LABEL


def _chart(title: str, rows: list[tuple[str, int, str]], empty: str) -> Chart:
    """Horizontal bars scaled to the largest value; a gap of half a bar between groups of two."""
    top = max((value for _, value, _ in rows), default=0) or 1
    span = WIDTH - LABEL - 60
    bars = [Bar(label=label, value=value, length=round(span * value / top, 1), y=8 + index * (BAR + 6), tone=tone)
            for index, (label, value, tone) in enumerate(rows)]
    return Chart(title=title, bars=bars, height=16 + len(rows) * (BAR + 6), empty=empty)


def charts(report: IssueReport) -> list[Chart]:
    """Votes per tool, the list's growth and losses per issue, and bounces by reason."""
    votes: list[tuple[str, int, str]] = []
    for comparison in report.issue.votes:
        votes += [(comparison.tool_a, comparison.votes_a, "a"), (comparison.tool_b, comparison.votes_b, "b")]
    growth: list[tuple[str, int, str]] = []
    for figures in (f for f in report.series if f.sent):
        growth += [(f"#{figures.number} sign-ups", figures.signups, "gain"),
                   (f"#{figures.number} losses", figures.losses, "loss")]
    reasons = [(reason, count, "loss") for reason, count in report.issue.bounce_reasons.items()]
    if report.issue.complaints:
        reasons.append(("complaint (marked as spam)", report.issue.complaints, "loss"))
    return [
        _chart("Votes per tool", votes if any(v for _, v, _ in votes) else [], "No votes yet."),
        _chart("The list's growth and losses, issue by issue", growth, "No issue has gone out yet."),
        _chart("Bounces and complaints by reason", reasons, "No bounces or complaints."),
    ]


def report_html(report: IssueReport) -> str:
    """The whole page, as text (UTF-8 when written)."""
    from jinja2 import Environment, PackageLoader, StrictUndefined

    env = Environment(loader=PackageLoader("digest", "templates"), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    return env.get_template("report/issue.html.j2").render(report=report, charts=charts(report), width=WIDTH)
