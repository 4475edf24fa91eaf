"""`digest scheduler` (run the scheduled jobs) and `digest schedule list` (what runs next)."""

from __future__ import annotations

import logging
from typing import Annotated, Optional

import typer

from digest.cli.context import app_context
from digest.cli.output import print_json, say, warn
from digest.cli.params import IssueArg, JsonOption, json_option

schedule_app = typer.Typer(help="See what the scheduler will run, and when.", no_args_is_help=True)


def scheduler(
    ctx: typer.Context,
    skip_check: Annotated[bool, typer.Option("--skip-check", help="Start and send even while `digest check --offline` finds problems (each is logged).")] = False,
) -> None:
    """Run the scheduled jobs in the foreground until stopped (SIGTERM or Ctrl-C).

    Polls the feeds on `[schedule] poll`, sends the newest ready scheduled issue on
    `[schedule] send` (a missed send still goes out within `grace`; later, or with no ready
    issue, the editor is told), and sends one-off issues at their time. Jobs are stored in the
    database, so a restart keeps them; several schedulers may share one database safely.
    Logs one line per event to stderr. Stopping finishes the messages in flight; the rest of
    an unfinished send stays queued and is resumed by the next start. It refuses to start
    (exit 2), and each send refuses, while `digest check --offline` finds a problem.

    Example: digest --home ~/verdicts scheduler
    """
    from digest.scheduler.jobs import Runtime
    from digest.scheduler.service import run_scheduler
    from digest.scheduler.timing import Schedule

    from digest.preflight import require_ready

    state = app_context(ctx)
    schedule = Schedule.from_settings(state.settings)
    level = logging.DEBUG if state.verbose else logging.WARNING if state.quiet else logging.INFO
    logging.getLogger("digest").setLevel(level)
    logging.getLogger("apscheduler").setLevel(logging.DEBUG if state.verbose else logging.WARNING)
    report = require_ready(settings=state.settings, engine=state.engine, action="digest scheduler", skip=skip_check)
    for finding in report.problems:
        warn(f"starting despite a problem (--skip-check): {finding.check}: {finding.message}")
    runtime = Runtime(settings=state.settings, engine=state.engine, schedule=schedule, skip_check=skip_check)
    run_scheduler(runtime)


@schedule_app.command("list")
def schedule_list(
    ctx: typer.Context,
    json_output: JsonOption = False,
) -> None:
    """What runs next and when: the cron jobs, one-off issue sends and each job's last run.

    Works whether or not a scheduler is running: next run times come from the job store a
    scheduler keeps in the database, or from the settings before one has ever run.

    Example: digest schedule list --json
    """
    from datetime import UTC, datetime

    from digest.data.engine import connect
    from digest.scheduler.listing import schedule_listing
    from digest.scheduler.timing import Schedule

    state = app_context(ctx)
    schedule = Schedule.from_settings(state.settings)
    with connect(state.settings) as db, db.transaction():  # no ORM: see digest.data.schedule
        listing = schedule_listing(db, schedule=schedule, now=datetime.now(UTC))
    if json_output:
        print_json(listing.to_json())
        return
    for line in listing_lines(listing, schedule):
        typer.echo(line)


def listing_lines(listing, schedule) -> list[str]:  # noqa: ANN001
    """The listing for people: one line per job, soonest first, then whether a scheduler runs."""
    lines = []
    for entry in listing.entries:
        if entry.id == "dispatch":
            continue
        when = entry.next_run_at.astimezone(schedule.zone).strftime("%a %Y-%m-%d %H:%M %Z") if entry.next_run_at else "never"
        if entry.overdue:
            when += " (overdue: runs when a scheduler starts)" if listing.scheduler is None else " (due now)"
        what = entry.description
        if entry.id == "weekly-send":
            issues = entry.extra.get("scheduled_issues") or []
            what += f", issues waiting: {', '.join(map(str, issues))}" if issues else ", no issue scheduled"
        if entry.kind == "cron":
            what += f" [{entry.trigger}]"
        last = entry.last_run
        if last:
            what += f"; last run {last['slot'].astimezone(schedule.zone):%Y-%m-%d %H:%M}: {last['outcome']}"
        lines.append(f"{entry.id:<12} {when:<26} {what}")
    lines.append("dispatch     every minute               one-off sends, and resuming unfinished sends")
    if listing.scheduler is None:
        lines.append("No scheduler is running: start one with `digest scheduler` (see the README for systemd).")
    else:
        lines.append(f"A scheduler is running: {listing.scheduler}")
    return lines


def issue_schedule(
    ctx: typer.Context,
    issue: IssueArg,
    at: Annotated[Optional[str], typer.Option("--at", metavar="ISO-DATETIME", help="Send once at this time (no offset: the schedule's time zone). Without it: with the next weekly send.")] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Unschedule: back to draft.")] = False,
    json_output: json_option("Print the result as JSON.") = False,
) -> None:
    """Schedule an issue: with the next weekly send, or once at --at; --clear takes it back.

    The scheduler sends it only if it is ready by then; otherwise the editor is told.

    Examples: digest issue schedule 12 | digest issue schedule 12 --at 2025-03-04T09:00 | digest issue schedule 12 --clear
    """
    from datetime import UTC, datetime

    from digest.data.engine import connect
    from digest.errors import UsageError
    from digest.scheduler.booking import gaps as issue_gaps, issue_to_schedule, parse_send_time, schedule_issue, \
        unschedule_issue, weekly_numbers
    from digest.scheduler.timing import Schedule, next_fire_time

    if at is not None and clear:
        raise UsageError("--at and --clear cannot be used together")
    state = app_context(ctx)
    schedule = Schedule.from_settings(state.settings)
    now = datetime.now(UTC)
    when = parse_send_time(at, zone=schedule.zone, now=now) if at is not None else None
    with connect(state.settings) as db, db.transaction(write=True):  # no ORM: see digest.scheduler.booking
        found = issue_to_schedule(db, issue)
        found = unschedule_issue(db, found) if clear else schedule_issue(db, found, at=when)
        gaps = [] if clear else issue_gaps(db, found["number"], panel=state.settings.panel)
        others = [] if clear or when else [n for n in weekly_numbers(db) if n != found["number"]]
    number = found["number"]
    send_at = None if clear else when or next_fire_time(schedule.send, now)
    if json_output:
        print_json({"id": found["id"], "number": found["number"], "status": found["status"],
                    "subject": found["subject"], "scheduled_at": found["scheduled_at"], "weekly": not clear and when is None,
                    "send_at": send_at, "ready": not gaps, "missing": gaps})
        return
    if clear:
        say(ctx, f"issue {number} is back in draft (not scheduled)")
        return
    local = send_at.astimezone(schedule.zone).strftime("%a %Y-%m-%d %H:%M %Z")
    say(ctx, f"issue {number} will be sent once at {local}" if when
        else f"issue {number} will go out with the next weekly send: {local}")
    if gaps:
        warn(f"issue {number} is not ready yet: {gaps[0]}"
             + (f" (and {len(gaps) - 1} more)" if len(gaps) > 1 else "")
             + "; it is sent only if ready by then, otherwise the editor is told")
    newer = [n for n in others if n > number]
    if newer:
        warn(f"issue {max(newer)} is also waiting for the weekly send and is newer: it goes first")


def register(app: typer.Typer) -> None:
    from digest.cli.issue import issue_app

    app.command("scheduler")(scheduler)
    app.add_typer(schedule_app, name="schedule")
    issue_app.command("schedule")(issue_schedule)
