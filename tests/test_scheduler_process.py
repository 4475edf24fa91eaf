"""`digest scheduler` as real processes on a fake clock (time-machine), against a real SMTP server.

Each process imports everything, then starts at a moment the test picks (just before a weekly
slot, or hours after one), its clock standing still until the scheduler has started and running
on at normal speed from there; APScheduler's own loop, job store and
wake-ups are exercised as they are in production. No test sleeps: each polls a condition
with a deadline.
"""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta

import pytest

from digest.config import load_settings
from digest.db import open_database
from digest.smtpsink import Recorder, start_sink
from scheduler_support import (SchedulerProcess, add_subscribers, delivery_counts, issue_state, job_runs,
                               make_issue, recipients, wait_until)

SLOT = datetime(2025, 1, 7, 9, 0, tzinfo=UTC)  # Tuesday 09:00 UTC, the default weekly send
EDITOR = "editor@example.org"


@pytest.fixture
def sink():
    server = start_sink()
    yield server
    server.stop()


@pytest.fixture
def setup(home, sink, monkeypatch):
    monkeypatch.setenv("DIGEST_SMTP_URL", sink.url())
    monkeypatch.setenv("DIGEST_EDITOR", EDITOR)
    settings = load_settings(home)
    engine = open_database(settings)
    yield home, settings, engine, {"DIGEST_SMTP_URL": sink.url(), "DIGEST_EDITOR": EDITOR}
    engine.dispose()


@pytest.fixture
def processes():
    started: list[SchedulerProcess] = []
    yield started
    for process in started:
        process.kill()


def start(processes, home, env) -> SchedulerProcess:
    process = SchedulerProcess(home, env)
    processes.append(process)
    return process


def test_the_weekly_send_fires_at_its_time_and_sends_once(setup, sink, processes) -> None:
    home, settings, engine, env = setup
    make_issue(engine, settings, number=1)
    readers = add_subscribers(engine, 3)
    scheduler = start(processes, home, env)
    scheduler.go(SLOT - timedelta(seconds=1))
    scheduler.wait_for_log("next weekly-send: 2025-01-07T09:00:00+00:00")
    wait_until(lambda: issue_state(engine, 1).status == "sent", what="issue 1 to be sent")
    scheduler.wait_for_log("weekly-send finished")
    assert scheduler.terminate() == 0
    assert sorted(recipients(sink)) == sorted(readers)
    assert issue_state(engine, 1).queued_at >= SLOT  # not a moment early
    [run] = job_runs(engine, "weekly-send")
    assert (run.slot, run.outcome) == (SLOT, "ok")
    assert "weekly-send started (slot 2025-01-07 09:00 UTC)" in scheduler.log()
    assert "scheduler stopped" in scheduler.log()


@pytest.mark.parametrize(("down_until", "sent"), [(timedelta(hours=2), True), (timedelta(hours=7), False)])
def test_a_restart_after_a_missed_send(setup, sink, processes, down_until: timedelta, sent: bool) -> None:
    home, settings, engine, env = setup
    make_issue(engine, settings, number=1)
    readers = add_subscribers(engine, 2)
    # Monday: a scheduler stored its jobs (next weekly send Tuesday 09:00), then was stopped.
    store_jobs(settings, engine, at=SLOT - timedelta(days=1))
    # Tuesday, hours after the slot: a new scheduler starts on the same database.
    second = start(processes, home, env)
    second.go(SLOT + down_until)
    line = second.wait_for_log("weekly-send finished")
    assert second.terminate() == 0
    if sent:
        assert sorted(recipients(sink)) == sorted(readers)
        assert issue_state(engine, 1).status == "sent"
        assert "weekly-send started (slot 2025-01-07 09:00 UTC, 2h late)" in second.log()
    else:
        assert recipients(sink) == [EDITOR]  # the editor is told, no reader gets anything
        assert delivery_counts(engine, 1) == {}
        assert issue_state(engine, 1).status == "scheduled"
        assert "missed by 7h" in line and "editor notice" in second.log()
    assert [run.outcome for run in job_runs(engine, "weekly-send")] == ["ok" if sent else "missed"]


def test_two_scheduler_processes_on_one_database_send_once(setup, sink, processes) -> None:
    home, settings, engine, env = setup
    make_issue(engine, settings, number=1)
    readers = add_subscribers(engine, 20)
    twins = [start(processes, home, env) for _ in range(2)]
    for twin in twins:
        twin.go(SLOT - timedelta(seconds=1))
    for twin in twins:
        twin.wait_for_log("next weekly-send: 2025-01-07T09:00:00+00:00")
    wait_until(lambda: issue_state(engine, 1).status == "sent", what="issue 1 to be sent")
    wait_until(lambda: any("weekly-send finished" in twin.log() for twin in twins), what="the send to finish")
    for twin in twins:
        assert twin.terminate() == 0
    assert sorted(recipients(sink)) == sorted(readers)  # each reader exactly once
    assert len(job_runs(engine, "weekly-send")) == 1
    assert sum("weekly-send started" in twin.log() for twin in twins) == 1
    assert len(job_runs(engine, "poll")) == 1  # the 09:00 poll ran once too


def store_jobs(settings, engine, *, at: datetime) -> None:
    """What a scheduler does on start before running anything: store its jobs, as of `at`."""
    import time_machine

    from digest.scheduler.jobs import Runtime
    from digest.scheduler.listing import stored_next_runs
    from digest.scheduler.service import build_scheduler, sync_jobs
    from digest.scheduler.timing import Schedule

    runtime = Runtime(settings=settings, engine=engine, schedule=Schedule.from_settings(settings))
    with time_machine.travel(at, tick=False):
        scheduler = build_scheduler(runtime)
        scheduler.start(paused=True)
        sync_jobs(scheduler, runtime)
        scheduler.shutdown(wait=False)
    assert stored_next_runs(engine)["weekly-send"] == SLOT


class Gate(Recorder):
    """Accepts messages, but holds the `hold_at`-th one until the test opens the gate."""

    def __init__(self, hold_at: int) -> None:
        super().__init__()
        self.hold_at = hold_at
        self.reached = threading.Event()
        self.gate = threading.Event()

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201, N802
        if self.count + 1 == self.hold_at:
            self.reached.set()
            await asyncio.get_running_loop().run_in_executor(None, self.gate.wait, 30)
        return await super().handle_DATA(server, session, envelope)


def test_sigterm_mid_send_leaves_every_delivery_sent_or_queued(home, processes, monkeypatch) -> None:
    handler = Gate(hold_at=3)
    gated = start_sink(handler)
    try:
        env = {"DIGEST_SMTP_URL": gated.url(), "DIGEST_EDITOR": EDITOR}
        monkeypatch.setenv("DIGEST_SMTP_URL", gated.url())
        settings = load_settings(home)
        engine = open_database(settings)
        make_issue(engine, settings, number=1)
        readers = add_subscribers(engine, 25)
        scheduler = start(processes, home, env)
        scheduler.go(SLOT - timedelta(seconds=1))
        wait_until(handler.reached.is_set, what="the third message to be in flight")
        scheduler.proc.send_signal(15)
        scheduler.wait_for_log("SIGTERM received")
        handler.gate.set()  # the message in flight completes; then the sender stops
        assert scheduler.terminate() == 0
        counts = delivery_counts(engine, 1)
        assert set(counts) <= {"sent", "queued"}
        assert counts["sent"] == len(gated.messages) >= 3  # what the server accepted is recorded
        assert counts.get("queued", 0) > 0  # it really stopped mid-send
        assert issue_state(engine, 1).status == "sending"
        assert "weekly-send finished" in scheduler.log() and "still queued" in scheduler.log()
        # the next start resumes the send where it stopped: every reader once, in all
        again = start(processes, home, env)
        again.go(SLOT + timedelta(minutes=10))
        wait_until(lambda: issue_state(engine, 1).status == "sent", what="the resumed send to finish")
        assert again.terminate() == 0
        assert sorted(recipients(gated)) == sorted(readers)
        engine.dispose()
    finally:
        handler.gate.set()
        gated.stop()
