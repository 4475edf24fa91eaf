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
from digest.models import Subscriber, SubscriberStatus

if TYPE_CHECKING:
    from sqlmodel import Session


@dataclass(frozen=True)
class SignupRequest:
    subscriber_id: int
    email: str
    send_confirmation: bool


def request_signup(session: Session, *, email: str, now: datetime | None = None) -> SignupRequest:
    """Record a sign-up request (`subscribers.request_subscription`); the caller sends a
    confirmation when `send_confirmation` (the address is not active yet).

    Known and unknown addresses run the same statements, so the time taken does not tell
    them apart. ValidationError for a bad address (longer than 320 characters included).
    """
    from digest.subscribers import request_subscription

    if len(email or "") > 320:
        raise ValidationError("that does not look like an email address")
    subscriber = request_subscription(session=session, email=email or "", source="web")
    return SignupRequest(subscriber_id=subscriber.id, email=subscriber.email,
                         send_confirmation=subscriber.status != SubscriberStatus.ACTIVE)


class ConfirmOutcome(enum.StrEnum):
    CONFIRMED = "confirmed"  # the subscriber is now active
    ALREADY = "already"  # was active already: nothing changed
    STALE = "stale"  # the link predates the person's leaving, or they left since: nothing changed
    MISSING = "missing"  # no such subscriber (removed since)


def confirm(session: Session, *, subscriber_id: int, requested_at: datetime,
            now: datetime | None = None) -> ConfirmOutcome:
    """Activate a pending subscriber whose confirmation link was issued at `requested_at`
    (`subscribers.confirm_subscriber`, which lifts the suppression).

    Only a pending subscriber is confirmed, and only by a link requested after they last
    left: an old link replayed after unsubscribing changes nothing, and neither does a replay
    on an active one.
    """
    from digest.subscribers import confirm_subscriber

    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is None:
        return ConfirmOutcome.MISSING
    if subscriber.status == SubscriberStatus.ACTIVE:
        return ConfirmOutcome.ALREADY
    left = subscriber.unsubscribed_at
    if subscriber.status != SubscriberStatus.PENDING or (left is not None and requested_at <= left):
        return ConfirmOutcome.STALE
    confirm_subscriber(session=session, subscriber=subscriber)
    return ConfirmOutcome.CONFIRMED


def unsubscribe(session: Session, *, subscriber_id: int, now: datetime | None = None) -> bool:
    """Unsubscribe at once and keep a suppression (`subscribers.unsubscribe`); True if the
    subscriber exists. Idempotent; permanent until the person signs up and confirms again."""
    from digest.subscribers import unsubscribe as leave

    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is None:
        return False
    leave(session=session, subscriber=subscriber)
    return True
