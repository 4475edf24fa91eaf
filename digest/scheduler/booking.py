"""What `digest issue schedule` writes, without the ORM: a weekly or one-off send, or back to draft.

The meaning of the two kinds of schedule is in `digest.scheduler.sendable`'s docstring; the
status moves are `digest.issue_state.move_in`, a compare-and-set in the caller's
`Database.transaction(write=True)` (the issue's row is also locked FOR UPDATE on PostgreSQL),
so a send the scheduler started meanwhile is never turned back. Readiness is reported, not
required: the scheduler checks it at send time and tells the editor when the issue is not ready.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from digest import issue_state
from digest.data import issue_edits as data
from digest.data.codec import as_datetime
from digest.errors import NotFoundError, StateError, ValidationError
from digest.ids import parse_id

if TYPE_CHECKING:
    from collections.abc import Sequence

    from digest.config import Reviewer
    from digest.data.engine import Database


def issue_to_schedule(db: Database, ref: str | int) -> dict[str, Any]:
    """The issue numbered `ref`, locked for the transaction; ValidationError for a malformed
    number, NotFoundError when there is none."""
    number = parse_id(ref, "issue")
    issue = data.issue_to_edit(db, number)
    if issue is None:
        raise NotFoundError(f"no issue {number}", hint="`digest issue list` shows the issues")
    return issue


def schedule_issue(db: Database, issue: dict[str, Any], *, at: datetime | None) -> dict[str, Any]:
    """Schedule a draft or scheduled issue: at `at` (a one-off) or, when None, the next weekly
    send; the issue as it now stands. StateError for an issue already sent, or moved meanwhile."""
    # Not "any move the table allows": sending -> scheduled is the scheduler's own way back when
    # queueing failed; an editor rescheduling an issue that is going out would send it twice.
    if issue["status"] not in (issue_state.DRAFT, issue_state.SCHEDULED):
        raise StateError(f"issue {issue['number']} is {issue['status']}; only a draft or scheduled issue can be scheduled")
    return move(db, issue, target=issue_state.SCHEDULED, scheduled_at=at)


def unschedule_issue(db: Database, issue: dict[str, Any]) -> dict[str, Any]:
    """A scheduled issue back to draft (no send time); StateError for any other status."""
    if issue["status"] != issue_state.SCHEDULED:
        raise StateError(f"issue {issue['number']} is {issue['status']}, not scheduled")
    return move(db, issue, target=issue_state.DRAFT, scheduled_at=None)


def move(db: Database, issue: dict[str, Any], *, target: str, **values: Any) -> dict[str, Any]:
    """Move `issue` (as read) on to `target`; StateError when another process moved it first."""
    if not issue_state.move_in(db, issue["number"], source=issue["status"], target=target, **values):
        raise StateError(f"issue {issue['number']} changed while this ran", hint="look at it again and retry")
    found = data.scheduled_issue(db, issue["number"])
    return {**found, "scheduled_at": as_datetime(found["scheduled_at"])}


def gaps(db: Database, number: int, *, panel: Sequence[Reviewer]) -> list[str]:
    """What keeps issue `number` from being ready (empty when ready), as `issue show` says it."""
    from digest.data.comparison_cards import issue_rows
    from digest.editorial.issue_view import assess

    found, rows = issue_rows(db, number)
    readiness = assess(found, [(r.comparison, (r.tool_a, r.tool_b), r.reviews) for r in rows], panel)
    return [missing.message for missing in readiness.missing]


def parse_send_time(text: str, *, zone, now: datetime) -> datetime:  # noqa: ANN001
    """An ISO date-time as aware UTC; a naive one is read in `zone`. ValidationError if bad or past."""
    from datetime import UTC

    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValidationError(f"{text!r} is not an ISO date-time",
                              hint="e.g. 2025-03-04T09:00 (read in the schedule's time zone) or 2025-03-04T09:00+01:00") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
        # A wall time that does not exist (skipped by a DST change) or exists twice is refused.
        if value.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != value.replace(tzinfo=None):
            raise ValidationError(f"{text} does not exist in {zone} (the clocks skip it)",
                                  hint="pick a time outside the daylight-saving change")
    value = value.astimezone(UTC)
    if value <= now:
        raise ValidationError(f"{text} is in the past (now is {now.astimezone(zone):%Y-%m-%d %H:%M %Z})",
                              hint="give a later time")
    return value


def weekly_numbers(db: Database) -> list[int]:
    return data.weekly_numbers(db)
