"""The editor's writes to the audience, without the ORM: `digest subscribers add` and `remove`.

The consent rules live here, once (digest.subscribers keeps the ORM-side ones the web and the
bounce handling need, and imports `check_address` and `SUPPRESSED_STATUSES` from here): an
address that left, bounced or complained is never subscribed again by an add unless the editor
says the person asked for it (`override_suppression`), and a removal suppresses the address so
no later import brings it back. SQL is in `digest.data.subscriber_edits`; run these inside one
`Database.transaction(write=True)`, so a refused command writes nothing. Importing this module
pulls in neither SQLAlchemy nor SQLModel: an editor's add costs what the peer does.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from digest.data import subscriber_edits as data
from digest.data.engine import Database
from digest.errors import NotFoundError, StateError, ValidationError

# The statuses of an address that left (digest.models.SubscriberStatus's values): each goes
# with a Suppression, and nothing but the person's own confirmed sign-up subscribes it again.
SUPPRESSED_STATUSES = frozenset({"unsubscribed", "bounced", "complained"})


@dataclass(frozen=True)
class Address:
    """A checked address: `email` as it is stored and mailed, `key` its identity."""

    email: str
    key: str


def check_address(text: str) -> Address:
    """The address in its stored form; ValidationError with the validator's reason otherwise."""
    from email_validator import EmailNotValidError, validate_email

    candidate = text.strip()
    if not candidate:
        raise ValidationError("empty address")
    try:
        checked = validate_email(candidate, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        raise ValidationError(f"{candidate!r} is not a valid address: {exc}") from None
    email = checked.ascii_email or checked.normalized
    return Address(email=email, key=email.lower())


@dataclass
class AddReport:
    """What `add_subscribers` did; lists hold addresses as stored."""

    added: list[str] = field(default_factory=list)
    activated: list[str] = field(default_factory=list)  # were pending, now active
    resubscribed: list[str] = field(default_factory=list)  # were suppressed, added with override_suppression
    already_present: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"added": self.added, "activated": self.activated, "resubscribed": self.resubscribed,
                "already_present": self.already_present}


def _checked(emails: Iterable[str]) -> dict[str, Address]:
    addresses: dict[str, Address] = {}
    for text in emails:
        address = check_address(text)
        addresses.setdefault(address.key, address)
    if not addresses:
        raise ValidationError("no address given")
    return addresses


def add_subscribers(db: Database, *, emails: Iterable[str], pending: bool = False,
                    override_suppression: bool = False, source: str = "cli") -> AddReport:
    """Subscribe each address: active (the editor vouches for them) unless `pending`.

    All or nothing: an invalid address raises ValidationError and a suppressed one (it left,
    bounced or complained) StateError, before anything is written. Only `override_suppression`
    subscribes a suppressed address again, lifting its suppression: the editor's explicit word
    that the person asked to come back (listmonk likewise never re-adds a blocklisted address
    unless told to). A pending subscriber added again becomes active; an active one is
    reported as already present.
    """
    addresses = _checked(emails)
    keys = list(addresses)
    existing = data.subscribers_by_key(db, keys)
    suppressed = data.suppressions_by_key(db, keys)
    blocked = [key for key in keys if key in suppressed
               or (key in existing and existing[key]["status"] in SUPPRESSED_STATUSES)]
    if blocked and not override_suppression:
        first = addresses[blocked[0]].email
        why = suppressed[blocked[0]]["reason"] if blocked[0] in suppressed else existing[blocked[0]]["status"]
        more = f" (and {len(blocked) - 1} more)" if len(blocked) > 1 else ""
        raise StateError(f"{first} is suppressed ({why}){more}; it is not subscribed again without consent, "
                         "nothing was added",
                         hint="add --override-suppression only if the person asked you to subscribe them again")
    status = "pending" if pending else "active"
    now = datetime.now(UTC)
    confirmed = None if pending else now
    report = AddReport()
    for key, address in addresses.items():
        subscriber = existing.get(key)
        if key in blocked:
            if key in suppressed:
                data.delete_suppression(db, key)
            if subscriber is None:
                data.insert_subscriber(db, email=address.email, key=key, status=status, source=source, now=now,
                                       confirmed_at=confirmed)
            else:
                data.update_subscriber(db, subscriber["id"], {"status": status, "unsubscribed_at": None,
                                                              "confirmed_at": confirmed, "bounce_count": 0})
            report.resubscribed.append(address.email)
        elif subscriber is None:
            data.insert_subscriber(db, email=address.email, key=key, status=status, source=source, now=now,
                                   confirmed_at=confirmed)
            report.added.append(address.email)
        elif subscriber["status"] == "pending" and not pending:
            data.update_subscriber(db, subscriber["id"], {"status": "active", "confirmed_at": now})
            report.activated.append(subscriber["email"])
        else:
            report.already_present.append(subscriber["email"])
    return report


def remove_subscriber(db: Database, *, email: str) -> dict[str, Any]:
    """`subscribers remove`: unsubscribe the address and keep a suppression (reason removed);
    the subscriber's record as `--json` prints it.

    The row stays (status unsubscribed) so past votes and the delivery history still count;
    a later import reports the address as suppressed. One that already left keeps its status
    and its suppression's reason. NotFoundError for an unknown address.
    """
    from digest.data.subscriber_list import subscriber_record

    key = email.strip().lower()
    subscriber = data.subscribers_by_key(db, [key]).get(key)
    if subscriber is None:
        raise NotFoundError(f"no subscriber {email.strip()!r}", hint="`digest subscribers list` shows them")
    now = datetime.now(UTC)
    data.suppress(db, key, reason="removed", now=now)
    if subscriber["status"] not in SUPPRESSED_STATUSES:
        changes = {"status": "unsubscribed", "unsubscribed_at": now}
        data.update_subscriber(db, subscriber["id"], changes)
        subscriber = {**subscriber, **changes}
    return subscriber_record(subscriber)
