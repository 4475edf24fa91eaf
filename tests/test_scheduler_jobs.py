"""The scheduled jobs, called with the clock in the test's hands, on the real stages.

Each job takes `now`; the database, the sender and the SMTP server (aiosmtpd on 127.0.0.1) are
real. What a reader or the editor would notice is asserted: who got which email, once.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta

import pytest

from digest.config import load_settings
from digest.db import open_database
from digest.scheduler.jobs import Runtime, dispatch_job, weekly_send_job
from digest.scheduler.timing import Schedule
from digest.smtpsink import start_sink
from scheduler_support import (add_subscribers, delivery_counts, issue_state, job_runs, make_issue, recipients,
                               wait_until)

SLOT = datetime(2025, 1, 7, 9, 0, tzinfo=UTC)  # a Tuesday: the default weekly send at 09:00 UTC
EDITOR = "editor@example.org"


@pytest.fixture
def sink():
    server = start_sink()
    yield server
    server.stop()


@pytest.fixture
def runtime(home, sink, monkeypatch):
    monkeypatch.setenv("DIGEST_SMTP_URL", sink.url())
    monkeypatch.setenv("DIGEST_EDITOR", EDITOR)
    return make_runtime(home)


def make_runtime(home) -> Runtime:
    settings = load_settings(home)
    return Runtime(settings=settings, engine=open_database(settings), schedule=Schedule.from_settings(settings))


def notices(sink) -> list[str]:
    """Subjects of the editor notices the mail server received."""
    return [parse(m.data)["Subject"] for m in sink.messages if EDITOR in m.recipients]


def body(message) -> str:
    return parse(message.data).get_content()


def parse(data: bytes):
    import email
    import email.policy

    return email.message_from_bytes(data, policy=email.policy.default)


# --- the weekly send ----------------------------------------------------------------------------

def test_weekly_send_sends_the_newest_ready_scheduled_issue_once(runtime, sink) -> None:
    rt = runtime
    make_issue(rt.engine, rt.settings, number=1)
    make_issue(rt.engine, rt.settings, number=2)
    make_issue(rt.engine, rt.settings, number=3, status="draft")
    readers = add_subscribers(rt.engine, 3)

    result = weekly_send_job(rt, now=SLOT + timedelta(seconds=2))

    assert (result.outcome, result.issue) == ("ok", 2)
    assert sorted(recipients(sink)) == sorted(readers)
    assert issue_state(rt.engine, 2).status == "sent"
    assert issue_state(rt.engine, 1).status == "scheduled"  # waits for next week
    assert issue_state(rt.engine, 3).status == "draft"  # drafts never go out by themselves
    # waking again for the same slot, in this process or a twin, sends nothing more
    twin = make_runtime(rt.settings.home)
    for again in (weekly_send_job(rt, now=SLOT + timedelta(minutes=5)), weekly_send_job(twin, now=SLOT + timedelta(hours=1))):
        assert again.outcome == "done"
    assert len(sink.messages) == 3
    assert [run.outcome for run in job_runs(rt.engine, "weekly-send")] == ["ok"]
    # next week the older scheduled issue goes out
    assert weekly_send_job(rt, now=SLOT + timedelta(weeks=1)).issue == 1
    assert len(sink.messages) == 6


def test_a_missed_send_within_the_grace_period_still_goes_out(runtime, sink) -> None:
    make_issue(runtime.engine, runtime.settings, number=1)
    add_subscribers(runtime.engine, 2)
    result = weekly_send_job(runtime, now=SLOT + timedelta(hours=5, minutes=59))
    assert (result.outcome, result.issue, result.slot) == ("ok", 1, SLOT)
    assert len(recipients(sink)) == 2
    assert notices(sink) == []


def test_a_send_missed_past_the_grace_period_is_not_sent_and_the_editor_is_told(runtime, sink) -> None:
    make_issue(runtime.engine, runtime.settings, number=1)
    add_subscribers(runtime.engine, 2)
    result = weekly_send_job(runtime, now=SLOT + timedelta(hours=6, minutes=1))
    assert result.outcome == "missed"
    assert delivery_counts(runtime.engine, 1) == {}
    assert issue_state(runtime.engine, 1).status == "scheduled"
    assert len(notices(sink)) == 1 and "was missed" in notices(sink)[0]
    assert "6h 1m" in body(sink.messages[0])
    # the notice is sent once, however many times (or processes) wake for that slot
    assert weekly_send_job(make_runtime(runtime.settings.home), now=SLOT + timedelta(hours=8)).outcome == "done"
    assert len(sink.messages) == 1


def test_an_issue_that_is_not_ready_is_not_sent_and_the_editor_is_told(runtime, sink) -> None:
    make_issue(runtime.engine, runtime.settings, number=1, ready=False)
    add_subscribers(runtime.engine, 2)
    result = weekly_send_job(runtime, now=SLOT)
    assert result.outcome == "nothing"
    assert delivery_counts(runtime.engine, 1) == {}
    assert issue_state(runtime.engine, 1).status == "scheduled"
    [subject] = notices(sink)
    assert "Nothing was sent" in subject
    text = body(sink.messages[0])
    assert "issue 1 is scheduled but not ready" in text and "futurist has not reviewed" in text


def test_no_scheduled_issue_names_a_ready_draft(runtime, sink) -> None:
    make_issue(runtime.engine, runtime.settings, number=4, status="draft")
    result = weekly_send_job(runtime, now=SLOT)
    assert result.outcome == "nothing"
    text = body(sink.messages[0])
    assert "no issue is scheduled for the weekly send" in text
    assert "digest issue schedule 4" in text


def test_without_an_editor_address_the_notice_is_logged(home, sink, monkeypatch, caplog) -> None:
    monkeypatch.setenv("DIGEST_SMTP_URL", sink.url())
    rt = make_runtime(home)
    with caplog.at_level(logging.INFO, logger="digest.scheduler"):
        assert weekly_send_job(rt, now=SLOT).outcome == "nothing"
    assert sink.messages == []
    assert any("editor notice: Nothing was sent" in r.getMessage() and "no editor address" in r.getMessage()
               for r in caplog.records)


def test_an_unreachable_mail_server_fails_the_send_without_losing_deliveries(home, monkeypatch, caplog) -> None:
    import socket

    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("DIGEST_SMTP_URL", f"smtp://127.0.0.1:{port}")
    monkeypatch.setenv("DIGEST_EDITOR", EDITOR)
    rt = make_runtime(home)
    make_issue(rt.engine, rt.settings, number=1)
    add_subscribers(rt.engine, 2)
    with caplog.at_level(logging.INFO, logger="digest.scheduler"):
        result = weekly_send_job(rt, now=SLOT)
    assert result.outcome == "failed"
    assert delivery_counts(rt.engine, 1) == {"queued": 2}  # nothing lost, nothing charged
    assert any("weekly-send failed" in r.getMessage() for r in caplog.records)
    assert any("emailing editor@example.org failed" in r.getMessage() for r in caplog.records)


def test_twin_processes_racing_for_one_slot_send_once(runtime, sink) -> None:
    make_issue(runtime.engine, runtime.settings, number=1)
    readers = add_subscribers(runtime.engine, 5)
    twins = [make_runtime(runtime.settings.home) for _ in range(3)]
    results = []
    threads = [threading.Thread(target=lambda rt=rt: results.append(weekly_send_job(rt, now=SLOT))) for rt in twins]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(r.outcome for r in results).count("ok") == 1
    assert sorted(recipients(sink)) == sorted(readers)


# --- one-off sends and unfinished sends ----------------------------------------------------------

def test_a_one_off_send_goes_out_at_its_time(runtime, sink) -> None:
    at = datetime(2025, 1, 9, 15, 30, tzinfo=UTC)
    make_issue(runtime.engine, runtime.settings, number=7, scheduled_at=at)
    add_subscribers(runtime.engine, 2)
    assert dispatch_job(runtime, now=at - timedelta(seconds=30)) == []
    assert sink.messages == []
    [result] = dispatch_job(runtime, now=at + timedelta(seconds=1))
    assert (result.job, result.outcome, result.issue) == ("one-off", "ok", 7)
    assert len(recipients(sink)) == 2
    assert issue_state(runtime.engine, 7).status == "sent"
    assert dispatch_job(runtime, now=at + timedelta(minutes=1)) == []
    # the weekly send does not take one-off issues
    assert weekly_send_job(runtime, now=SLOT + timedelta(weeks=1)).outcome == "nothing"


def test_a_one_off_send_past_the_grace_period_returns_to_draft(runtime, sink) -> None:
    at = datetime(2025, 1, 9, 15, 30, tzinfo=UTC)
    make_issue(runtime.engine, runtime.settings, number=7, scheduled_at=at)
    add_subscribers(runtime.engine, 2)
    [result] = dispatch_job(runtime, now=at + timedelta(hours=7))
    assert result.outcome == "missed"
    state = issue_state(runtime.engine, 7)
    assert (state.status, state.scheduled_at) == ("draft", None)
    assert delivery_counts(runtime.engine, 7) == {}
    assert notices(sink) == ["[Weekly AI Tool Verdicts] Issue 7 was not sent at 2025-01-09 15:30 UTC"]


def test_a_one_off_issue_not_ready_is_not_sent(runtime, sink) -> None:
    at = datetime(2025, 1, 9, 15, 30, tzinfo=UTC)
    make_issue(runtime.engine, runtime.settings, number=7, scheduled_at=at, ready=False)
    [result] = dispatch_job(runtime, now=at)
    assert result.outcome == "nothing"
    assert issue_state(runtime.engine, 7).status == "draft"
    assert "not ready" in notices(sink)[0]


def test_an_unfinished_send_is_resumed(runtime, sink) -> None:
    from digest.outbox import queue_issue

    make_issue(runtime.engine, runtime.settings, number=3)
    readers = add_subscribers(runtime.engine, 4)
    queue_issue(engine=runtime.engine, settings=runtime.settings, number=3)  # as a stopped send leaves it
    [result] = dispatch_job(runtime, now=SLOT)
    assert (result.job, result.outcome) == ("resume", "ok")
    assert sorted(recipients(sink)) == sorted(readers)
    assert issue_state(runtime.engine, 3).status == "sent"


# --- leases ---------------------------------------------------------------------------------

def test_a_lease_held_by_a_dead_process_expires(runtime, sink) -> None:
    from digest.leases import acquire

    make_issue(runtime.engine, runtime.settings, number=1)
    add_subscribers(runtime.engine, 1)
    assert acquire(runtime.engine, "scheduler:send", "dead-process", ttl=timedelta(seconds=1))
    wait_until(lambda: weekly_send_job(runtime, now=SLOT).outcome == "ok", timeout=30, what="the lease to expire")
    assert len(recipients(sink)) == 1


# --- gaps closed: a slot never handled, a lease that stays taken -----------------------------------

def handled(rt, slot) -> None:
    from digest.scheduler import runs

    run_id = runs.claim_slot(rt.engine, job="weekly-send", slot=slot, holder="earlier", now=slot)
    runs.finish_run(rt.engine, run_id, outcome="ok", detail="", now=slot)


def test_dispatch_catches_up_a_weekly_slot_that_was_never_handled(runtime, sink) -> None:
    make_issue(runtime.engine, runtime.settings, number=1)
    readers = add_subscribers(runtime.engine, 2)
    assert dispatch_job(runtime, now=SLOT + timedelta(minutes=30)) == []  # never ran before: no guessing
    handled(runtime, SLOT - timedelta(weeks=1))
    assert dispatch_job(runtime, now=SLOT + timedelta(minutes=1)) == []  # on time is the weekly job's
    [result] = dispatch_job(runtime, now=SLOT + timedelta(minutes=30))
    assert (result.job, result.outcome, result.issue) == ("weekly-send", "ok", 1)
    assert sorted(recipients(sink)) == sorted(readers)
    assert dispatch_job(runtime, now=SLOT + timedelta(minutes=31)) == []


def test_no_catch_up_after_several_unhandled_slots(runtime, sink) -> None:
    make_issue(runtime.engine, runtime.settings, number=1)
    handled(runtime, SLOT - timedelta(weeks=3))  # a changed cron or a long outage: not ours to guess
    assert dispatch_job(runtime, now=SLOT + timedelta(minutes=30)) == []
    assert sink.messages == []


def test_a_send_lease_taken_for_the_whole_grace_period_is_a_missed_send(runtime, sink) -> None:
    from digest.leases import acquire

    make_issue(runtime.engine, runtime.settings, number=1)
    add_subscribers(runtime.engine, 1)
    assert acquire(runtime.engine, "scheduler:send", "a-long-one-off-send", ttl=timedelta(minutes=5))
    result = weekly_send_job(runtime, now=SLOT + timedelta(hours=6) - timedelta(seconds=1))
    assert result.outcome == "missed"
    assert delivery_counts(runtime.engine, 1) == {}
    assert "another send held the send lease" in body(sink.messages[0])


@pytest.mark.sqlite_only  # on PostgreSQL several senders share the queue (no sender lease)
def test_a_manual_sender_holding_the_queue_delays_the_send_without_failing_it(runtime, sink) -> None:
    import os
    import socket

    from digest.leases import release
    from digest.models import Lease
    from digest.db import session_scope

    make_issue(runtime.engine, runtime.settings, number=1)
    readers = add_subscribers(runtime.engine, 2)
    other = f"{socket.gethostname()}:{os.getpid()}:manual"  # a live `digest send` on this machine
    with session_scope(runtime.engine, write=True) as session:
        session.add(Lease(name="sender", holder=other, expires_at=datetime.now(UTC) + timedelta(minutes=10)))
    result = weekly_send_job(runtime, now=SLOT)
    assert (result.outcome, result.issue) == ("ok", 1)
    assert "another sender is running" in result.detail
    assert delivery_counts(runtime.engine, 1) == {"queued": 2} and sink.messages == []
    assert release(runtime.engine, "sender", other)
    [resumed] = dispatch_job(runtime, now=SLOT + timedelta(minutes=1))
    assert (resumed.job, resumed.outcome) == ("resume", "ok")
    assert sorted(recipients(sink)) == sorted(readers)


def test_a_failing_resume_backs_off_instead_of_failing_every_minute(home, sink, monkeypatch) -> None:
    import socket

    from digest.outbox import queue_issue

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = f"smtp://127.0.0.1:{probe.getsockname()[1]}"
    monkeypatch.setenv("DIGEST_SMTP_URL", dead)
    rt = make_runtime(home)
    make_issue(rt.engine, rt.settings, number=1)
    readers = add_subscribers(rt.engine, 2)
    queue_issue(engine=rt.engine, settings=rt.settings, number=1)
    [first] = dispatch_job(rt, now=SLOT)
    assert first.outcome == "failed" and "next try in 1m" in first.detail
    assert dispatch_job(rt, now=SLOT + timedelta(seconds=30)) == []  # pausing
    [second] = dispatch_job(rt, now=SLOT + timedelta(minutes=1))
    assert "next try in 2m" in second.detail
    assert dispatch_job(rt, now=SLOT + timedelta(minutes=2)) == []
    monkeypatch.setenv("DIGEST_SMTP_URL", sink.url())  # the server is back
    rt.settings = load_settings(home)
    [third] = dispatch_job(rt, now=SLOT + timedelta(minutes=3))
    assert third.outcome == "ok"
    assert sorted(recipients(sink)) == sorted(readers)
    assert rt.resume_backoff == {}


def test_an_issue_never_rendered_is_rendered_before_it_is_sent(runtime, sink) -> None:
    make_issue(runtime.engine, runtime.settings, number=5, rendered=False)
    readers = add_subscribers(runtime.engine, 2)
    result = weekly_send_job(runtime, now=SLOT)
    assert (result.outcome, result.issue) == ("ok", 5)
    assert (runtime.settings.outbox_dir / "5" / "manifest.json").is_file()
    assert sorted(recipients(sink)) == sorted(readers)
    html = next(part for part in parse(sink.messages[0].data).walk() if part.get_content_type() == "text/html")
    assert "Pair of issue 5" in html.get_content()  # the comparison, as render writes it
