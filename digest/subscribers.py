"""The audience: subscribers, their statuses, suppressions, and CSV import and export.

An address is checked for syntax only (email-validator, no network) and stored in its ASCII
form; `email_key` (the address lowercased) is its identity, so `Ann@Example.com` and
`ann@example.com` are one subscriber. Addresses with non-ASCII characters before the @ are
refused: most mail servers cannot take them (they need SMTPUTF8).

Statuses: pending (signed up on the web, not yet confirmed), active (gets issues),
unsubscribed, bounced, complained (the last three: `SUPPRESSED_STATUSES`). Leaving (an
unsubscribe link, `subscribers remove`, too many bounces, an import saying so) also writes a
Suppression, keyed by the address, not the subscriber row, so it outlives the row: an import
skips it, `subscribers add` refuses it without `override_suppression`, and only the person
themself lifts it by confirming a new web sign-up (`confirm_subscriber`). The editor's add and
remove, and the address check, are `digest.audience` (no ORM). Every function here
takes a session and leaves the transaction to the caller, so a refused command writes nothing.
CSV import is `digest.subscriber_import`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from digest.audience import SUPPRESSED_STATUSES, check_address
from digest.data.subscriber_list import check_status as data_check_status, reason_text
from digest.errors import NotFoundError
from digest.ids import check_count
from digest.models import BounceEvent, BounceKind, Subscriber, SubscriberStatus, Suppression, utcnow

_CHUNK = 500  # keys per IN (...) lookup: well under SQLite's variable limit


def subscriber_record(subscriber: Subscriber, why: BounceEvent | None = None) -> dict[str, Any]:
    """A subscriber as `--json` prints it; `why` is the bounce or complaint that suppressed it
    (see `status_reasons`): its kind, reason and the issue it came from."""
    return {"id": subscriber.id, "email": subscriber.email, "status": subscriber.status,
            "source": subscriber.source, "created_at": subscriber.created_at,
            "confirmed_at": subscriber.confirmed_at, "unsubscribed_at": subscriber.unsubscribed_at,
            "bounce_count": subscriber.bounce_count, "last_bounce": subscriber.last_bounce,
            "reason": _why(subscriber, why), "issue": why.issue_number if why is not None else None}


def _why(subscriber: Subscriber, why: BounceEvent | None) -> str | None:
    event = None if why is None else {"kind": why.kind, "status": why.status, "reason": why.reason}
    return reason_text(subscriber.status, subscriber.last_bounce, event)


_ACTING = (BounceKind.HARD.value, BounceKind.SOFT.value, BounceKind.COMPLAINT.value)


def status_reasons(session: Session, subscribers: Sequence[Subscriber]) -> dict[int, BounceEvent]:
    """For each bounced or complained subscriber, the latest bounce or complaint recorded for it."""
    ids = [s.id for s in subscribers if s.status in (SubscriberStatus.BOUNCED, SubscriberStatus.COMPLAINED)]
    found: dict[int, BounceEvent] = {}
    for start in range(0, len(ids), _CHUNK):
        query = (select(BounceEvent).where(BounceEvent.subscriber_id.in_(ids[start:start + _CHUNK]),
                                           BounceEvent.kind.in_(_ACTING))
                 .order_by(BounceEvent.created_at, BounceEvent.id))
        for event in session.exec(query):
            found[event.subscriber_id] = event
    return found


def get_subscriber(session: Session, email: str) -> Subscriber:
    """The subscriber with this address (any case); NotFoundError otherwise."""
    key = email.strip().lower()
    subscriber = session.exec(select(Subscriber).where(Subscriber.email_key == key)).first()
    if subscriber is None:
        raise NotFoundError(f"no subscriber {email.strip()!r}", hint="`digest subscribers list` shows them")
    return subscriber


def _lookup(session: Session, model: type, keys: Sequence[str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start:start + _CHUNK]
        for row in session.exec(select(model).where(model.email_key.in_(chunk))):
            found[row.email_key] = row
    return found


# --- leaving and coming back ------------------------------------------------------------------

def _suppress(session: Session, key: str, reason: str) -> None:
    from digest.db import insert_ignore

    insert_ignore(session.connection(), Suppression, {"email_key": key, "reason": reason, "created_at": utcnow()},
                  conflict=["email_key"])


def unsubscribe(*, session: Session, subscriber: Subscriber, reason: str = "unsubscribed") -> bool:
    """Stop all mail to `subscriber` and suppress the address; False if it had already left.

    `reason` is recorded on the suppression: unsubscribed (a link), removed (the editor),
    bounced. Queued deliveries of a sending issue are skipped at send time, never mailed.
    """
    _suppress(session, subscriber.email_key, reason)
    if subscriber.status in SUPPRESSED_STATUSES:
        return False
    subscriber.status = SubscriberStatus.BOUNCED if reason == "bounced" else SubscriberStatus.UNSUBSCRIBED
    subscriber.unsubscribed_at = utcnow()
    session.add(subscriber)
    session.flush()
    return True


def complain(*, session: Session, subscriber: Subscriber) -> bool:
    """A spam complaint: the subscriber is `complained` and suppressed for good, whatever its
    status was (a complaint about an issue sent before an unsubscribe still counts as one).

    Returns False when it was already complained. Like any suppression, only the person's own
    confirmed sign-up (or the editor's explicit override) subscribes the address again.
    """
    _suppress(session, subscriber.email_key, "complained")
    suppression = session.exec(select(Suppression).where(Suppression.email_key == subscriber.email_key)).one()
    suppression.reason = "complained"
    session.add(suppression)
    if subscriber.status == SubscriberStatus.COMPLAINED:
        session.flush()
        return False
    subscriber.status = SubscriberStatus.COMPLAINED
    subscriber.unsubscribed_at = subscriber.unsubscribed_at or utcnow()
    session.add(subscriber)
    session.flush()
    return True


def request_subscription(*, session: Session, email: str, source: str = "web") -> Subscriber:
    """A web sign-up: a pending subscriber (or the existing one), to be confirmed by link.

    An active subscriber is returned unchanged; one who left goes back to pending, and its
    suppression stays until `confirm_subscriber`: only the confirmation proves consent.
    """
    address = check_address(email)
    subscriber = session.exec(select(Subscriber).where(Subscriber.email_key == address.key)).first()
    if subscriber is None:
        subscriber = Subscriber(email=address.email, email_key=address.key, source=source)
    elif subscriber.status != SubscriberStatus.ACTIVE:
        subscriber.status = SubscriberStatus.PENDING
    session.add(subscriber)
    session.flush()
    return subscriber


def confirm_subscriber(*, session: Session, subscriber: Subscriber) -> Subscriber:
    """The double opt-in's second step: active, confirmed now, and any suppression lifted."""
    suppression = session.exec(select(Suppression).where(Suppression.email_key == subscriber.email_key)).first()
    if suppression is not None:
        session.delete(suppression)
    if subscriber.status != SubscriberStatus.ACTIVE:
        subscriber.status = SubscriberStatus.ACTIVE
        subscriber.confirmed_at = utcnow()
        subscriber.unsubscribed_at = None
        subscriber.bounce_count = 0
    session.add(subscriber)
    session.flush()
    return subscriber


def record_bounce(*, session: Session, subscriber_id: int, reply: str, bounce_after: int) -> bool:
    """Count one permanent failure; at `bounce_after` the subscriber is bounced and suppressed.

    Returns True when this bounce made the subscriber bounced.
    """
    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is None:
        return False
    subscriber.bounce_count += 1
    subscriber.last_bounce = reply[:1000]
    session.add(subscriber)
    if subscriber.bounce_count >= max(bounce_after, 1) and subscriber.status == SubscriberStatus.ACTIVE:
        unsubscribe(session=session, subscriber=subscriber, reason="bounced")
        return True
    session.flush()
    return False


# --- listing and export -----------------------------------------------------------------------

def check_status(status: str | None) -> str | None:
    return data_check_status(status)


def list_subscribers(*, session: Session, status: str | None = None, limit: int | None = None) -> list[Subscriber]:
    """Subscribers by id, optionally of one status and at most `limit` of them."""
    query = select(Subscriber).order_by(Subscriber.id)
    status = check_status(status)
    if status:
        query = query.where(Subscriber.status == status)
    if check_count(limit, "--limit", minimum=0) is not None:
        query = query.limit(limit)
    return list(session.exec(query))


def count_by_status(session: Session) -> dict[str, int]:
    counts = {s.value: 0 for s in SubscriberStatus}
    for status, count in session.exec(select(Subscriber.status, func.count()).group_by(Subscriber.status)):
        counts[status] = count
    return counts
