"""`digest issue report N`: how an issue did, beside the issues before it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from digest.cli.context import app_context
from digest.cli.output import print_json
from digest.cli.params import IssueArg, json_option

ROWS = [("queued", "queued"), ("delivered", "delivered"), ("waiting", "waiting"), ("failed", "failed"),
        ("skipped", "skipped (left before sending)"), ("hard_bounces", "hard bounces"),
        ("soft_bounces", "soft bounces"), ("complaints", "complaints"), ("unsubscribes", "unsubscribes"),
        ("signups", "new sign-ups in the week")]


def issue_report(
    ctx: typer.Context,
    issue: IssueArg,
    json_output: json_option("Print the figures as JSON.") = False,
    html: Annotated[bool, typer.Option("--html", help="Write a one-page HTML report with charts.")] = False,
    output: Annotated[Optional[Path], typer.Option("--output", help="Where --html writes (default outbox/N/report.html).", show_default=False)] = None,
    previous: Annotated[int, typer.Option("--previous", min=0, max=52, help="How many earlier sent issues to show beside it.")] = 3,
) -> None:
    """How an issue did: delivered, bounced, complaints, unsubscribes, votes and sign-ups.

    Shown beside the issues sent before it. No opens or clicks are tracked: the figures
    come from the queue, the return mailbox, the votes and the list. An unsubscribe counts
    against the last issue the reader was sent before leaving; sign-ups are those of the
    week after the issue was queued. --html writes one self-contained page (inline SVG charts,
    nothing fetched) that opens offline in any browser.

    Example: digest issue report 12 --html --output report.html
    """
    from digest.data.engine import connect
    from digest.errors import UsageError
    from digest.ids import parse_id
    from digest.report import issue_report as build

    if output is not None and not html:
        raise UsageError("--output goes with --html")
    number = parse_id(issue, "issue")
    state = app_context(ctx)
    with connect(state.settings) as db, db.transaction():  # no ORM: see digest.data.issue_figures
        report = build(db, number=number, previous=previous)
    if html:
        from digest.report_page import report_html

        target = output or state.settings.outbox_dir / str(report.issue.number) / "report.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(report_html(report), encoding="utf-8")
        typer.echo(f"wrote {target}")
        if json_output:
            print_json(report.to_json())
        return
    if json_output:
        print_json(report.to_json())
        return
    typer.echo(_text(report))


def _text(report) -> str:  # noqa: ANN001
    from digest.wording import count

    this = report.issue
    series = report.series
    lines = [f"issue {this.number}: {this.subject} ({this.status})"]
    if not this.sent:
        lines.append("not sent yet: nothing queued, delivered or bounced")
    head = "".join(f"{'#' + str(f.number):>8}" for f in series)
    lines.append(f"{'':<30}{head}")
    for key, label in ROWS:
        lines.append(f"{label:<30}" + "".join(f"{getattr(f, key):>8}" for f in series))
    if this.votes:
        lines.append("votes:")
        for v in this.votes:
            aside = f"; {count(v.set_aside, 'vote')} set aside as scanners ({v.set_aside_share:.0%})" if v.set_aside else ""
            lines.append(f"  {v.title}: {v.tool_a} {v.votes_a}, {v.tool_b} {v.votes_b}{aside}")
    return "\n".join(lines)


def register(app: typer.Typer) -> None:
    from digest.cli.issue import issue_app

    issue_app.command("report")(issue_report)
