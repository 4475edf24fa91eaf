"""`digest subscribers`: add, import, list, remove and export the audience."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from digest.cli.context import app_context
from digest.cli.output import print_json
from digest.ids import MAX_ID

subscribers_app = typer.Typer(name="subscribers", no_args_is_help=True, rich_markup_mode=None,
                              help="The audience: add, import, list, remove and export subscribers.")


def _say(ctx: typer.Context, text: str) -> None:
    if not app_context(ctx).quiet:
        typer.echo(text)


@subscribers_app.command("add")
def add(
    ctx: typer.Context,
    emails: list[str] = typer.Argument(..., metavar="EMAIL...", help="One or more addresses."),
    pending: bool = typer.Option(False, "--pending", help="Add as pending (not mailed until confirmed)."),
    force: bool = typer.Option(False, "--force", help="Subscribe a suppressed address again (it left or bounced)."),
    json_output: bool = typer.Option(False, "--json", help="Print what was done as JSON."),
) -> None:
    """Subscribe addresses. They are active at once: by adding them you vouch for their consent.

    All or nothing: an invalid address, or one that left or bounced (suppressed), refuses the
    whole command unless --force is given for the latter.

    Example: digest subscribers add ann@example.com bob@example.org
    """
    from digest.db import session_scope
    from digest.subscribers import add_subscribers

    state = app_context(ctx)
    with session_scope(state.engine, write=True) as session:
        report = add_subscribers(session=session, emails=emails, pending=pending, force=force)
    if json_output:
        print_json(report.to_json())
        return
    status = "pending" if pending else "active"
    for label, items in (("added", report.added), ("activated", report.activated),
                         ("subscribed again", report.resubscribed), ("already present", report.already_present)):
        for email in items:
            _say(ctx, f"{label}: {email}" + (f" ({status})" if label in ("added", "subscribed again") else ""))


@subscribers_app.command("import")
def import_(
    ctx: typer.Context,
    file: Path = typer.Argument(..., metavar="FILE.csv", help="CSV with an email column (a header row is optional)."),
    pending: bool = typer.Option(False, "--pending", help="Add new addresses as pending instead of active."),
    skip_invalid: bool = typer.Option(False, "--skip-invalid", help="Import the valid rows even if some are invalid."),
    json_output: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """Import addresses from a CSV file, all or nothing; new ones are active (you vouch for them).

    The address column is the one headed email (or the first holding an @); other columns
    such as a name are ignored. Existing subscribers are left as they are; suppressed
    addresses (they left or bounced) are skipped and reported. An invalid row refuses the whole
    import, with line numbers, unless --skip-invalid.

    Example: digest subscribers import readers.csv
    """
    from digest.db import session_scope
    from digest.subscribers import import_subscribers

    state = app_context(ctx)
    with session_scope(state.engine, write=True) as session:
        report = import_subscribers(session=session, path=file, pending=pending, skip_invalid=skip_invalid)
    if json_output:
        print_json(report.to_json())
        return
    _say(ctx, f"added {len(report.added)}, already present {len(report.already_present)}, "
              f"suppressed {len(report.suppressed)}, invalid {len(report.invalid)}")
    for email in report.suppressed:
        _say(ctx, f"suppressed (left or bounced, not re-subscribed): {email}")
    for line, text, reason in report.invalid:
        _say(ctx, f"skipped line {line}: {reason}")
    if report.ignored_columns:
        _say(ctx, f"ignored columns: {', '.join(report.ignored_columns)}")


@subscribers_app.command("list")
def list_(
    ctx: typer.Context,
    status: Optional[str] = typer.Option(None, "--status", help="pending, active, unsubscribed or bounced."),
    limit: Optional[int] = typer.Option(None, "--limit", min=0, max=MAX_ID, help="At most this many."),
    json_output: bool = typer.Option(False, "--json", help="Print every record as JSON."),
) -> None:
    """List subscribers by id, with a count per status.

    Example: digest subscribers list --status active --limit 20
    """
    from digest.db import session_scope
    from digest.subscribers import count_by_status, list_subscribers, subscriber_record

    state = app_context(ctx)
    with session_scope(state.engine) as session:
        rows = list_subscribers(session=session, status=status, limit=limit)
        counts = count_by_status(session)
    if json_output:
        print_json([subscriber_record(row) for row in rows])
        return
    from rich.table import Table

    from digest.cli.output import console

    table = Table(box=None, pad_edge=False)
    for column in ("id", "email", "status", "source", "since"):
        table.add_column(column)
    for row in rows:
        table.add_row(str(row.id), row.email, row.status, row.source, f"{row.created_at:%Y-%m-%d}")
    out = console()
    if rows:
        out.print(table)
    if not state.quiet:
        out.print(", ".join(f"{count} {name}" for name, count in counts.items()))


@subscribers_app.command("remove")
def remove(
    ctx: typer.Context,
    email: str = typer.Argument(..., metavar="EMAIL"),
    json_output: bool = typer.Option(False, "--json", help="Print the subscriber as JSON."),
) -> None:
    """Stop mailing an address and suppress it, so no later import brings it back.

    The subscriber stays on record as unsubscribed (their past votes still count); queued
    deliveries are skipped at send time.

    Example: digest subscribers remove ann@example.com
    """
    from digest.db import session_scope
    from digest.subscribers import remove_subscriber, subscriber_record

    state = app_context(ctx)
    with session_scope(state.engine, write=True) as session:
        subscriber = remove_subscriber(session=session, email=email)
    if json_output:
        print_json(subscriber_record(subscriber))
        return
    _say(ctx, f"removed {subscriber.email} (suppressed: imports will skip it)")


@subscribers_app.command("export")
def export(
    ctx: typer.Context,
    status: Optional[str] = typer.Option(None, "--status", help="Only this status."),
) -> None:
    """Write subscribers as CSV to stdout (email, status, source, dates, bounces).

    Example: digest subscribers export --status active > readers.csv
    """
    import csv

    from digest.db import session_scope
    from digest.subscribers import export_rows

    state = app_context(ctx)
    writer = csv.writer(sys.stdout, lineterminator="\n")
    with session_scope(state.engine) as session:
        for row in export_rows(session=session, status=status):
            writer.writerow(row)


def register(app: typer.Typer) -> None:
    app.add_typer(subscribers_app)
