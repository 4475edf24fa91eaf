"""`digest scheduler` (run the scheduled jobs) and `digest schedule list` (what runs next)."""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from digest.cli.context import app_context
from digest.cli.output import print_json

schedule_app = typer.Typer(help="See what the scheduler will run, and when.", no_args_is_help=True)


def scheduler(ctx: typer.Context) -> None:
    """Run the scheduled jobs in the foreground until stopped (SIGTERM or Ctrl-C).

    Polls the feeds on `[schedule] poll`, sends the newest ready scheduled issue on
    `[schedule] send` (a missed send still goes out within `grace`; later, or with no ready
    issue, the editor is told), and sends one-off issues at their time. Jobs are stored in the
    database, so a restart keeps them; several schedulers may share one database safely.
    Logs one line per event to stderr. Stopping finishes the messages in flight; the rest of
    an unfinished send stays queued and is resumed by the next start.

    Example: digest --home ~/verdicts scheduler
    """
    from digest.scheduler.jobs import Runtime
    from digest.scheduler.service import run_scheduler
    from digest.scheduler.timing import Schedule

    state = app_context(ctx)
    schedule = Schedule.from_settings(state.settings)
    level = logging.DEBUG if state.verbose else logging.WARNING if state.quiet else logging.INFO
    logging.getLogger("digest").setLevel(level)
    logging.getLogger("apscheduler").setLevel(logging.DEBUG if state.verbose else logging.WARNING)
    runtime = Runtime(settings=state.settings, engine=state.engine, schedule=schedule)
    run_scheduler(runtime)


@schedule_app.command("list")
def schedule_list(
    ctx: typer.Context,
    json_output: Annotated[bool, typer.Option("--json", help="Print complete machine-readable JSON.")] = False,
) -> None:
    """What runs next and when: the cron jobs, one-off issue sends and each job's last run.

    Works whether or not a scheduler is running: next run times come from the job store a
    scheduler keeps in the database, or from the settings before one has ever run.

    Example: digest schedule list --json
    """
    from digest.models import utcnow
    from digest.scheduler.listing import schedule_listing
    from digest.scheduler.timing import Schedule

    state = app_context(ctx)
    schedule = Schedule.from_settings(state.settings)
    listing = schedule_listing(engine=state.engine, schedule=schedule, now=utcnow())
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


def register(app: typer.Typer) -> None:
    app.command("scheduler")(scheduler)
    app.add_typer(schedule_app, name="schedule")
