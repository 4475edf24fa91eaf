"""`digest init`: create or upgrade a newsletter folder and its database."""

from __future__ import annotations

import typer

from digest.cli.context import app_context
from digest.cli.output import print_json


def init(
    ctx: typer.Context,
    json_output: bool = typer.Option(False, "--json", help="Print what was done as JSON."),
) -> None:
    """Create or upgrade the newsletter folder: settings, feeds, key file and database.

    Safe to run again: existing files are kept and the database is only upgraded.

    Example: digest --home ~/verdicts init
    """
    from digest.folder import init_folder

    state = app_context(ctx)
    report = init_folder(state.home)
    if json_output:
        print_json(report)
        return
    if state.quiet:
        return
    for path in report["created"]:
        typer.echo(f"created {path}")
    before, after = report["schema_before"], report["schema_after"]
    if before is None:
        typer.echo(f"database created at schema {after}: {report['database']}")
    elif before != after:
        typer.echo(f"database upgraded from schema {before} to {after}: {report['database']}")
    else:
        typer.echo(f"database already at schema {after}: {report['database']}")


def register(app: typer.Typer) -> None:
    app.command("init")(init)
