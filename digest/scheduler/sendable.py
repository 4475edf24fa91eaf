"""Which issues the scheduler may send, and the status changes it makes to them.

How an issue is scheduled (what `digest issue schedule` writes):

* status `scheduled`, no `scheduled_at`: it goes out with the next **weekly send** (the
  `[schedule] send` cron). At each weekly slot the newest ready issue of this kind is sent;
* status `scheduled` with `scheduled_at`: a **one-off send** at that time (checked every minute),
  whatever the weekly cron says.

Every status change here is a compare-and-set (`UPDATE ... WHERE status = <expected>`), so of
two scheduler processes only one moves an issue on; the loser sees rowcount 0 and leaves it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from digest.errors import ValidationError
from digest.models import Delivery, DeliveryStatus, Issue, IssueStatus, utcnow

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


def _swap(engine: Engine, number: int, *, expected: str, values: dict) -> bool:
    from sqlalchemy import update

    from digest.db import write_engine

    with write_engine(engine).begin() as connection:
        result = connection.execute(update(Issue).where(Issue.number == number, Issue.status == expected)
                                    .values(updated_at=utcnow(), **values))
        return result.rowcount == 1


def start_sending(engine: Engine, number: int, *, now: datetime) -> bool:
    """scheduled -> sending; True for the one process that made the change."""
    return _swap(engine, number, expected=IssueStatus.SCHEDULED.value,
                 values={"status": IssueStatus.SENDING.value, "queued_at": now})


def undo_sending(engine: Engine, number: int) -> bool:
    """sending -> scheduled, only while the issue has no deliveries (queueing failed before any)."""
    from sqlalchemy import exists, select, update

    from digest.db import write_engine

    with write_engine(engine).begin() as connection:
        issue_id = select(Issue.id).where(Issue.number == number).scalar_subquery()
        has_deliveries = exists(select(Delivery.id).where(Delivery.issue_id == issue_id))
        result = connection.execute(update(Issue).where(Issue.number == number,
                                                        Issue.status == IssueStatus.SENDING.value,
                                                        ~has_deliveries)
                                    .values(status=IssueStatus.SCHEDULED.value, queued_at=None, updated_at=utcnow()))
        return result.rowcount == 1


def back_to_draft(engine: Engine, number: int, *, scheduled_at: datetime) -> bool:
    """A one-off that could not go out returns to draft; True for the one process that did it.

    Matching `scheduled_at` too means an editor's reschedule in the meantime is never undone.
    """
    from sqlalchemy import update

    from digest.db import write_engine

    with write_engine(engine).begin() as connection:
        result = connection.execute(update(Issue).where(Issue.number == number,
                                                        Issue.status == IssueStatus.SCHEDULED.value,
                                                        Issue.scheduled_at == scheduled_at)
                                    .values(status=IssueStatus.DRAFT.value, scheduled_at=None, updated_at=utcnow()))
        return result.rowcount == 1


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

    StateError for an issue already sending or sent. Readiness is not required here; the
    scheduler checks it at send time and tells the editor when the issue is not ready.
    """
    from digest.errors import StateError

    if issue.status not in (IssueStatus.DRAFT.value, IssueStatus.SCHEDULED.value):
        raise StateError(f"issue {issue.number} is {issue.status}; only a draft or scheduled issue can be scheduled")
    issue.status = IssueStatus.SCHEDULED.value
    issue.scheduled_at = at
    issue.updated_at = utcnow()
    session.add(issue)
    session.flush()
    return issue


def unschedule_issue(*, session: Session, issue: Issue) -> Issue:
    """A scheduled issue back to draft (no send time); StateError for any other status."""
    from digest.errors import StateError

    if issue.status != IssueStatus.SCHEDULED.value:
        raise StateError(f"issue {issue.number} is {issue.status}, not scheduled")
    issue.status = IssueStatus.DRAFT.value
    issue.scheduled_at = None
    issue.updated_at = utcnow()
    session.add(issue)
    session.flush()
    return issue


def lateness(now: datetime, scheduled_at: datetime) -> timedelta:
    from datetime import UTC

    if scheduled_at.tzinfo is None:
        scheduled_at = scheduled_at.replace(tzinfo=UTC)
    return now - scheduled_at
