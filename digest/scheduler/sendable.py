"""Which issues the scheduler may send, and the status changes it makes to them.

How an issue is scheduled (what `digest issue schedule` writes):

* status `scheduled`, no `scheduled_at`: it goes out with the next **weekly send** (the
  `[schedule] send` cron). At each weekly slot the newest ready issue of this kind is sent;
* status `scheduled` with `scheduled_at`: a **one-off send** at that time (checked every minute),
  whatever the weekly cron says.

Every status change here is `digest.issue_state.move`, a compare-and-set, so of two scheduler
processes only one moves an issue on; the loser gets False and leaves it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from digest import issue_state
from digest.errors import StateError, ValidationError
from digest.models import Delivery, DeliveryStatus, Issue, IssueStatus

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from sqlmodel import Session


def weekly_issues(session: Session) -> list[Issue]:
    """Issues waiting for the weekly send, newest number first."""
    from sqlmodel import select

    return list(session.exec(select(Issue).where(Issue.status == IssueStatus.SCHEDULED.value,
                                                 Issue.scheduled_at.is_(None))
                             .order_by(Issue.number.desc())).all())


def one_off_issues(session: Session, *, due_by: datetime | None = None) -> list[Issue]:
    """Issues with a one-off send time (only those due by `due_by` if given), earliest first."""
    from sqlmodel import select

    query = select(Issue).where(Issue.status == IssueStatus.SCHEDULED.value, Issue.scheduled_at.is_not(None))
    if due_by is not None:
        query = query.where(Issue.scheduled_at <= due_by)
    return list(session.exec(query.order_by(Issue.scheduled_at, Issue.number)).all())


def ready_drafts(session: Session) -> list[Issue]:
    """Draft issues, newest first (the notice names a ready one the editor forgot to schedule)."""
    from sqlmodel import select

    return list(session.exec(select(Issue).where(Issue.status == IssueStatus.DRAFT.value)
                             .order_by(Issue.number.desc())).all())


def unfinished_sends(engine: Engine, *, now: datetime) -> list[int]:
    """Issues in `sending` with deliveries queued and due by `now`: a send to resume or retry."""
    from sqlalchemy import or_, select

    with engine.connect() as connection:
        rows = connection.execute(
            select(Issue.number).join(Delivery, Delivery.issue_id == Issue.id)
            .where(Issue.status == IssueStatus.SENDING.value, Delivery.status == DeliveryStatus.QUEUED.value,
                   or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now))
            .group_by(Issue.number).order_by(Issue.number)).all()
    return [row[0] for row in rows]


def queued_count(engine: Engine, number: int) -> int:
    """How many of the issue's deliveries are still queued."""
    from sqlalchemy import func, select

    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(Delivery).join(Issue, Issue.id == Delivery.issue_id)
                                  .where(Issue.number == number, Delivery.status == DeliveryStatus.QUEUED.value)).scalar()


def start_sending(engine: Engine, number: int, *, now: datetime) -> bool:
    """scheduled -> sending; True for the one process that made the change."""
    return issue_state.move(engine, number, source=issue_state.SCHEDULED, target=issue_state.SENDING, queued_at=now)


def undo_sending(engine: Engine, number: int) -> bool:
    """sending -> scheduled, only while the issue has no deliveries (queueing failed before any)."""
    from sqlalchemy import exists, select

    has_deliveries = exists(select(Delivery.id).where(Delivery.issue_id == Issue.id))
    return issue_state.move(engine, number, source=issue_state.SENDING, target=issue_state.SCHEDULED,
                            when=(~has_deliveries,), queued_at=None)


def back_to_draft(engine: Engine, number: int, *, scheduled_at: datetime) -> bool:
    """A one-off that could not go out returns to draft; True for the one process that did it.

    Matching `scheduled_at` too means an editor's reschedule in the meantime is never undone.
    """
    return issue_state.move(engine, number, source=issue_state.SCHEDULED, target=issue_state.DRAFT,
                            when=(Issue.scheduled_at == scheduled_at,), scheduled_at=None)


# --- what `digest issue schedule` does ---------------------------------------------------------

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


def schedule_issue(*, session: Session, issue: Issue, at: datetime | None) -> Issue:
    """Schedule a draft or scheduled issue: at `at` (a one-off) or, when None, the next weekly send.

    StateError for an issue already sending or sent, or moved by another process meanwhile.
    Readiness is not required here; the scheduler checks it at send time and tells the editor
    when the issue is not ready.
    """
    if not issue_state.allowed(issue.status, issue_state.SCHEDULED):
        raise StateError(f"issue {issue.number} is {issue.status}; only a draft or scheduled issue can be scheduled")
    return _move(session, issue, target=issue_state.SCHEDULED, scheduled_at=at)


def unschedule_issue(*, session: Session, issue: Issue) -> Issue:
    """A scheduled issue back to draft (no send time); StateError for any other status."""
    if issue.status != issue_state.SCHEDULED:
        raise StateError(f"issue {issue.number} is {issue.status}, not scheduled")
    return _move(session, issue, target=issue_state.DRAFT, scheduled_at=None)


def _move(session: Session, issue: Issue, *, target: str, **values) -> Issue:  # noqa: ANN003
    session.flush()
    if not issue_state.move(session.connection(), issue.number, source=issue.status, target=target, **values):
        raise StateError(f"issue {issue.number} changed while this ran", hint="look at it again and retry")
    session.refresh(issue)
    return issue


def lateness(now: datetime, scheduled_at: datetime) -> timedelta:
    from datetime import UTC

    if scheduled_at.tzinfo is None:
        scheduled_at = scheduled_at.replace(tzinfo=UTC)
    return now - scheduled_at
