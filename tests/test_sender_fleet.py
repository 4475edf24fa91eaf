"""Several `digest send` processes sharing one PostgreSQL queue: every reader gets one message,
and a sender killed mid-run leaves nothing unsent once the leases on its claims run out.

Real processes, a real PostgreSQL database (the suite's scratch database) and one aiosmtpd sink
on 127.0.0.1. Runs in the PostgreSQL pass (`TEST_DATABASE=postgresql`); SQLite has one sender.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from delivery_helpers import make_ready_issue, parse, write_parts
from digest.claims import describe_holder
from digest.models import Delivery, Issue, Subscriber
from digest.outbox import queue_issue
from digest.smtpsink import start_sink

pytestmark = pytest.mark.postgresql_only

TOTAL = 10_000
SENDERS = 4
WORKERS = 2
LEASE = 4.0  # seconds: short, so the claims of a killed sender come back within the test


@pytest.fixture
def sink():
    server = start_sink()
    yield server
    server.stop()


@pytest.fixture
def queued(home, engine, settings) -> int:
    """Issue 1 queued for TOTAL active readers; returns the issue's id."""
    write_parts(settings, 1, make_ready_issue(engine, settings), filler=1)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(Subscriber.__table__.insert(), [
            {"email": f"r{i}@example.com", "email_key": f"r{i}@example.com", "status": "active", "source": "cli",
             "bounce_count": 0, "created_at": now} for i in range(TOTAL)])
    assert queue_issue(engine=engine, settings=settings, number=1, render=False).added == TOTAL
    with engine.connect() as conn:
        return conn.execute(select(Issue.__table__.c.id)).scalar_one()


def start_senders(home, sink, count: int) -> list[subprocess.Popen]:
    env = {**os.environ, "DIGEST_SMTP_URL": sink.url(), "DIGEST_SEND_LEASE": f"{LEASE}s"}
    command = [sys.executable, "-m", "digest", "--home", str(home), "send", "--workers", str(WORKERS), "--json"]
    return [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(count)]


def finish(processes: list[subprocess.Popen]) -> list[dict]:
    reports = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        reports.append(json.loads(out))
    return reports


def statuses(engine) -> Counter:
    D = Delivery.__table__
    with engine.connect() as conn:
        return Counter(dict(conn.execute(select(D.c.status, func.count()).group_by(D.c.status)).all()))


def test_four_senders_share_one_queue_and_each_reader_gets_one_message(home, engine, queued, sink) -> None:
    reports = finish(start_senders(home, sink, SENDERS))
    copies = Counter(m.recipients[0] for m in sink.messages)
    assert len(copies) == TOTAL and set(copies.values()) == {1}  # each reader once, nobody twice
    assert sum(r["sent"] for r in reports) == TOTAL
    assert sum(1 for r in reports if r["sent"]) >= 2  # the work was shared
    assert sum(r["completed_issues"] == [1] for r in reports) == 1  # one sender marks the issue sent
    assert statuses(engine) == {"sent": TOTAL}
    ids = [parse(m.data)["Message-ID"] for m in sink.messages[:500]]
    assert len(set(ids)) == len(ids)


def test_a_killed_senders_claims_are_taken_over_after_their_lease(home, engine, queued, sink) -> None:
    D = Delivery.__table__
    processes = start_senders(home, sink, SENDERS)
    try:
        assert sink.wait_for(TOTAL // 4, timeout=90)
        # the victim: a sender holding claims right now (rows it took and has not settled)
        deadline = time.monotonic() + 30
        victim = held = None
        while victim is None and time.monotonic() < deadline:
            with engine.connect() as conn:
                holders = conn.execute(select(D.c.claimed_by, func.count()).where(
                    D.c.status == "queued", D.c.claimed_by.is_not(None)).group_by(D.c.claimed_by)).all()
            by_pid = {describe_holder(h).split()[1]: h for h, n in holders if n >= WORKERS * 3}
            victim = next((p for p in processes if str(p.pid) in by_pid), None)
            held = by_pid.get(str(victim.pid)) if victim else None
        assert victim is not None, "no sender held claims"
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=30)
        with engine.connect() as conn:
            orphaned = {r.id: r.subscriber_id for r in conn.execute(
                select(D.c.id, D.c.subscriber_id).where(D.c.status == "queued", D.c.claimed_by == held))}
        assert orphaned  # the dead sender's claims: nobody may take them until their lease ends
        survivors = [p for p in processes if p is not victim]
        reports = finish(survivors)
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=30)
    assert victim.returncode == -signal.SIGKILL
    assert statuses(engine) == {"sent": TOTAL}  # every delivery ended sent, the orphans too
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).where(D.c.claimed_by.is_not(None))).scalar() == 0
        assert conn.execute(select(Issue.__table__.c.status)).scalar_one() == "sent"
    copies = Counter(m.recipients[0] for m in sink.messages)
    assert set(copies) == {f"r{i}@example.com" for i in range(TOTAL)}
    # only a message the dead sender had in flight (accepted, not yet recorded) may arrive twice:
    # at most one per worker of that one process, each with the same Message-ID
    twice = [email for email, n in copies.items() if n > 1]
    assert len(twice) <= WORKERS and max(copies.values()) <= 2
    for email in twice:
        assert len({parse(m.data)["Message-ID"] for m in sink.messages if m.recipients[0] == email}) == 1
    assert sum(r["sent"] for r in reports) >= len(orphaned)

