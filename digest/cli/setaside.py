"""`digest set-aside`: review and apply the clicks the web app set aside as a mail scanner's."""

from __future__ import annotations

from typing import Optional

import typer

from digest.cli.context import app_context
from digest.cli.output import print_json
from digest.cli.params import ID, LIMIT, json_option

set_aside_app = typer.Typer(name="set-aside", no_args_is_help=True, rich_markup_mode=None,
                            help="Votes, confirmations and unsubscribes not counted because a mail scanner made them.")


@set_aside_app.command("list")
def list_(
    ctx: typer.Context,
    kind: Optional[str] = typer.Option(None, "--kind", metavar="KIND", help="Only vote, confirm or unsubscribe."),
    limit: Optional[int] = typer.Option(None, "--limit", click_type=LIMIT, help="At most this many, newest first."),
    json_output: json_option("Print them as JSON.") = False,
) -> None:
    """List set-aside actions, newest first: id, when, client address, subscriber and what it would do.

    A client that fetched an email's invisible canary link is treated as a scanner for a
    while; its clicks are kept here instead of counting. Apply the ones a person made.

    Example: digest set-aside list --kind vote
    """
    from digest.data.engine import connect
    from digest.data.set_aside_list import list_set_aside

    state = app_context(ctx)
    with connect(state.settings) as db, db.transaction():  # no ORM: see digest.data.set_aside_list
        actions = list_set_aside(db, kind=kind, limit=limit)
    if json_output:
        print_json([action.to_json() for action in actions])
        return
    if not actions:
        typer.echo("nothing set aside")
        return
    for action in actions:
        when = action.created_at.strftime("%Y-%m-%d %H:%M")
        typer.echo(f"{action.id:>5}  {when}  {action.client:<15}  {action.subscriber or '(gone)'}  {action.what}")


@set_aside_app.command("apply")
def apply(
    ctx: typer.Context,
    ids: list[int] = typer.Argument(..., metavar="ID...", click_type=ID, help="Ids from digest set-aside list."),
    json_output: json_option("Print the outcomes as JSON.") = False,
) -> None:
    """Carry out set-aside actions now, as the web app would have, and take them off the list.

    All ids must exist or nothing is applied. A reader's own later vote is never replaced, and
    a confirmation never lifts a suppression (only the person's own click does).

    Example: digest set-aside apply 3 4
    """
    from digest.db import session_scope
    from digest.web.setaside import apply_set_aside

    state = app_context(ctx)
    with session_scope(state.engine, write=True) as session:
        results = apply_set_aside(session, ids)
    if json_output:
        print_json([result.to_json() for result in results])
        return
    for result in results:
        typer.echo(f"{result.id}: {result.outcome}: {result.text}")


def register(app: typer.Typer) -> None:
    app.add_typer(set_aside_app)
