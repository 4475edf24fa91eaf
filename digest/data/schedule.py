"""The scheduler's stored state as `digest schedule list` reads it: APScheduler's stored jobs
(its own table, `SQLAlchemyJobStore`), the jobs' runs, the leases and the issues waiting to go.

`stored_next_runs` takes a SQLAlchemy connection (the scheduler's own); the rest take a
`digest.data.engine.Database`, so the listing imports neither SQLAlchemy (on SQLite) nor the
models: that import was most of the command's time (issue 14 §4).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from digest.data.codec import as_datetime

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from digest.data.engine import Database

SCHEDULED = "scheduled"  # IssueStatus.SCHEDULED (tests/test_scheduler_cli.py keeps it in step)


@dataclass(frozen=True)
class RunRecord:
    """One run of a job (a JobRun row), its datetimes aware UTC."""

    job: str
    slot: datetime
    holder: str
    outcome: str
    detail: str
    started_at: datetime
    finished_at: datetime | None

    def to_json(self) -> dict:
        return {"job": self.job, "slot": self.slot, "holder": self.holder, "outcome": self.outcome,
                "detail": self.detail, "started_at": self.started_at, "finished_at": self.finished_at}


def stored_next_runs(connection: Connection, table: str) -> dict[str, datetime | None]:
    """Job id -> next run time as APScheduler stored it in `table` (seconds since the epoch);
    empty when no scheduler ever ran (the table does not exist yet)."""
    from sqlalchemy import inspect, text

    if not inspect(connection).has_table(table):
        return {}
    rows = connection.execute(text(f"SELECT id, next_run_time FROM {table}")).all()  # noqa: S608 - our constant
    return {row[0]: _from_epoch(row[1]) for row in rows}


def _from_epoch(value: Any) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value is not None else None


def stored_next_runs_in(db: Database, table: str) -> dict[str, datetime | None]:
    """`stored_next_runs` on a Database: the same answer, without SQLAlchemy's inspector."""
    if db.dialect == "sqlite":
        exists = db.scalar("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = :table",
                           {"table": table})
    else:
        exists = db.scalar("SELECT count(*) FROM information_schema.tables WHERE table_name = :table "
                           "AND table_schema = current_schema()", {"table": table})
    if not exists:
        return {}
    rows = db.query(f"SELECT id, next_run_time FROM {table}")  # noqa: S608 - our constant
    return {row["id"]: _from_epoch(row["next_run_time"]) for row in rows}


def job_runs(db: Database, job: str, *, limit: int = 1) -> list[RunRecord]:
    """The job's latest runs, newest slot first, with the outcome as stored."""
    rows = db.query("SELECT job, slot, holder, outcome, detail, started_at, finished_at FROM jobrun "
                    "WHERE job = :job ORDER BY slot DESC LIMIT :limit", {"job": job, "limit": limit})
    return [RunRecord(r["job"], as_datetime(r["slot"]), r["holder"], r["outcome"], r["detail"],
                      as_datetime(r["started_at"]), as_datetime(r["finished_at"])) for r in rows]


def lease_holder(db: Database, name: str, *, now: datetime) -> str | None:
    """Who holds the lease at `now`, None if it is free or expired (`digest.leases.current_holder`)."""
    row = db.one("SELECT holder, expires_at FROM lease WHERE name = :name", {"name": name})
    if row is None or not row["holder"] or as_datetime(row["expires_at"]) <= now:
        return None
    return row["holder"]


def weekly_issue_numbers(db: Database) -> list[int]:
    """Issues waiting for the weekly send, newest number first (`sendable.weekly_issues`)."""
    return [row["number"] for row in db.query(
        "SELECT number FROM issue WHERE status = :status AND scheduled_at IS NULL ORDER BY number DESC",
        {"status": SCHEDULED})]


def one_off_sends(db: Database) -> list[tuple[int, str, datetime]]:
    """(number, subject, send time) of the issues with a one-off send time, earliest first
    (`sendable.one_off_issues`)."""
    return [(row["number"], row["subject"], as_datetime(row["scheduled_at"])) for row in db.query(
        "SELECT number, subject, scheduled_at FROM issue WHERE status = :status AND scheduled_at IS NOT NULL "
        "ORDER BY scheduled_at, number", {"status": SCHEDULED})]
