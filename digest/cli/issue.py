"""`digest issue ...`: assemble numbered issues from comparisons.

This module holds the editorial commands (new, add, remove, move, set, show, list, delete).
The render, preview, schedule, proof and queue commands live with their stages and join this
group through `issue_app` (`from digest.cli.issue import issue_app` then
`@issue_app.command("render")`), registered in `digest.cli._register` after this module.
"""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

from digest.cli.context import app_context
from digest.cli.output import print_json, say
from digest.cli.params import POSITION, ComparisonArg, IssueArg, JsonOption
from digest.wording import count

issue_app = typer.Typer(help="Assemble, check and send numbered issues.", no_args_is_help=True)

def _text(value: Optional[str]) -> Optional[str]:
    return sys.stdin.read() if value == "-" else value


@issue_app.command("new")
def issue_new(
    ctx: typer.Context,
    subject: Annotated[str, typer.Option("--subject", help="The email's subject line.", show_default=False)],
    comparison: Annotated[Optional[list[str]], typer.Option("--comparison", help="A comparison to include, in order; repeat for more.")] = None,
    preheader: Annotated[str, typer.Option("--preheader", help="The inbox preview line after the subject.")] = "",
    intro: Annotated[str, typer.Option("--intro", help="The editor's opening paragraph; - reads it from stdin.")] = "",
    json_output: JsonOption = False,
) -> None:
    """Start a draft issue and print its number (numbers are sequential and never reused).

    Example: digest issue new --subject "Two robot reviewers" --comparison 3
    """
    from digest.data.engine import connect
    from digest.editorial.assembly import create_issue
    from digest.editorial.issue_view import read_issue_detail

    state = app_context(ctx)
    intro = _text(intro) or ""  # before the write lock: stdin may be a person typing
    with connect(state.settings) as db, db.transaction(write=True):  # no ORM: see digest.editorial.assembly
        number = create_issue(db, subject=subject, comparisons=comparison or [], preheader=preheader, intro=intro)
        view = read_issue_detail(db, number, panel=state.settings.panel)
        data = view.to_json()
    if json_output:
        print_json(data)
        return
    typer.echo(number)
    state_word = "ready" if view.readiness.ready else f"not ready ({len(view.readiness.missing)} missing)"
    say(ctx, f"issue {number}: draft, {count(len(view.cards), 'comparison')}, {state_word}", note=True)


@issue_app.command("add")
def issue_add(
    ctx: typer.Context,
    issue: IssueArg,
    comparison: ComparisonArg,
    position: Annotated[Optional[int], typer.Option("--position", click_type=POSITION, help="Where to put it (1 = first; default last).")] = None,
) -> None:
    """Add a comparison to an issue (a comparison is in one issue at most).

    Example: digest issue add 2 5 --position 1
    """
    from digest.data.engine import connect
    from digest.editorial.assembly import add_comparison

    state = app_context(ctx)
    with connect(state.database) as db, db.transaction(write=True):  # no ORM: see digest.editorial.assembly
        number, added, title = add_comparison(db, issue=issue, comparison=comparison, position=position)
    say(ctx, f"issue {number}: added comparison {added} ({title})", note=True)


@issue_app.command("remove")
def issue_remove(ctx: typer.Context, issue: IssueArg, comparison: ComparisonArg) -> None:
    """Take a comparison out of an issue; the comparison itself is kept.

    Example: digest issue remove 2 5
    """
    from digest.data.engine import connect
    from digest.editorial.assembly import remove_comparison

    state = app_context(ctx)
    with connect(state.database) as db, db.transaction(write=True):  # no ORM: see digest.editorial.assembly
        number = remove_comparison(db, issue=issue, comparison=comparison)
    say(ctx, f"issue {number}: removed comparison {comparison}", note=True)


@issue_app.command("move")
def issue_move(
    ctx: typer.Context,
    issue: IssueArg,
    comparison: ComparisonArg,
    to: Annotated[int, typer.Option("--to", click_type=POSITION, help="The new position (1 = first).", show_default=False)],
) -> None:
    """Reorder: move a comparison of the issue to another position.

    Example: digest issue move 2 5 --to 1
    """
    from digest.data.engine import connect
    from digest.editorial.assembly import move_comparison

    state = app_context(ctx)
    with connect(state.database) as db, db.transaction(write=True):  # no ORM: see digest.editorial.assembly
        number = move_comparison(db, issue=issue, comparison=comparison, position=to)
    say(ctx, f"issue {number}: comparison {comparison} is now at position {to}", note=True)


@issue_app.command("set")
def issue_set(
    ctx: typer.Context,
    issue: IssueArg,
    subject: Annotated[Optional[str], typer.Option("--subject", help="A new subject line.")] = None,
    preheader: Annotated[Optional[str], typer.Option("--preheader", help="A new preheader ('' clears it).")] = None,
    intro: Annotated[Optional[str], typer.Option("--intro", help="A new intro ('' clears it; - reads stdin).")] = None,
) -> None:
    """Set an issue's subject, preheader or intro.

    Example: digest issue set 2 --preheader "Meeting bots, compared"
    """
    from digest.data.engine import connect
    from digest.editorial.assembly import set_issue

    state = app_context(ctx)
    intro = _text(intro)  # before the write lock: stdin may be a person typing
    with connect(state.database) as db, db.transaction(write=True):  # no ORM: see digest.editorial.assembly
        number, changed = set_issue(db, issue=issue, subject=subject, preheader=preheader, intro=intro)
    say(ctx, f"issue {number}: " + (", ".join(f"changed {c}" for c in changed) if changed else "no changes"),
        note=True)


@issue_app.command("show")
def issue_show(ctx: typer.Context, issue: IssueArg, json_output: JsonOption = False) -> None:
    """Show an issue: subject, preheader, intro, comparisons in order, and what is missing.

    An issue is ready when it has a comparison and every panel reviewer has reviewed both
    tools of each.

    Example: digest issue show 2 --json
    """
    from digest.data.engine import connect
    from digest.editorial.issue_view import read_issue_detail
    from digest.errors import NotFoundError
    from digest.ids import parse_id

    number = parse_id(issue, "issue")
    state = app_context(ctx)
    with connect(state.settings) as db, db.transaction():  # no ORM: see digest.data.comparison_cards
        detail = read_issue_detail(db, number, panel=state.settings.panel)
    if detail is None:
        raise NotFoundError(f"no issue {number}", hint="`digest issue list` shows the issues")
    if json_output:
        print_json(detail.to_json())
        return
    from digest.cli import views
    from digest.cli.output import console

    console().print(views.issue_renderable(detail))


@issue_app.command("list")
def issue_list(
    ctx: typer.Context,
    status: Annotated[Optional[str], typer.Option("--status", help="Only issues in this state: draft, scheduled, sending or sent.")] = None,
    json_output: JsonOption = False,
) -> None:
    """List the issues, newest first, with their state and readiness.

    Example: digest issue list --status draft
    """
    from digest.data.engine import connect
    from digest.data.issue_list import STATUSES, list_issues
    from digest.errors import UsageError

    if status is not None and status not in STATUSES:
        raise UsageError(f"--status {status!r} is not one of {', '.join(STATUSES)}")
    state = app_context(ctx)
    with connect(state.settings) as db, db.transaction():  # no ORM: see digest.data.issue_list
        summaries = list_issues(db, panel=state.settings.panel, status=status)
        data = [s.to_json() for s in summaries]
    if json_output:
        print_json(data)
        return
    if not summaries:
        typer.echo("no issues yet; start one with `digest issue new --subject ...`")
        return
    from digest.cli.output import console
    from digest.cli.views import issues_table

    console().print(issues_table(summaries))


@issue_app.command("delete")
def issue_delete(ctx: typer.Context, issue: IssueArg) -> None:
    """Delete a draft issue; its comparisons are kept and its number is never reused.

    Example: digest issue delete 4
    """
    from digest.data.engine import connect
    from digest.editorial.assembly import delete_issue

    state = app_context(ctx)
    with connect(state.database) as db, db.transaction(write=True):  # no ORM: see digest.editorial.assembly
        number = delete_issue(db, issue=issue)
    say(ctx, f"deleted issue {number} (the number will not be reused)", note=True)


def register(app: typer.Typer) -> None:
    app.add_typer(issue_app, name="issue")
