"""Which issues the scheduler may send, and the status changes it makes to them.

How an issue is scheduled (what `digest issue schedule` writes):

* status `scheduled`, no `scheduled_at`: it goes out with the next **weekly send** (the
  `[schedule] send` cron). At each weekly slot the newest ready issue of this kind is sent;
* status `scheduled` with `scheduled_at`: a **one-off send** at that time (checked every minute),
  whatever the weekly cron says.

`digest issue schedule` itself writes through `digest.scheduler.booking`, without the ORM.

Every status change here is `digest.issue_state.move`, a compare-and-set, so of two scheduler
processes only one moves an issue on; the loser gets False and leaves it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from digest import issue_state
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

def lateness(now: datetime, scheduled_at: datetime) -> timedelta:
    from datetime import UTC

    if scheduled_at.tzinfo is None:
        scheduled_at = scheduled_at.replace(tzinfo=UTC)
    return now - scheduled_at
