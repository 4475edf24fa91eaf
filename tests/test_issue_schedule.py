"""`digest issue schedule`: the weekly send, a one-off time, or back to draft; bad times refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from scheduler_support import issue_state, make_issue


@pytest.fixture
def issues(cli, settings, engine):
    make_issue(engine, settings, number=1, status="draft")
    make_issue(engine, settings, number=2, status="draft", ready=False)
    return engine


def schedule(cli, *args: str, env=None):
    result = cli("issue", "schedule", *args, "--json", env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_without_a_time_the_issue_joins_the_next_weekly_send(cli, issues) -> None:
    record = schedule(cli, "1")
    assert (record["number"], record["status"], record["weekly"], record["scheduled_at"]) == (1, "scheduled", True, None)
    when = datetime.fromisoformat(record["send_at"])
    assert (when.weekday(), when.hour) == (1, 9)
    assert issue_state(issues, 1).status == "scheduled"
    listing = json.loads(cli("schedule", "list", "--json").stdout)
    weekly = next(job for job in listing["jobs"] if job["id"] == "weekly-send")
    assert weekly["scheduled_issues"] == [1]


def test_a_one_off_time_in_the_schedules_zone(cli, issues) -> None:
    record = schedule(cli, "1", "--at", "2031-05-06T15:30", env={"DIGEST_SCHEDULE_TIMEZONE": "Europe/Paris"})
    assert record["scheduled_at"] == "2031-05-06T13:30:00+00:00"  # 15:30 in Paris, summer time
    assert issue_state(issues, 1).scheduled_at == datetime(2031, 5, 6, 13, 30, tzinfo=UTC)
    # an explicit offset wins over the zone
    assert schedule(cli, "1", "--at", "2031-05-06T15:30+09:00")["scheduled_at"] == "2031-05-06T06:30:00+00:00"
    listing = json.loads(cli("schedule", "list", "--json").stdout)
    one_off = next(job for job in listing["jobs"] if job["id"] == "issue-1")
    assert (one_off["kind"], one_off["next_run_at"]) == ("one-off", "2031-05-06T06:30:00+00:00")


def test_scheduling_an_issue_that_is_not_ready_warns(cli, issues) -> None:
    result = cli("issue", "schedule", "2")
    assert result.exit_code == 0
    assert "issue 2 will go out with the next weekly send" in result.stdout
    assert "warning: issue 2 is not ready yet" in result.stderr and "futurist has not reviewed" in result.stderr


def test_clear_takes_it_back_to_draft(cli, issues) -> None:
    schedule(cli, "1", "--at", "2031-05-06T15:30")
    record = schedule(cli, "1", "--clear")
    assert (record["status"], record["scheduled_at"]) == ("draft", None)
    assert issue_state(issues, 1).scheduled_at is None


@pytest.mark.parametrize(("args", "env", "fragment"), [
    (("1", "--at", "2001-01-01T09:00"), None, "is in the past"),
    (("1", "--at", "next tuesday"), None, "is not an ISO date-time"),
    (("1", "--at", "2031-03-30T02:30"), {"DIGEST_SCHEDULE_TIMEZONE": "Europe/Paris"}, "does not exist in Europe/Paris"),
    (("1", "--at", "2031-01-01T09:00", "--clear"), None, "--at and --clear cannot be used together"),
    (("99",), None, "no issue 99"),
    (("1", "--at", "2031-01-01T09:00"), {"DIGEST_SCHEDULE_TIMEZONE": "Nowhere/Land"}, "unknown time zone"),
])
def test_bad_input_is_refused_and_changes_nothing(cli, issues, args, env, fragment) -> None:
    before = issue_state(issues, 1)
    result = cli("issue", "schedule", *args, env=env)
    assert result.exit_code == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: ") and fragment in line
    after = issue_state(issues, 1)
    assert (after.status, after.scheduled_at) == (before.status, before.scheduled_at)


def test_a_sent_issue_cannot_be_scheduled(cli, issues) -> None:
    from sqlalchemy import text

    with issues.begin() as connection:
        connection.execute(text("UPDATE issue SET status = 'sent' WHERE number = 1"))
    for args in (("1",), ("1", "--at", (datetime.now(UTC) + timedelta(days=1)).isoformat()), ("1", "--clear")):
        result = cli("issue", "schedule", *args)
        assert result.exit_code == 1
        assert "issue 1 is sent" in result.stderr
    assert issue_state(issues, 1).status == "sent"
