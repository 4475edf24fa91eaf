"""`kill -9` of the sender at random points, on a healthy or a flaky relay (fixed seeds): the
next `digest send` finishes the issue, every reader has it, and duplicates stay within the
bound of docs/guarantees.md (one per worker per crash, plus one per lost final reply)."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from delivery_helpers import make_ready_issue, write_parts
from digest.models import Subscriber
from digest.outbox import queue_issue
from faults.relay import Phase, outcome, start_relay

READERS = 120
WORKERS = 2
PHASES = {"healthy": Phase(), "drops mid-DATA": Phase(drop_mid_data=True, every=7),
          "lost replies": Phase(lose_reply=True, every=9), "refuses some": Phase(rcpt="451 4.7.1 Slow down", every=5)}


@pytest.mark.parametrize("seed", [3, 17, 2, 5])  # healthy, refuses some, drops mid-DATA, lost replies
def test_sigkill_at_a_random_point_loses_nothing_and_charges_no_reader(home, engine, settings, seed) -> None:
    rng = random.Random(seed)
    name = rng.choice(sorted(PHASES))
    kill_after = rng.randint(5, READERS // 2)
    with (home / "digest.toml").open("a", encoding="utf-8") as handle:
        handle.write('\n[send]\nretry_delay = "0.01s"\nbatch = 50\n')
    write_parts(settings, 1, make_ready_issue(engine, settings), filler=1)
    emails = [f"r{i:03d}@example.com" for i in range(READERS)]
    with engine.begin() as conn:
        conn.execute(Subscriber.__table__.insert(), [{"email": e, "email_key": e, "status": "active", "source": "cli",
                                                      "bounce_count": 0, "created_at": datetime.now(UTC)}
                                                     for e in emails])
    queue_issue(engine=engine, settings=settings, number=1, render=False)
    command = [sys.executable, "-m", "digest", "--home", str(home), "send", "--workers", str(WORKERS)]
    with start_relay() as relay:
        env = {**os.environ, "DIGEST_SMTP_URL": relay.url()}
        relay.handler.phase = PHASES[name]
        process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            arrived = relay.wait_for(kill_after, timeout=60)
            process.kill()
        finally:
            _out, err = process.communicate(timeout=30)
        assert arrived, err
        at_crash = outcome(engine, relay)
        assert process.returncode == -9 and "queued" in {s for s, _a in at_crash.deliveries.values()}, (name, seed)
        assert set(at_crash.bounces.values()) == {0}
        relay.handler.phase = Phase()
        finished = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        assert finished.returncode == 0, finished.stderr
        assert "issue 1 is sent" in finished.stdout
        seen = outcome(engine, relay)
    lost = sum(relay.handler.lost.values())
    assert set(seen.copies) == set(emails)
    assert sum(seen.copies.values()) - READERS <= WORKERS + lost, (name, seed, lost)
    assert set(seen.bounces.values()) == {0} and set(seen.statuses.values()) == {"active"}
    assert {status for status, _attempts in seen.deliveries.values()} == {"sent"} and seen.issue == "sent"
