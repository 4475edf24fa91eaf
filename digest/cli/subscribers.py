"""`digest subscribers`: add, import, list, remove and export the audience."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from digest.cli.context import app_context
from digest.cli.output import print_json, say
from digest.cli.params import LIMIT_OR_ZERO, json_option

subscribers_app = typer.Typer(name="subscribers", no_args_is_help=True, rich_markup_mode=None,
                              help="The audience: add, import, list, remove and export subscribers.")


@subscribers_app.command("add")
def add(
    ctx: typer.Context,
    emails: list[str] = typer.Argument(..., metavar="EMAIL...", help="One or more addresses."),
    pending: bool = typer.Option(False, "--pending", help="Add as pending (not mailed until confirmed)."),
    override_suppression: bool = typer.Option(
        False, "--override-suppression",
        help="Subscribe a suppressed address again (it left, bounced or complained) and lift its suppression: "
             "only when the person asked you to."),
    json_output: json_option("Print what was done as JSON.") = False,
) -> None:
    """Subscribe addresses. They are active at once: by adding them you vouch for their consent.

    All or nothing: an invalid address, or one that left, bounced or complained (suppressed),
    refuses the whole command. Only --override-suppression subscribes a suppressed address
    again; otherwise the person comes back by confirming a sign-up on the site.

    Example: digest subscribers add ann@example.com bob@example.org
    """
    from digest.audience import add_subscribers
    from digest.data.engine import connect

    state = app_context(ctx)
    with connect(state.settings) as db, db.transaction(write=True):  # no ORM: see digest.audience
        report = add_subscribers(db, emails=emails, pending=pending, override_suppression=override_suppression)
    if json_output:
        print_json(report.to_json())
        return
    status = f" ({'pending' if pending else 'active'})"
    for label, items, suffix in (("added", report.added, status), ("activated", report.activated, ""),
                                 ("subscribed again, suppression lifted", report.resubscribed, status),
                                 ("already present", report.already_present, "")):
        for email in items:
            say(ctx, f"{label}: {email}{suffix}")


@subscribers_app.command("import")
def import_(
    ctx: typer.Context,
    file: Path = typer.Argument(..., metavar="FILE.csv", help="CSV with an email column (a header row is optional)."),
    pending: bool = typer.Option(False, "--pending", help="Add new addresses as pending instead of active."),
    skip_invalid: bool = typer.Option(False, "--skip-invalid", help="Import the valid rows even if some are invalid."),
    json_output: json_option("Print the report as JSON.") = False,
) -> None:
    """Import addresses from a CSV file, all or nothing, without re-subscribing anyone who left.

    The address column is the one headed email (or the first holding an @); a column headed
    status (as `subscribers export` writes) is honoured: unsubscribed, bounced and complained
    rows are kept and suppressed, pending rows stay pending, active rows (and rows without a
    status) are added active, which means you vouch for them. Other columns are ignored.
    Subscribers already here are left as they are, unless the file says they left: then they
    are suppressed. Addresses suppressed here are skipped and reported, whatever the file says.
    An invalid row refuses the whole import, with line numbers, unless --skip-invalid. Files
    are read as a stream: a line over 64 KiB, more than 1 GiB or more than a million rows is
    refused.

    Example: digest subscribers import readers.csv
    """
    from digest.db import session_scope
    from digest.subscriber_import import import_subscribers

    state = app_context(ctx)
    with session_scope(state.engine, write=True) as session:
        report = import_subscribers(session=session, path=file, pending=pending, skip_invalid=skip_invalid)
    if json_output:
        print_json(report.to_json())
        return
    say(ctx, report.summary())
    for email in report.left:
        say(ctx, f"suppressed (the file says they left): {email}")
    for email in report.suppressed:
        say(ctx, f"skipped, suppressed here (left, bounced or complained; not re-subscribed): {email}")
    for line, _text, reason in report.invalid:
        say(ctx, f"skipped line {line}: {reason}")
    if report.ignored_columns:
        say(ctx, f"ignored columns: {', '.join(report.ignored_columns)}")


@subscribers_app.command("list")
def list_(
    ctx: typer.Context,
    status: Optional[str] = typer.Option(None, "--status", help="pending, active, unsubscribed, bounced or complained."),
    limit: Optional[int] = typer.Option(None, "--limit", click_type=LIMIT_OR_ZERO, help="At most this many."),
    json_output: json_option("Print every record as JSON.") = False,
) -> None:
    """List subscribers by id, with a count per status; a bounced or complained one shows why
    and the issue it came from.

    Example: digest subscribers list --status bounced --json
    """
    from digest.data.engine import connect
    from digest.data.subscriber_list import listing

    state = app_context(ctx)
    with connect(state.settings) as db, db.transaction():  # no ORM: see digest.data.subscriber_list
        records, counts = listing(db, status=status, limit=limit)
    if json_output:
        print_json(records)
        return
    from rich.table import Table

    from digest.cli.output import console

    table = Table(box=None, pad_edge=False)
    why = any(record["reason"] for record in records)
    for column in ("id", "email", "status", "source", "since") + (("why", "issue") if why else ()):
        table.add_column(column)
    for record in records:
        cells = [str(record["id"]), record["email"], record["status"], record["source"], f"{record['created_at']:%Y-%m-%d}"]
        if why:
            short = (record["reason"] or "").partition(":")[0]  # kind and status; --json has the whole reason
            cells += [short, str(record["issue"]) if record["issue"] is not None else ""]
        table.add_row(*cells)
    if records:
        console().print(table)
    say(ctx, ", ".join(f"{count} {name}" for name, count in counts.items()))


@subscribers_app.command("remove")
def remove(
    ctx: typer.Context,
    email: str = typer.Argument(..., metavar="EMAIL"),
    json_output: json_option("Print the subscriber as JSON.") = False,
) -> None:
    """Stop mailing an address and suppress it, so no later import brings it back.

    The subscriber stays on record as unsubscribed (their past votes still count); queued
    deliveries are skipped at send time.

    Example: digest subscribers remove ann@example.com
    """
    from digest.audience import remove_subscriber
    from digest.data.engine import connect

    state = app_context(ctx)
    with connect(state.settings) as db, db.transaction(write=True):  # no ORM: see digest.audience
        subscriber = remove_subscriber(db, email=email)
    if json_output:
        print_json(subscriber)
        return
    say(ctx, f"removed {subscriber['email']} (suppressed: imports will skip it)")


@subscribers_app.command("export")
def export(
    ctx: typer.Context,
    status: Optional[str] = typer.Option(None, "--status", help="Only this status."),
) -> None:
    """Write subscribers as CSV to stdout (email, status, source, dates, bounces).

    Example: digest subscribers export --status active > readers.csv
    """
    import csv

    from digest.data.engine import connect
    from digest.data.subscriber_list import export_rows

    state = app_context(ctx)
    writer = csv.writer(sys.stdout, lineterminator="\n")
    with connect(state.settings) as db, db.transaction():  # no ORM: see digest.data.subscriber_list
        for row in export_rows(db, status=status):
            writer.writerow(row)


def register(app: typer.Typer) -> None:
    app.add_typer(subscribers_app)
