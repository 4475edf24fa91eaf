"""Recording a bounce or complaint once, and what it does to the reader, in one transaction.

The event row (unique `event_key`) is inserted first; if it already exists the event was
counted before (a redelivered webhook, a mailbox read again after a crash) and nothing else
happens. Otherwise, in the same transaction:

    hard        the reader is bounced and suppressed at once
    soft        counted; `soft_limit` soft bounces within `soft_window` bounce the reader
    complaint   the reader is complained and suppressed for good, whatever their status
    otherwise   nothing (auto-replies, replies and unmatched bounces are left for the editor)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func
from sqlmodel import Session, select

from digest.data.subscribers import insert_bounce_event_once
from digest.models import BounceEvent, BounceKind, Subscriber, SubscriberStatus, utcnow
from digest.subscribers import complain, unsubscribe


@dataclass(frozen=True)
class Event:
    """One bounce, complaint or other answer, ready to record."""

    key: str  # unique per event: "mailbox:mid:<...>", "ses:<...>", "mailgun:<...>"
    source: str  # mailbox | ses | mailgun
    kind: BounceKind
    subscriber_id: int | None = None
    issue_number: int | None = None
    status: str = ""
    reason: str = ""


# what record_event reports
DUPLICATE, COUNTED, SUPPRESSED = "duplicate", "counted", "suppressed"


def record_event(*, session: Session, event: Event, soft_limit: int, soft_window: float) -> str:
    """Record `event` and apply it; DUPLICATE if it was recorded before, SUPPRESSED if it made
    the reader bounced or complained, COUNTED otherwise. The caller commits."""
    now = utcnow()
    subscriber = session.get(Subscriber, event.subscriber_id) if event.subscriber_id else None
    inserted = insert_bounce_event_once(session.connection(), {
        "event_key": event.key[:400], "source": event.source, "kind": event.kind.value,
        "subscriber_id": subscriber.id if subscriber is not None else None, "issue_number": event.issue_number,
        "status": event.status[:20], "reason": event.reason[:1000], "created_at": now,
    })
    if not inserted:
        return DUPLICATE
    if subscriber is None:
        return COUNTED
    if event.kind == BounceKind.COMPLAINT:
        return SUPPRESSED if complain(session=session, subscriber=subscriber) else COUNTED
    if event.kind not in (BounceKind.HARD, BounceKind.SOFT):
        return COUNTED
    subscriber.bounce_count += 1
    subscriber.last_bounce = " ".join(filter(None, (event.status, event.reason)))[:1000] or event.kind.value
    session.add(subscriber)
    if subscriber.status not in (SubscriberStatus.ACTIVE, SubscriberStatus.PENDING):
        session.flush()
        return COUNTED
    if event.kind == BounceKind.SOFT and _recent_soft(session, subscriber.id, now - timedelta(seconds=soft_window)) \
            < soft_limit:
        session.flush()
        return COUNTED
    unsubscribe(session=session, subscriber=subscriber, reason="bounced")
    return SUPPRESSED


def _recent_soft(session: Session, subscriber_id: int, since) -> int:  # noqa: ANN001
    query = select(func.count()).select_from(BounceEvent).where(
        BounceEvent.subscriber_id == subscriber_id, BounceEvent.kind == BounceKind.SOFT.value,
        BounceEvent.created_at >= since)
    return session.exec(query).one()
