"""A relay outage under the scheduler: an hour or a day of refusals, then every reader served
once after the relay returns, with nobody at the keyboard.

The scheduler's jobs run on the real stages, the real database and a scripted relay on
127.0.0.1; the clock is in the test's hands (each job takes `now`), so a day passes in seconds.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from digest.config import load_settings
from digest.db import open_database
from digest.scheduler.jobs import Runtime, dispatch_job, weekly_send_job
from digest.scheduler.timing import Schedule
from faults.relay import Phase, outcome, start_relay
from scheduler_support import add_subscribers, make_issue

SLOT = datetime(2025, 1, 7, 9, 0, tzinfo=UTC)  # a Tuesday: the default weekly send at 09:00 UTC
STEP = timedelta(minutes=5)  # how often the test lets the minute dispatch job run once the relay is back
OUTAGE_STEP = timedelta(minutes=15)  # and during the outage (its pauses grow to 60 minutes anyway)


@pytest.mark.parametrize("outage", [timedelta(hours=1), timedelta(days=1)], ids=["an hour", "a day"])
def test_an_outage_ends_with_every_reader_served_once_and_no_editor_action(home, monkeypatch, outage) -> None:
    with (home / "digest.toml").open("a", encoding="utf-8") as handle:
        handle.write('\n[send]\nretries = 1\nretry_delay = "1s"\n')
    with start_relay() as relay:
        monkeypatch.setenv("DIGEST_SMTP_URL", relay.url())
        settings = load_settings(home)
        rt = Runtime(settings=settings, engine=open_database(settings), schedule=Schedule.from_settings(settings))
        make_issue(rt.engine, rt.settings, number=1)
        readers = add_subscribers(rt.engine, 14)
        relay.handler.phase = Phase(rcpt="451 4.3.0 Mail server temporarily rejected message")

        weekly = weekly_send_job(rt, now=SLOT)
        assert weekly.outcome == "failed" and "relay refused: 451 4.3.0" in weekly.detail
        now, attempts = SLOT, 0
        while now < SLOT + outage:
            now += OUTAGE_STEP
            tried = sum(1 for result in dispatch_job(rt, now=now) if result.job == "resume")
            if tried:
                attempts += tried
                seen = outcome(rt.engine, relay)
                assert set(seen.deliveries.values()) == {("queued", 0)} and seen.issue == "sending"
        # the scheduler kept trying, less often as the outage went on (1, 2, 4 ... 60 minutes apart)
        assert 2 <= attempts <= outage / timedelta(minutes=60) + 4
        assert not relay.messages

        relay.handler.phase = Phase()  # the relay is back
        back = now
        while outcome(rt.engine, relay).issue != "sent":
            assert now - back <= timedelta(minutes=65), "not resumed within the hour after the relay came back"
            now += STEP
            dispatch_job(rt, now=now)
        seen = outcome(rt.engine, relay)
        assert sorted(seen.copies) == sorted(readers) and set(seen.copies.values()) == {1}
        assert set(seen.bounces.values()) == {0} and set(seen.statuses.values()) == {"active"}
        assert {status for status, _attempts in seen.deliveries.values()} == {"sent"}
        rt.engine.dispose()
