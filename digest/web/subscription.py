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
    SET_ASIDE = "set-aside"  # made from a client marked as a scanner: kept for the editor, nothing changed


def confirm(session: Session, *, subscriber_id: int, requested_at: datetime, client: str | None = None,
            now: datetime | None = None) -> ConfirmOutcome:
    """Activate a pending subscriber whose confirmation link was issued at `requested_at`
    (`subscribers.confirm_subscriber`, which lifts the suppression).

    Only a pending subscriber is confirmed, and only by a link requested after they last
    left: an old link replayed after unsubscribing changes nothing, and neither does a replay
    on an active one. A confirmation from `client` while it is marked as a scanner is set
    aside (a DiscardedAction), never carried out: consent is not inferred from a robot's click.
    """
    from digest.data import votes
    from digest.subscribers import confirm_subscriber

    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is None:
        return ConfirmOutcome.MISSING
    if subscriber.status == SubscriberStatus.ACTIVE:
        return ConfirmOutcome.ALREADY
    left = subscriber.unsubscribed_at
    if subscriber.status != SubscriberStatus.PENDING or (left is not None and requested_at <= left):
        return ConfirmOutcome.STALE
    if client is not None and votes.is_scanner(session.connection(), client=client, now=now):
        votes.discard(session.connection(), kind="confirm", client=client, subscriber_id=subscriber_id, now=now)
        return ConfirmOutcome.SET_ASIDE
    confirm_subscriber(session=session, subscriber=subscriber)
    return ConfirmOutcome.CONFIRMED


class UnsubscribeOutcome(enum.StrEnum):
    LEFT = "left"  # was active: now unsubscribed and suppressed
    CANCELLED = "cancelled"  # was pending (a sign-up not yet confirmed): now unsubscribed and suppressed
    ALREADY = "already"  # had left already (unsubscribed, bounced, complained): still suppressed
    MISSING = "missing"  # no such subscriber: nothing to do


def unsubscribe(session: Session, *, subscriber_id: int, now: datetime | None = None) -> UnsubscribeOutcome:
    """Unsubscribe at once and keep a suppression (`subscribers.unsubscribe`), whatever the
    subscriber's status: a pending sign-up is cancelled the same way. Idempotent; permanent
    until the person signs up and confirms again. The outcome says what actually happened,
    so the page can say exactly that."""
    from digest.subscribers import unsubscribe as leave

    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is None:
        return UnsubscribeOutcome.MISSING
    before = subscriber.status
    if not leave(session=session, subscriber=subscriber):
        return UnsubscribeOutcome.ALREADY
    return UnsubscribeOutcome.CANCELLED if before == SubscriberStatus.PENDING else UnsubscribeOutcome.LEFT
