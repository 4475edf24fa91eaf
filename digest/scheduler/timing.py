"""When jobs run: the schedule from settings, and the pure decision of what is due now.

Everything here is a function of its arguments (no clock, no database), so the rules about
late, missed and repeated runs are tested exhaustively without waiting for time to pass:

* `Schedule.from_settings` turns `[schedule]` into cron triggers in one time zone, refusing a
  bad expression or an unknown zone with a one-line ConfigError (exit 2). Cron expressions
  have standard crontab meaning: in the day-of-week field 0 and 7 are Sunday (APScheduler 3
  alone would read 0 as Monday, so the field is translated to day names before it gets there).
* `decide` says what a job woken at `now` should do for its most recent fire time ("slot"):
  run it, report it missed (later than the grace period), or nothing (already handled).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING

from digest.errors import ConfigError

if TYPE_CHECKING:
    from apscheduler.triggers.cron import CronTrigger

    from digest.config import Settings

_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_MACROS = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}
_CRON_HINT = 'five fields "minute hour day-of-month month day-of-week", e.g. "0 9 * * tue"'
_DOW_TERM = re.compile(r"^(\*|[a-z0-9]+(?:-[a-z0-9]+)?)(?:/(\d+))?$")

RUN, MISSED, DONE, NOTHING = "run", "missed", "done", "nothing"


def _day(value: str, expr: str) -> int:
    if value.isdigit() and int(value) <= 7:
        return int(value) % 7
    if value[:3] in _DAY_NAMES and len(value) == 3:
        return _DAY_NAMES.index(value)
    raise ValueError(f"{value!r} is not a day of the week (0-7 or sun..sat) in {expr!r}")


def crontab_weekdays(field: str) -> str:
    """A crontab day-of-week field (0 or 7 = Sunday) as day names APScheduler 3 reads correctly.

    `*` and `?` stay `*`; everything else (lists, ranges, steps, numbers or names) becomes the
    explicit list of days, e.g. `1-5` -> `mon,tue,wed,thu,fri`, `*/2` -> `sun,tue,thu,sat`.
    """
    field = field.strip().lower()
    if field in ("*", "?"):
        return "*"
    days: set[int] = set()
    for term in field.split(","):
        match = _DOW_TERM.match(term)
        if not match:
            raise ValueError(f"{term!r} is not a day-of-week term in {field!r}")
        span, step_text = match.groups()
        step = int(step_text) if step_text else 1
        if step < 1:
            raise ValueError(f"step must be at least 1 in {field!r}")
        if span == "*":
            first, last = 0, 6
        elif "-" in span:
            low, high = span.split("-")
            first, last = _day(low, field), _day(high, field)
            if high.isdigit() and int(high) == 7:
                last = 7  # `5-7` is Friday through Sunday
            if last < first:
                raise ValueError(f"range {span!r} runs backwards in {field!r}")
        else:
            first = _day(span, field)
            last = 6 if step_text else first
        days.update(day % 7 for day in range(first, last + 1, step))
    order = [1, 2, 3, 4, 5, 6, 0]  # APScheduler lists weeks from Monday
    return ",".join(_DAY_NAMES[day] for day in order if day in days)


def parse_cron(expr: str, zone: tzinfo) -> CronTrigger:
    """A CronTrigger for a crontab expression in `zone`; ValueError with the reason otherwise."""
    from apscheduler.triggers.cron import CronTrigger

    text = _MACROS.get(expr.strip().lower(), expr)
    fields = text.split()
    if len(fields) != 5:
        raise ValueError(f"expected 5 fields, got {len(fields)}")
    minute, hour, day, month, weekday = fields
    return CronTrigger(minute=minute, hour=hour, day=day, month=month,
                       day_of_week=crontab_weekdays(weekday), timezone=zone)


def local_zone_name() -> str:
    """The IANA name of this machine's time zone ($TZ, /etc/localtime, ...), as tzlocal finds
    it; "UTC" when the machine names none that zoneinfo knows."""
    import logging

    try:
        from tzlocal import get_localzone_name

        name = get_localzone_name()
        load_zone(name or "")
    except Exception as exc:  # tzlocal raises several kinds for an unnamed or odd local zone
        logging.getLogger(__name__).warning("cannot tell this machine's time zone (%s); using UTC", exc)
        return "UTC"
    return name


def load_zone(name: str) -> tzinfo:
    """The IANA time zone `name`; ValueError for an unknown or malformed name."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(f"unknown time zone {name!r}") from None


@dataclass(frozen=True)
class Schedule:
    """The validated `[schedule]` section: both triggers in one zone, and the grace period."""

    zone: tzinfo
    zone_name: str
    poll_expr: str
    send_expr: str
    poll: CronTrigger
    send: CronTrigger
    grace: timedelta
    bounces: CronTrigger | None = None  # reading the bounce mailbox; None when none is configured
    bounces_expr: str = ""

    @classmethod
    def from_settings(cls, settings: Settings) -> Schedule:
        """Raises ConfigError naming the key for a bad zone or cron expression.

        Without `schedule.timezone` the cron expressions are read in the machine's own zone
        (`local_zone_name`), so "Tuesday 09:00" means 09:00 where the scheduler runs.
        """
        section = settings.schedule
        label = "digest.toml"
        zone_name = section.timezone or local_zone_name()
        try:
            zone = load_zone(zone_name)
        except ValueError as exc:
            raise ConfigError(str(exc), path=label, key="schedule.timezone",
                              hint='an IANA name such as "UTC" or "Europe/Paris"') from None
        triggers = {}
        for key in ("poll", "send", "bounces"):
            expr = getattr(section, key)
            try:
                triggers[key] = parse_cron(expr, zone)
            except ValueError as exc:
                raise ConfigError(f"{expr!r} is not a valid cron expression: {exc}", path=label,
                                  key=f"schedule.{key}", hint=_CRON_HINT) from None
        return cls(zone=zone, zone_name=zone_name, poll_expr=section.poll, send_expr=section.send,
                   poll=triggers["poll"], send=triggers["send"], grace=timedelta(seconds=section.grace),
                   bounces=triggers["bounces"] if settings.bounces.mailbox else None, bounces_expr=section.bounces)


# --- fire times -----------------------------------------------------------------------------

def next_fire_time(trigger: CronTrigger, now: datetime) -> datetime | None:
    """The first fire time at or after `now`."""
    return trigger.get_next_fire_time(None, now)


def fire_time_after(trigger: CronTrigger, previous: datetime) -> datetime | None:
    """The first fire time strictly after `previous`."""
    return trigger.get_next_fire_time(previous, previous)


def previous_fire_time(trigger: CronTrigger, now: datetime, *, horizon: timedelta = timedelta(days=5 * 366)) -> datetime | None:
    """The latest fire time at or before `now`, None if there is none within `horizon`.

    Looks back in doubling windows, so the walk forward inside the last window stays short
    whether the trigger fires every minute or once a year.
    """
    span = timedelta(minutes=1)
    while True:
        found = next_fire_time(trigger, now - span)
        if found is not None and found <= now:
            while True:
                following = fire_time_after(trigger, found)
                if following is None or following > now:
                    return found
                found = following
        if span >= horizon:
            return None
        span = min(span * 2, horizon)


def count_fire_times(trigger: CronTrigger, after: datetime, before: datetime, *, limit: int = 1000) -> int:
    """How many fire times lie strictly between `after` and `before` (at most `limit`)."""
    count = 0
    current = fire_time_after(trigger, after)
    while current is not None and current < before and count < limit:
        count += 1
        current = fire_time_after(trigger, current)
    return count


# --- the decision ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Decision:
    """What a job woken at `now` does.

    `action` is RUN (act for `slot`), MISSED (`slot` is later than the grace period: act on
    nothing, tell the editor), DONE (`slot` was already handled, by this process or a twin)
    or NOTHING (the trigger has never fired). `coalesced` counts earlier fire times since the
    last handled slot that were never run: they fold into this one decision.
    """

    action: str
    slot: datetime | None = None
    late: timedelta = timedelta(0)
    coalesced: int = 0


def decide(*, now: datetime, trigger: CronTrigger, last_slot: datetime | None,
           grace: timedelta | None) -> Decision:
    """The decision for a job woken at `now` whose latest handled slot is `last_slot`.

    The slot is the trigger's latest fire time at or before `now`, so a job woken late (the
    scheduler was down) acts once for the most recent slot it missed. `grace=None` means any
    lateness is fine (polls); otherwise a slot more than `grace` old is MISSED.
    """
    slot = previous_fire_time(trigger, now)
    if slot is None:
        return Decision(NOTHING)
    if last_slot is not None and slot <= last_slot:
        return Decision(DONE, slot, now - slot)
    late = now - slot
    coalesced = count_fire_times(trigger, last_slot, slot) if last_slot is not None else 0
    if grace is not None and late > grace:
        return Decision(MISSED, slot, late, coalesced)
    return Decision(RUN, slot, late, coalesced)


def describe_delay(delay: timedelta) -> str:
    """`2h 5m`, `45s`: a lateness or duration for log lines and notices."""
    seconds = int(delay.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{days}d" if days else "", f"{hours}h" if hours else "", f"{minutes}m" if minutes else ""]
    text = " ".join(part for part in parts if part)
    return text or f"{secs}s"
