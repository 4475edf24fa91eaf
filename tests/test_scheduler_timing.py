"""The schedule's time rules, as pure functions: crontab meaning, fire times, and the due decision."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings as hsettings, strategies as st

from digest.config import load_settings
from digest.errors import ConfigError
from digest.scheduler.timing import (DONE, MISSED, NOTHING, RUN, Schedule, count_fire_times, crontab_weekdays,
                                     decide, describe_delay, next_fire_time, parse_cron, previous_fire_time)

PARIS = ZoneInfo("Europe/Paris")
UTC_ZONE = ZoneInfo("UTC")
WEEKLY = parse_cron("0 9 * * tue", PARIS)
GRACE = timedelta(hours=6)
# Tuesday 2025-01-07 09:00 in Paris
SLOT = datetime(2025, 1, 7, 9, 0, tzinfo=PARIS)


# --- crontab meaning -----------------------------------------------------------------------------

@pytest.mark.parametrize(("field", "days"), [
    ("*", "*"), ("?", "*"), ("2", "tue"), ("0", "sun"), ("7", "sun"), ("tue", "tue"), ("TUE", "tue"),
    ("1-5", "mon,tue,wed,thu,fri"), ("mon-fri", "mon,tue,wed,thu,fri"), ("5-7", "fri,sat,sun"),
    ("*/2", "tue,thu,sat,sun"), ("1,3,5", "mon,wed,fri"), ("0,6", "sat,sun"), ("1-5/2", "mon,wed,fri"),
])
def test_day_of_week_has_crontab_meaning(field: str, days: str) -> None:
    assert crontab_weekdays(field) == days


@pytest.mark.parametrize("field", ["8", "funday", "5-1", "1-", "*/0", "", "1,,2"])
def test_bad_day_of_week_is_refused(field: str) -> None:
    with pytest.raises(ValueError):
        crontab_weekdays(field)


@given(st.sets(st.integers(min_value=0, max_value=6), min_size=1), st.dates(min_value=datetime(2000, 1, 1).date()))
def test_numeric_weekday_lists_fire_on_exactly_those_crontab_days(days: set[int], day) -> None:
    trigger = parse_cron(f"0 9 * * {','.join(map(str, sorted(days)))}", UTC_ZONE)
    moment = datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC_ZONE)
    crontab_day = (moment.weekday() + 1) % 7  # Python: Monday 0; crontab: Sunday 0
    fires = next_fire_time(trigger, moment) == moment
    assert fires == (crontab_day in days)


def test_weekly_default_fires_tuesday_nine_local() -> None:
    fired = next_fire_time(WEEKLY, datetime(2025, 1, 6, 12, 0, tzinfo=UTC))
    assert fired == SLOT
    assert fired.weekday() == 1 and fired.hour == 9


def test_macros_are_understood() -> None:
    assert next_fire_time(parse_cron("@weekly", UTC_ZONE), datetime(2025, 1, 7, tzinfo=UTC)) == \
        datetime(2025, 1, 12, tzinfo=UTC_ZONE)  # Sunday midnight
    assert next_fire_time(parse_cron("@hourly", UTC_ZONE), datetime(2025, 1, 7, 10, 1, tzinfo=UTC)) == \
        datetime(2025, 1, 7, 11, tzinfo=UTC_ZONE)


@pytest.mark.parametrize("expr", ["", "0 9 * *", "61 * * * *", "0 25 * * *", "0 9 * * 8", "every tuesday",
                                  "0 9 32 * *", "0 9 * 13 *"])
def test_bad_cron_is_refused(expr: str) -> None:
    with pytest.raises(ValueError):
        parse_cron(expr, UTC_ZONE)


# --- settings -----------------------------------------------------------------------------------

def test_schedule_from_settings_defaults(home) -> None:
    schedule = Schedule.from_settings(load_settings(home))
    assert schedule.zone_name == "UTC"  # the machine's zone: tests run with TZ=UTC (conftest)
    assert schedule.grace == timedelta(hours=6)
    assert next_fire_time(schedule.send, datetime(2025, 1, 6, tzinfo=UTC)) == datetime(2025, 1, 7, 9, tzinfo=UTC)
    assert next_fire_time(schedule.poll, datetime(2025, 1, 6, 10, 30, tzinfo=UTC)) == datetime(2025, 1, 6, 11, tzinfo=UTC)


def test_the_default_zone_is_the_machines_and_settings_override_it(home, monkeypatch) -> None:
    import tzlocal

    monkeypatch.setenv("TZ", "America/New_York")
    tzlocal.reload_localzone()
    schedule = Schedule.from_settings(load_settings(home))
    assert schedule.zone_name == "America/New_York"
    # Tuesday 09:00 in New York (EST, UTC-5 in January) is 14:00 UTC
    assert next_fire_time(schedule.send, datetime(2025, 1, 6, tzinfo=UTC)) == datetime(2025, 1, 7, 14, tzinfo=UTC)
    monkeypatch.setenv("DIGEST_SCHEDULE_TIMEZONE", "Asia/Tokyo")
    assert Schedule.from_settings(load_settings(home)).zone_name == "Asia/Tokyo"


def test_a_machine_zone_zoneinfo_does_not_know_falls_back_to_utc(home, monkeypatch) -> None:
    import json
    import os
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "digest", "--home", str(home), "schedule", "list", "--json"],
                            capture_output=True, text=True, timeout=60, env={**os.environ, "TZ": "Nowhere/Atlantis"})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["timezone"] in ("UTC", "Etc/UTC")


@pytest.mark.parametrize(("variable", "value", "key"), [
    ("DIGEST_SCHEDULE_TIMEZONE", "Mars/Olympus", "schedule.timezone"),
    ("DIGEST_SCHEDULE_TIMEZONE", "../etc/passwd", "schedule.timezone"),
    ("DIGEST_SCHEDULE_SEND", "0 9 * * funday", "schedule.send"),
    ("DIGEST_SCHEDULE_POLL", "every hour", "schedule.poll"),
])
def test_schedule_errors_name_the_key(home, monkeypatch, variable: str, value: str, key: str) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        Schedule.from_settings(load_settings(home))
    assert key in caught.value.one_line()
    assert "\n" not in caught.value.one_line()


# --- fire times ---------------------------------------------------------------------------------

EXPRESSIONS = ["* * * * *", "0 * * * *", "0 9 * * tue", "*/15 8-18 * * 1-5", "30 2 * * *", "0 0 1 * *",
               "0 0 29 2 *", "0 9,17 * * sun"]
ZONES = [UTC_ZONE, PARIS, ZoneInfo("America/New_York"), ZoneInfo("Australia/Lord_Howe")]


@hsettings(max_examples=120, deadline=None)
@given(st.sampled_from(EXPRESSIONS), st.sampled_from(ZONES),
       st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)))
# New York's fall-back hour: the fire time 02:00 EST is an hour after 01:59:59 EST but one
# second after 01:59:59 EDT; hypothesis found it once.
@example("* * * * *", ZoneInfo("America/New_York"), datetime(2001, 10, 28, 7, 0, 0, 2000, tzinfo=UTC))
def test_previous_fire_time_is_the_latest_at_or_before_now(expr: str, zone, now: datetime) -> None:
    trigger = parse_cron(expr, zone)
    previous = previous_fire_time(trigger, now)
    assert previous is not None and previous <= now
    following = trigger.get_next_fire_time(previous, previous)
    assert following > now
    # and it is a fire time: the trigger lands on it from just before. The trigger answers in its
    # zone, where subtracting is wall-clock arithmetic (across a fall-back it lands an hour off),
    # so "just before" is taken on the UTC clock.
    assert next_fire_time(trigger, previous.astimezone(UTC) - timedelta(seconds=1)) == previous


def test_count_fire_times_between_two_slots() -> None:
    assert count_fire_times(WEEKLY, SLOT - timedelta(weeks=3), SLOT) == 2
    assert count_fire_times(WEEKLY, SLOT, SLOT) == 0
    hourly = parse_cron("0 * * * *", UTC_ZONE)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    assert count_fire_times(hourly, start, start + timedelta(days=1)) == 23


# --- the decision -------------------------------------------------------------------------------

@pytest.mark.parametrize(("offset", "action"), [
    (timedelta(0), RUN),
    (timedelta(seconds=1), RUN),
    (timedelta(hours=5, minutes=59), RUN),
    (timedelta(hours=6), RUN),  # the grace period is inclusive
    (timedelta(hours=6, seconds=1), MISSED),
    (timedelta(days=3), MISSED),
    (timedelta(days=7) - timedelta(seconds=1), MISSED),
    (timedelta(days=7), RUN),  # the next slot
])
def test_weekly_decision_around_the_grace_period(offset: timedelta, action: str) -> None:
    decision = decide(now=SLOT + offset, trigger=WEEKLY, last_slot=SLOT - timedelta(weeks=1), grace=GRACE)
    assert decision.action == action
    expected_slot = SLOT + timedelta(days=7) if offset >= timedelta(days=7) else SLOT
    assert decision.slot == expected_slot
    assert decision.late == SLOT + offset - expected_slot


def test_a_handled_slot_is_not_run_again() -> None:
    for now in (SLOT, SLOT + timedelta(hours=1), SLOT + timedelta(days=2)):
        assert decide(now=now, trigger=WEEKLY, last_slot=SLOT, grace=GRACE).action == DONE


def test_just_before_the_first_slot_nothing_is_due() -> None:
    decision = decide(now=SLOT - timedelta(seconds=1), trigger=WEEKLY, last_slot=SLOT - timedelta(weeks=1), grace=GRACE)
    assert decision.action == DONE  # last week's slot, already handled


def test_a_trigger_that_never_fired_is_nothing() -> None:
    from apscheduler.triggers.cron import CronTrigger

    trigger = CronTrigger(year=2030, month=1, day=1, hour=0, minute=0, timezone=UTC_ZONE)
    assert decide(now=datetime(2025, 1, 1, tzinfo=UTC), trigger=trigger, last_slot=None, grace=GRACE).action == NOTHING


def test_missed_polls_coalesce_into_one_run() -> None:
    hourly = parse_cron("0 * * * *", UTC_ZONE)
    last = datetime(2025, 1, 7, 3, 0, tzinfo=UTC)
    now = datetime(2025, 1, 7, 9, 20, tzinfo=UTC)
    decision = decide(now=now, trigger=hourly, last_slot=last, grace=None)
    assert decision.action == RUN
    assert decision.slot == datetime(2025, 1, 7, 9, 0, tzinfo=UTC)
    assert decision.coalesced == 5  # 04:00 .. 08:00 fold into the 09:00 run
    # once run, the same hour is done, however often the job wakes up
    assert decide(now=now + timedelta(minutes=30), trigger=hourly, last_slot=decision.slot, grace=None).action == DONE


@hsettings(max_examples=120, deadline=None)
@given(st.sampled_from(EXPRESSIONS[1:]), st.sampled_from(ZONES),
       st.datetimes(min_value=datetime(2010, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)),
       st.one_of(st.none(), st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=9))),
       st.one_of(st.none(), st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3))))
def test_decision_rules_hold_everywhere(expr: str, zone, now: datetime, since: timedelta | None,
                                        grace: timedelta | None) -> None:
    trigger = parse_cron(expr, zone)
    last = None if since is None else previous_fire_time(trigger, now - since)
    decision = decide(now=now, trigger=trigger, last_slot=last, grace=grace)
    slot = previous_fire_time(trigger, now)
    assert decision.slot == slot
    if last is not None and slot <= last:
        assert decision.action == DONE
        return
    late = now - slot
    assert decision.late == late
    assert decision.action == (MISSED if grace is not None and late > grace else RUN)
    if last is not None:
        assert decision.coalesced == count_fire_times(trigger, last, slot)
    # run the decided slot once: waking again at any later moment before the next slot is DONE
    again = decide(now=now, trigger=trigger, last_slot=slot, grace=grace)
    assert again.action == DONE


def test_describe_delay() -> None:
    assert describe_delay(timedelta(seconds=45)) == "45s"
    assert describe_delay(timedelta(hours=2, minutes=5)) == "2h 5m"
    assert describe_delay(timedelta(days=1, hours=3)) == "1d 3h"
