"""Exactly once across processes: job leases that renew themselves, and one JobRun per slot.

Two guards, because they stop different twins:

* a lease (`digest.leases`, compare-and-set with expiry) keeps two processes from working on
  the same job *at the same time*; `HeldLease` renews it in a background thread while the work
  lasts, so a live holder keeps it and a dead one lets it expire within `ttl`;
* a JobRun row per (job, slot), inserted against a unique constraint, keeps a second process
  from acting for a slot *after* the first one finished and released the lease.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from digest.leases import acquire, current_holder, release
from digest.data.schedule import RunRecord
from digest.models import JobRun, utcnow
from digest.scheduler.names import lease_name

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

log = logging.getLogger("digest.scheduler")

LEASE_TTL = timedelta(minutes=2)
KEEP_RUNS = 500  # JobRun rows kept per job; older ones are pruned


class HeldLease:
    """A lease taken for a stretch of work and renewed every `ttl / 4` until released.

    `lost` is set when a renewal fails (the database was unreachable for longer than the ttl,
    or another process took the lease over); work that can stop early should watch it.
    """

    def __init__(self, engine: Engine, name: str, holder: str, *, ttl: timedelta = LEASE_TTL) -> None:
        self.engine, self.name, self.holder, self.ttl = engine, name, holder, ttl
        self.lost = threading.Event()
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    def try_acquire(self) -> bool:
        if not acquire(self.engine, self.name, self.holder, ttl=self.ttl):
            return False
        self._thread = threading.Thread(target=self._renew, name=f"lease {self.name}", daemon=True)
        self._thread.start()
        return True

    def wait_acquire(self, *, timeout: float, stop: threading.Event, every: float = 1.0) -> bool:
        """Try until the lease is free, `timeout` seconds pass or `stop` is set."""
        deadline = utcnow() + timedelta(seconds=max(timeout, 0))
        while True:
            if self.try_acquire():
                return True
            remaining = (deadline - utcnow()).total_seconds()
            if remaining <= 0 or stop.wait(min(every, remaining)):
                return False

    def _renew(self) -> None:
        interval = self.ttl.total_seconds() / 4
        while not self._done.wait(interval):
            try:
                still_ours = acquire(self.engine, self.name, self.holder, ttl=self.ttl)
            except Exception as exc:  # noqa: BLE001 - a failed renewal is reported, not raised
                log.warning("lease %s: renewal failed: %s", self.name, exc)
                continue
            if not still_ours:
                log.error("lease %s: lost to %s; stopping this job", self.name,
                          current_holder(self.engine, self.name) or "nobody")
                self.lost.set()
                return

    def release(self) -> None:
        self._done.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
            try:
                release(self.engine, self.name, self.holder)
            except Exception as exc:  # noqa: BLE001 - it expires by itself
                log.warning("lease %s: release failed (it expires by itself): %s", self.name, exc)

    def __enter__(self) -> HeldLease:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


# --- JobRun ---------------------------------------------------------------------------------

def last_slot(engine: Engine, job: str) -> datetime | None:
    """The latest slot any process has claimed for `job`."""
    from sqlalchemy import func, select

    with engine.connect() as connection:
        return connection.execute(select(func.max(JobRun.slot)).where(JobRun.job == job)).scalar()


def claim_slot(engine: Engine, *, job: str, slot: datetime, holder: str, now: datetime) -> int | None:
    """Record that `holder` runs `job` for `slot`; the new JobRun's id, None if already claimed."""
    from sqlalchemy import select

    from digest.db import insert_ignore, write_engine

    with write_engine(engine).begin() as connection:
        insert_ignore(connection, JobRun, {"job": job, "slot": slot, "holder": holder, "outcome": "running",
                                           "detail": "", "started_at": now}, conflict=["job", "slot"])
        # Whose row it is decides, not the insert's rowcount (-1 on PostgreSQL with psycopg);
        # holders are unique per process and job.
        row = connection.execute(select(JobRun.id, JobRun.holder).where(JobRun.job == job, JobRun.slot == slot)).first()
    return row.id if row is not None and row.holder == holder else None


def finish_run(engine: Engine, run_id: int, *, outcome: str, detail: str, now: datetime) -> None:
    """Record how the run ended, and prune the job's oldest rows beyond KEEP_RUNS."""
    from sqlalchemy import delete, select, update

    with engine.begin() as connection:
        connection.execute(update(JobRun).where(JobRun.id == run_id)
                           .values(outcome=outcome, detail=detail[:2000], finished_at=now))
        job = connection.execute(select(JobRun.job).where(JobRun.id == run_id)).scalar()
        keep = select(JobRun.id).where(JobRun.job == job).order_by(JobRun.slot.desc()).limit(KEEP_RUNS)
        connection.execute(delete(JobRun).where(JobRun.job == job, JobRun.id.not_in(keep.scalar_subquery())))


def recent_runs(engine: Engine, job: str, *, limit: int = 1) -> list[RunRecord]:
    """The job's latest runs, newest first; a `running` run whose lease is gone is `interrupted`."""
    from sqlalchemy import select

    with engine.connect() as connection:
        rows = connection.execute(select(JobRun).where(JobRun.job == job)
                                  .order_by(JobRun.slot.desc()).limit(limit)).mappings().all()
    records = []
    for row in rows:
        outcome = row["outcome"]
        if outcome == "running" and current_holder(engine, lease_name(job)) != row["holder"]:
            outcome = "interrupted"
        records.append(RunRecord(row["job"], _aware(row["slot"]), row["holder"], outcome, row["detail"],
                                 _aware(row["started_at"]), _aware(row["finished_at"])))
    return records


def _aware(value: datetime | None) -> datetime | None:
    from datetime import UTC

    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value
