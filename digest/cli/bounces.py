"""`digest bounces`: read the return mailbox and act on bounces and complaints."""

from __future__ import annotations


import typer

from digest.cli.context import app_context
from digest.cli.output import print_json, say
from digest.cli.params import json_option


def bounces(
    ctx: typer.Context,
    json_output: json_option("Print the report as JSON.") = False,
) -> None:
    """Read new messages in the bounce mailbox ([bounces] maildir or imap_host) once.

    A hard bounce (5.x.x) bounces the reader at once, soft ones (4.x.x) after
    [bounces] soft_limit within soft_window, a spam complaint (ARF) marks the reader
    complained; each is suppressed for good. Bounces are matched to the delivery only by the
    signed tag digest put in the message (VERP return path, X-Digest-Delivery). Replies,
    auto-replies and unmatched bounces are counted and left unread for the editor. Each
    message is recorded once, even across a crash; the scheduler runs this every few minutes.

    Example: digest bounces --json
    """
    from digest.bounces import read_bounces

    state = app_context(ctx)
    report = read_bounces(settings=state.settings, engine=state.engine)
    if json_output:
        print_json(report.to_json())
        return
    for email in report.suppressed:
        say(ctx, f"suppressed {email}", note=True)
    typer.echo(report.summary())


def register(app: typer.Typer) -> None:
    app.command("bounces")(bounces)
