"""Subscriber state changes made from the web: sign-up, confirmation, unsubscribe.

They are idempotent (a replayed link changes nothing) and take an ORM session in a write
transaction. Unsubscribing keeps a Suppression so that no import brings the address back;
only the person's own confirmed sign-up lifts it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from digest.errors import ValidationError
from digest.models import Subscriber, SubscriberStatus, Suppression, utcnow

if TYPE_CHECKING:
    from sqlmodel import Session


def normalise_email(email: str) -> tuple[str, str]:
    """(address as given, normalised; its lowercased key); ValidationError if it is not one."""
    from email_validator import EmailNotValidError, validate_email

    text = (email or "").strip()
    if not text or len(text) > 320:
        raise ValidationError("that does not look like an email address")
    try:
        valid = validate_email(text, check_deliverability=False)
    except EmailNotValidError:
        raise ValidationError("that does not look like an email address") from None
    return valid.normalized, valid.normalized.lower()


@dataclass(frozen=True)
class SignupRequest:
    subscriber_id: int
    email: str
    send_confirmation: bool


def request_signup(session: Session, *, email: str, now: datetime | None = None) -> SignupRequest:
    """Record a sign-up request; the caller sends a confirmation when `send_confirmation`.

    A new address becomes a pending subscriber. An address that is pending, unsubscribed or
    bounced keeps its status (nothing changes before the person confirms) and gets a fresh
    confirmation; an active one gets nothing. Known and unknown addresses run the same
    statements, so the time taken does not tell them apart. ValidationError for a bad address.
    """
    from sqlmodel import select

    from digest.db import insert_ignore

    address, key = normalise_email(email)
    now = now or utcnow()
    insert_ignore(session.connection(), Subscriber,
                  {"email": address, "email_key": key, "status": SubscriberStatus.PENDING.value,
                   "source": "web", "created_at": now, "bounce_count": 0},
                  conflict=["email_key"])
    subscriber = session.exec(select(Subscriber).where(Subscriber.email_key == key)).one()
    send = subscriber.status != SubscriberStatus.ACTIVE.value
    return SignupRequest(subscriber_id=subscriber.id, email=subscriber.email, send_confirmation=send)


class ConfirmOutcome(enum.StrEnum):
    CONFIRMED = "confirmed"  # the subscriber is now active
    ALREADY = "already"  # was active already: nothing changed
    STALE = "stale"  # the link predates the person's unsubscribing: nothing changed
    MISSING = "missing"  # no such subscriber (removed since)


def confirm(session: Session, *, subscriber_id: int, requested_at: datetime,
            now: datetime | None = None) -> ConfirmOutcome:
    """Activate a subscriber whose confirmation link was issued at `requested_at`.

    A pending subscriber becomes active. One who unsubscribed (or bounced) is activated again,
    and their suppression lifted, only by a link requested after they left: an old link
    replayed after unsubscribing changes nothing, and neither does a replay on an active one.
    """
    from sqlmodel import delete

    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is None:
        return ConfirmOutcome.MISSING
    if subscriber.status == SubscriberStatus.ACTIVE.value:
        return ConfirmOutcome.ALREADY
    left = subscriber.unsubscribed_at
    if subscriber.status != SubscriberStatus.PENDING.value and left is not None and requested_at <= left:
        return ConfirmOutcome.STALE
    now = now or utcnow()
    subscriber.status = SubscriberStatus.ACTIVE.value
    subscriber.confirmed_at = now
    subscriber.bounce_count = 0
    session.add(subscriber)
    session.exec(delete(Suppression).where(Suppression.email_key == subscriber.email_key))
    return ConfirmOutcome.CONFIRMED


def unsubscribe(session: Session, *, subscriber_id: int, now: datetime | None = None) -> bool:
    """Unsubscribe at once and keep a suppression; True if the subscriber exists.

    Idempotent: unsubscribing twice keeps the first time. Permanent until the person signs up
    and confirms again.
    """
    from digest.db import insert_ignore

    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is None:
        return False
    now = now or utcnow()
    if subscriber.status != SubscriberStatus.UNSUBSCRIBED.value:
        subscriber.status = SubscriberStatus.UNSUBSCRIBED.value
        subscriber.unsubscribed_at = now
        session.add(subscriber)
    insert_ignore(session.connection(), Suppression,
                  {"email_key": subscriber.email_key, "reason": "unsubscribed", "created_at": now},
                  conflict=["email_key"])
    return True
