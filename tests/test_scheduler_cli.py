"""`digest scheduler` and `digest schedule list` from the command line, and the stored jobs."""

from __future__ import annotations

import configparser
import json
import os
import re
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
import pytest
import typer

from digest.cli import app
from digest.config import load_settings
from digest.db import open_database
from digest.scheduler.jobs import Runtime
from digest.scheduler.listing import stored_next_runs
from digest.scheduler.service import build_scheduler, run_scheduler, sync_jobs
from digest.scheduler.timing import Schedule
from scheduler_support import wait_until

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(("variable", "value", "fragment"), [
    ("DIGEST_SCHEDULE_SEND", "0 9 * * funday", "schedule.send: '0 9 * * funday' is not a valid cron expression"),
    ("DIGEST_SCHEDULE_POLL", "hourly", "schedule.poll: 'hourly' is not a valid cron expression"),
    ("DIGEST_SCHEDULE_TIMEZONE", "Europe/Atlantis", "schedule.timezone: unknown time zone 'Europe/Atlantis'"),
    ("DIGEST_SCHEDULE_GRACE", "soon", "DIGEST_SCHEDULE_GRACE: 'soon' is not a duration"),
])
@pytest.mark.parametrize("command", [("scheduler",), ("schedule", "list")])
def test_bad_schedule_settings_are_one_line_errors(cli, variable, value, fragment, command) -> None:
    result = cli(*command, env={variable: value})
    assert result.exit_code == 2
    assert result.stdout == ""
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: ") and fragment in line
    assert "Traceback" not in result.output


def test_schedule_list_before_any_scheduler_ran(cli, engine) -> None:
    result = cli("schedule", "list", "--json")
    assert result.exit_code == 0, result.output
    listing = json.loads(result.stdout)
    assert listing["scheduler_running"] is False
    jobs = {job["id"]: job for job in listing["jobs"]}
    assert set(jobs) == {"poll", "weekly-send", "dispatch"}
    weekly = jobs["weekly-send"]
    assert weekly["source"] == "settings" and weekly["trigger"] == "0 9 * * tue (UTC)"
    when = datetime.fromisoformat(weekly["next_run_at"])
    assert (when.weekday(), when.hour, when.minute) == (1, 9, 0)
    assert timedelta(0) < when - datetime.now(UTC) <= timedelta(days=7)
    text = cli("schedule", "list")
    assert text.exit_code == 0
    assert "weekly-send" in text.stdout and "No scheduler is running" in text.stdout


def test_schedule_list_in_another_time_zone(cli) -> None:
    result = cli("schedule", "list", "--json", env={"DIGEST_SCHEDULE_TIMEZONE": "Asia/Tokyo",
                                                    "DIGEST_SCHEDULE_SEND": "30 7 * * 1-5"})
    jobs = {job["id"]: job for job in json.loads(result.stdout)["jobs"]}
    when = datetime.fromisoformat(jobs["weekly-send"]["next_run_at"]).astimezone(Schedule.from_settings(
        load_settings(cli.home, {"DIGEST_SCHEDULE_TIMEZONE": "Asia/Tokyo"})).zone)
    assert (when.hour, when.minute) == (7, 30) and when.weekday() < 5


def test_schedule_list_reads_the_weekly_send_in_the_machines_zone(home) -> None:
    """`send = "0 9 * * tue"` without a timezone means 09:00 where the scheduler runs."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "TZ": "Europe/Paris"}
    result = subprocess.run([sys.executable, "-m", "digest", "--home", str(home), "schedule", "list", "--json"],
                            capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    listing = json.loads(result.stdout)
    weekly = {job["id"]: job for job in listing["jobs"]}["weekly-send"]
    assert listing["timezone"] == "Europe/Paris" and weekly["trigger"] == "0 9 * * tue (Europe/Paris)"
    from zoneinfo import ZoneInfo

    when = datetime.fromisoformat(weekly["next_run_at"]).astimezone(ZoneInfo("Europe/Paris"))
    assert (when.weekday(), when.hour, when.minute) == (1, 9, 0)
    assert datetime.fromisoformat(weekly["next_run_at"]).astimezone(UTC).hour in (7, 8)  # CEST or CET
    text = subprocess.run([sys.executable, "-m", "digest", "--home", str(home), "schedule", "list"],
                          capture_output=True, text=True, env=env, timeout=60).stdout
    assert any(line.startswith("weekly-send") and " 09:00 CE" in line for line in text.splitlines()), text


def runtime_for(home: Path, **env: str) -> Runtime:
    settings = load_settings(home, {f"DIGEST_{k.upper()}": v for k, v in env.items()})
    return Runtime(settings=settings, engine=open_database(settings), schedule=Schedule.from_settings(settings))


def test_stored_jobs_survive_a_restart_and_follow_a_changed_cron(home) -> None:
    first = runtime_for(home)
    scheduler = build_scheduler(first)
    scheduler.start(paused=True)
    sync_jobs(scheduler, first)
    stored = stored_next_runs(first.engine)
    scheduler.shutdown(wait=False)
    assert set(stored) == {"poll", "weekly-send", "dispatch"}
    # a stored next run time in the past (a slot missed while no scheduler ran) is kept on start
    from sqlalchemy import text

    missed = datetime(2025, 1, 7, 9, 0, tzinfo=UTC)
    with first.engine.begin() as connection:
        connection.execute(text("UPDATE apscheduler_jobs SET next_run_time = :t WHERE id = 'weekly-send'"),
                           {"t": missed.timestamp()})
    again = build_scheduler(first)
    again.start(paused=True)
    sync_jobs(again, first)
    again.shutdown(wait=False)
    assert stored_next_runs(first.engine)["weekly-send"] == missed
    # a changed cron reschedules from now
    changed = runtime_for(home, schedule_send="0 10 * * wed")
    third = build_scheduler(changed)
    third.start(paused=True)
    sync_jobs(third, changed)
    third.shutdown(wait=False)
    when = stored_next_runs(first.engine)["weekly-send"]
    assert (when.weekday(), when.hour) == (2, 10) and when > datetime.now(UTC)


def test_schedule_list_reads_the_job_store_and_shows_an_overdue_send(cli, home) -> None:
    from sqlalchemy import text

    rt = runtime_for(home)
    thread = threading.Thread(target=run_scheduler, args=(rt,), kwargs={"handle_signals": False})
    thread.start()
    try:
        wait_until(lambda: json.loads(cli("schedule", "list", "--json").stdout)["scheduler_running"],
                   what="the scheduler's heartbeat")
        listing = json.loads(cli("schedule", "list", "--json").stdout)
        assert {job["source"] for job in listing["jobs"] if job["kind"] == "cron"} == {"job-store"}
    finally:
        rt.stop.set()
        thread.join(timeout=30)
    assert not thread.is_alive()
    with rt.engine.begin() as connection:
        connection.execute(text("UPDATE apscheduler_jobs SET next_run_time = :t WHERE id = 'weekly-send'"),
                           {"t": datetime(2025, 1, 7, 9, 0, tzinfo=UTC).timestamp()})
    listing = json.loads(cli("schedule", "list", "--json").stdout)
    assert listing["scheduler_running"] is False
    weekly = next(job for job in listing["jobs"] if job["id"] == "weekly-send")
    assert weekly["overdue"] is True and weekly["next_run_at"] == "2025-01-07T09:00:00+00:00"
    assert "overdue: runs when a scheduler starts" in cli("schedule", "list").stdout


def test_only_one_scheduler_per_process(home) -> None:
    rt = runtime_for(home)
    thread = threading.Thread(target=run_scheduler, args=(rt,), kwargs={"handle_signals": False})
    thread.start()
    try:
        wait_until(lambda: __import__("digest.scheduler.service", fromlist=["x"])._active is rt, what="start")
        with pytest.raises(RuntimeError):
            run_scheduler(runtime_for(home), handle_signals=False)
    finally:
        rt.stop.set()
        thread.join(timeout=30)


def test_the_systemd_unit_runs_the_scheduler_and_stops_it_with_sigterm() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str
    unit.read(REPO / "deploy" / "digest-scheduler.service")
    service = unit["Service"]
    command = service["ExecStart"].split()
    assert Path(command[0]).name == "digest" and command[1:] == ["scheduler"]
    root = typer.main.get_command(app)
    assert "scheduler" in root.list_commands(click.Context(root))
    assert service["KillSignal"] == "SIGTERM"
    assert service["RestartPreventExitStatus"] == "2"  # a configuration error is not retried
    assert service["Environment"] == f"DIGEST_HOME={service['WorkingDirectory']}"
    web = configparser.ConfigParser(strict=False, interpolation=None)
    web.read(REPO / "deploy" / "digest-web.service")
    assert web["Service"]["ExecStart"].split()[1:] == ["serve"]



LIST_GOLDEN = Path(__file__).with_name("golden") / "schedule-list.json"
FAR, PAST = datetime(2099, 3, 3, 9, 0, tzinfo=UTC), datetime(2026, 1, 6, 9, 0, tzinfo=UTC)


def stored_schedule(cli, home: Path, engine) -> None:
    """A job store with every cron job (the weekly send overdue), one-off sends due and to come,
    issues waiting for the weekly send, and finished, failed and interrupted runs: every time
    fixed, so the listing reads the same any day."""
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

    from editorial_support import sql

    SQLAlchemyJobStore(engine=engine).jobs_t.create(engine, checkfirst=True)
    for job, at in (("poll", FAR), ("weekly-send", PAST), ("dispatch", FAR), ("bounces", None)):
        sql(home, "INSERT INTO apscheduler_jobs (id, next_run_time, job_state) VALUES (?, ?, ?)",
            job, at.timestamp() if at else None, b"")
    for subject in ("Weekly one", "Weekly two", "Once, later", "Once, overdue", "A draft"):
        assert cli("issue", "new", "--subject", subject).exit_code == 0
    sql(home, "UPDATE issue SET status = 'scheduled' WHERE number < 5")
    sql(home, "UPDATE issue SET scheduled_at = ? WHERE number = 3", FAR)
    sql(home, "UPDATE issue SET scheduled_at = ? WHERE number = 4", PAST)
    runs = (("poll", PAST, "ok", "polled 3 feeds"), ("poll", PAST.replace(hour=10), "running", ""),
            ("weekly-send", PAST.replace(day=1), "failed", "the relay refused"), ("weekly-send", PAST, "ok", "sent"))
    for job, slot, outcome, detail in runs:
        sql(home, "INSERT INTO jobrun (job, slot, holder, outcome, detail, started_at, finished_at) "
                  "VALUES (?, ?, 'host:1', ?, ?, ?, ?)", job, slot, outcome, detail, slot, slot)


def test_schedule_list_prints_what_the_orm_version_printed(cli, home, engine) -> None:
    """`digest schedule list` (plain and --json) from the settings before any scheduler ran, then
    from a job store with one-off sends and runs, stopped and running, in two time zones: the
    same output, byte for byte, as when it read through SQLModel (recorded from that version,
    on both backends; before a scheduler ran the next run times follow the clock, so their
    digits and days are masked and the JSON's jobs sorted by id). UPDATE_GOLDEN=1 rewrites the file on purpose."""
    from editorial_support import add_settings, sql

    add_settings(home, '[bounces]\nreturn_path = "bounces@example.com"\nmaildir = "bounces"')
    printed = {}
    for args in (("schedule", "list"), ("schedule", "list", "--json")):
        result = cli(*args)
        assert result.exit_code == 0, result.output
        output = result.stdout
        if "--json" in args:  # the every-minute dispatch ties with the mailbox job one minute in five
            listing = json.loads(output)
            listing["jobs"].sort(key=lambda job: job["id"])
            output = json.dumps(listing, indent=2)
        masked = re.sub(r"\d", "N", re.sub(r"\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun)\b", "Day", output))
        printed["before any scheduler ran: " + " ".join(args)] = masked
    stored_schedule(cli, home, engine)
    for state in ("stopped", "running"):
        if state == "running":  # the heartbeat, and the interrupted poll's lease still held
            sql(home, "INSERT INTO lease (name, holder, expires_at) VALUES ('scheduler:alive', 'host:42', ?)", FAR)
            sql(home, "INSERT INTO lease (name, holder, expires_at) VALUES ('scheduler:poll', 'host:1', ?)", FAR)
        for zone in ("UTC", "America/New_York"):
            for args in (("schedule", "list"), ("schedule", "list", "--json")):
                result = cli(*args, env={"DIGEST_SCHEDULE_TIMEZONE": zone})
                assert result.exit_code == 0, result.output
                printed[f"{state} {zone}: " + " ".join(args)] = result.stdout
    if os.environ.get("UPDATE_GOLDEN") == "1":
        LIST_GOLDEN.write_text(json.dumps(printed, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    assert printed == json.loads(LIST_GOLDEN.read_text(encoding="utf-8"))


def test_the_listing_names_the_models_values() -> None:
    """digest.data.schedule reads the issues waiting to go by their status as text."""
    from digest.data.schedule import SCHEDULED
    from digest.models import IssueStatus

    assert SCHEDULED == IssueStatus.SCHEDULED.value
