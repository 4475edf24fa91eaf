"""`digest schedule list`: what runs next and when, with or without a scheduler running.

Next run times come from the job store when a scheduler has stored its jobs (that is what a
running scheduler will act on, including a slot that passed while none ran), and are computed
from the settings' triggers otherwise. One-off sends come from the issues' `scheduled_at`. Everything is read through
`digest.data.schedule` (sqlite3 on SQLite, `text()` on PostgreSQL), not the ORM.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from digest.data.schedule import (RunRecord, job_runs, lease_holder, one_off_sends, stored_next_runs_in,
                                  weekly_issue_numbers)
from digest.scheduler.names import (BOUNCES, DISPATCH, DISPATCH_CRON, HEARTBEAT, JOBSTORE_TABLE, POLL, WEEKLY,
                                    lease_name)
from digest.scheduler.timing import Schedule, next_fire_time, parse_cron

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from digest.data.engine import Database


@dataclass
class Entry:
    """One line of the listing."""

    id: str
    kind: str  # cron | one-off
    description: str
    next_run_at: datetime | None
    source: str  # job-store | settings | issue
    trigger: str = ""
    overdue: bool = False
    issue: int | None = None
    last_run: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.description, "kind": self.kind, "trigger": self.trigger,
                "next_run_at": self.next_run_at, "source": self.source, "overdue": self.overdue,
                "issue": self.issue, "last_run": self.last_run, **self.extra}


@dataclass
class Listing:
    timezone: str
    grace_seconds: float
    scheduler: str | None  # holder of the heartbeat: a scheduler process that is running
    entries: list[Entry]

    def to_json(self) -> dict[str, Any]:
        return {"timezone": self.timezone, "grace_seconds": self.grace_seconds,
                "scheduler_running": self.scheduler is not None, "scheduler": self.scheduler,
                "jobs": [entry.to_json() for entry in self.entries]}


def stored_next_runs(engine: Engine) -> dict[str, datetime | None]:
    """Job id -> next run time as stored by APScheduler; empty if no scheduler ever ran."""
    from digest.data.schedule import stored_next_runs as stored

    with engine.connect() as connection:
        return stored(connection, JOBSTORE_TABLE)


def schedule_listing(db: Database, *, schedule: Schedule, now: datetime) -> Listing:
    """Every job with its next run time, soonest first (one-off sends included), as at `now`."""
    stored = stored_next_runs_in(db, JOBSTORE_TABLE)
    cron = [(POLL, schedule.poll, schedule.poll_expr, "poll the feeds"),
            (WEEKLY, schedule.send, schedule.send_expr, "the weekly send"),
            (DISPATCH, parse_cron(DISPATCH_CRON, schedule.zone), DISPATCH_CRON, "one-off sends and unfinished sends")]
    if schedule.bounces is not None:
        cron.append((BOUNCES, schedule.bounces, schedule.bounces_expr, "read the bounce mailbox"))
    entries = []
    for job_id, trigger, expr, description in cron:
        if job_id in stored:
            next_at, source = stored[job_id], "job-store"
        else:
            next_at, source = next_fire_time(trigger, now), "settings"
        last = _last_run(db, job_id, now) if job_id not in (DISPATCH, BOUNCES) else None
        entries.append(Entry(job_id, "cron", description, next_at, source, trigger=f"{expr} ({schedule.zone_name})",
                             overdue=next_at is not None and next_at < now,
                             last_run=last.to_json() if last else None))
    next(entry for entry in entries if entry.id == WEEKLY).extra["scheduled_issues"] = weekly_issue_numbers(db)
    for number, subject, at in one_off_sends(db):
        entries.append(Entry(f"issue-{number}", "one-off", f"send issue {number}: {subject}", at, "issue",
                             overdue=at < now, issue=number))
    far = datetime.max.replace(tzinfo=UTC)
    # Ties (the hourly poll and the five-minute mailbox job meet at the top of each hour) go by id,
    # so the listing reads the same whatever minute it is asked in.
    entries.sort(key=lambda entry: (entry.next_run_at or far, entry.id))
    return Listing(schedule.zone_name, schedule.grace.total_seconds(), lease_holder(db, HEARTBEAT, now=now), entries)


def _last_run(db: Database, job: str, now: datetime) -> RunRecord | None:
    """The job's latest run; a `running` run whose lease is gone is `interrupted` (the rule of
    `digest.scheduler.runs.recent_runs`, which the scheduler reads through its engine)."""
    found = job_runs(db, job, limit=1)
    if not found:
        return None
    run = found[0]
    if run.outcome == "running" and lease_holder(db, lease_name(job), now=now) != run.holder:
        return replace(run, outcome="interrupted")
    return run
