"""Claim leases: a heartbeat keeps a sender's claims, a lapsed claim is taken over, a late answer
never undoes another sender's `sent`, and a sender that cannot renew stops sending. On both
backends (on SQLite the second store stands for a sender that took over from a dead one)."""

from __future__ import annotations

import time

from sqlalchemy import select

from delivery_helpers import make_ready_issue, write_parts
from digest.models import Delivery, Issue
from digest.outbox import queue_issue


def _store(engine, **options):
    from digest.deliveries import DeliveryStore

    return DeliveryStore(engine, **options)


def _small_queue(engine, settings, count: int = 6) -> int:
    from delivery_helpers import add_subscribers

    write_parts(settings, 1, make_ready_issue(engine, settings))
    add_subscribers(engine, [f"s{i}@example.com" for i in range(count)])
    queue_issue(engine=engine, settings=settings, number=1, render=False)
    with engine.connect() as conn:
        return conn.execute(select(Issue.__table__.c.id)).scalar_one()


def _wait_for_lapse(store, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while (state := store.queue_state()).held and time.monotonic() < deadline:
        time.sleep(min(state.held_for, 0.2) + 0.02)
    assert not store.queue_state().held


def test_a_heartbeat_keeps_claims_and_a_lapsed_claim_is_taken_over(engine, settings) -> None:
    issue_id = _small_queue(engine, settings)
    first, second = _store(engine, lease=1.0), _store(engine, lease=1.0)
    try:
        mine = first.claim(issue_id, 4)
        heartbeat = first.heartbeat()
        try:
            time.sleep(1.5)  # longer than the lease: only the heartbeat keeps the claims
            theirs = second.claim(issue_id, 10)
            assert len(theirs) == 2
            for job in theirs:
                second.record_sent(job, f"<{job.delivery_id}@x>")
            state = second.queue_state()
            assert (state.due, state.held, state.waiting) == (0, 4, 0) and 0 < state.held_for <= 1.0
            assert first.claim_safe()
        finally:
            heartbeat.stop()  # the sender "dies": nothing renews its claims any more
        _wait_for_lapse(second)
        assert second.queue_state().due == 4
        second.new_pass()
        taken = second.claim(issue_id, 10)
        assert sorted(j.delivery_id for j in taken) == sorted(j.delivery_id for j in mine)
        # the first sender's late answers cannot undo what the new holder recorded
        second.record_sent(taken[0], "<m@x>")
        first.record_transient(mine[0], "451 try later")
        first.record_permanent(mine[0], "550 no such user")
        with engine.connect() as conn:
            assert conn.execute(select(Delivery.__table__.c.status).where(
                Delivery.__table__.c.id == mine[0].delivery_id)).scalar_one() == "sent"
    finally:
        first.close()
        second.close()


def test_a_sender_that_cannot_renew_its_claims_stops_sending() -> None:
    from digest.claims import ClaimLease

    now = [100.0]
    lease = ClaimLease(8.0, clock=lambda: now[0])
    assert lease.safe()  # nothing claimed yet
    lease.claimed(100.0)
    now[0] = 105.9
    assert lease.safe()
    now[0] = 106.0  # a quarter of the lease left: too little for a message in flight
    assert not lease.safe()
    lease.renewed(105.0)
    assert lease.safe() and lease.due_in() == 1.0
    lease.lost = "taken over"
    assert not lease.safe()
