"""The guards behind "exactly once": a job lease that renews itself, and one JobRun per slot."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from digest.leases import acquire, current_holder
from digest.models import Lease
from digest.scheduler import runs
from scheduler_support import wait_until

SLOT = datetime(2025, 1, 7, 9, 0, tzinfo=UTC)


def expires_at(engine, name: str) -> datetime:
    with engine.connect() as connection:
        return connection.execute(select(Lease.expires_at).where(Lease.name == name)).scalar()


def test_a_held_lease_is_renewed_while_the_work_lasts(engine) -> None:
    lease = runs.HeldLease(engine, "scheduler:send", "worker", ttl=timedelta(seconds=0.4))
    assert lease.try_acquire()
    first = expires_at(engine, "scheduler:send")
    with lease:
        wait_until(lambda: expires_at(engine, "scheduler:send") > first + timedelta(seconds=0.2),
                   timeout=10, what="a renewal")
        assert not acquire(engine, "scheduler:send", "twin", ttl=timedelta(minutes=1))
        assert not lease.lost.is_set()
    assert current_holder(engine, "scheduler:send") is None  # released at the end
    assert acquire(engine, "scheduler:send", "twin", ttl=timedelta(minutes=1))


def test_a_lease_taken_over_is_reported_lost(engine) -> None:
    lease = runs.HeldLease(engine, "scheduler:poll", "worker", ttl=timedelta(seconds=0.4))
    with lease:
        assert lease.try_acquire()
        with engine.begin() as connection:  # as if the database had been unreachable past the ttl
            connection.execute(update(Lease).where(Lease.name == "scheduler:poll")
                               .values(holder="usurper", expires_at=datetime.now(UTC) + timedelta(minutes=5)))
        wait_until(lease.lost.is_set, timeout=10, what="the loss to be noticed")
    assert current_holder(engine, "scheduler:poll") == "usurper"  # releasing never takes another's lease


def test_waiting_for_a_lease_gives_up_when_stopped(engine) -> None:
    assert acquire(engine, "scheduler:send", "busy", ttl=timedelta(minutes=5))
    stop = threading.Event()
    stop.set()
    lease = runs.HeldLease(engine, "scheduler:send", "waiter")
    assert not lease.wait_acquire(timeout=3600, stop=stop)


def test_one_claim_per_slot(engine) -> None:
    first = runs.claim_slot(engine, job="weekly-send", slot=SLOT, holder="a", now=SLOT)
    assert first is not None
    assert runs.claim_slot(engine, job="weekly-send", slot=SLOT, holder="b", now=SLOT) is None
    # the same instant written in another zone is the same slot
    from zoneinfo import ZoneInfo

    assert runs.claim_slot(engine, job="weekly-send", slot=SLOT.astimezone(ZoneInfo("Asia/Tokyo")),
                           holder="c", now=SLOT) is None
    assert runs.claim_slot(engine, job="poll", slot=SLOT, holder="b", now=SLOT) is not None  # other job
    assert runs.last_slot(engine, "weekly-send") == SLOT
    runs.finish_run(engine, first, outcome="ok", detail="issue 1: 3 sent", now=SLOT + timedelta(seconds=5))
    [record] = runs.recent_runs(engine, "weekly-send")
    assert (record.outcome, record.detail, record.holder) == ("ok", "issue 1: 3 sent", "a")


def test_a_run_whose_holder_is_gone_shows_as_interrupted(engine) -> None:
    runs.claim_slot(engine, job="weekly-send", slot=SLOT, holder="crashed", now=SLOT)
    assert runs.recent_runs(engine, "weekly-send")[0].outcome == "interrupted"
    acquire(engine, "scheduler:send", "crashed", ttl=timedelta(minutes=1))
    assert runs.recent_runs(engine, "weekly-send")[0].outcome == "running"


def test_old_runs_are_pruned(engine, monkeypatch) -> None:
    monkeypatch.setattr(runs, "KEEP_RUNS", 3)
    for hour in range(6):
        slot = SLOT + timedelta(hours=hour)
        run_id = runs.claim_slot(engine, job="poll", slot=slot, holder="p", now=slot)
        runs.finish_run(engine, run_id, outcome="ok", detail="", now=slot)
    kept = [record.slot for record in runs.recent_runs(engine, "poll", limit=10)]
    assert kept == [SLOT + timedelta(hours=h) for h in (5, 4, 3)]
