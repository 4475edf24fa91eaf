"""`digest bounces`: read the return mailbox once, record each message once, act on readers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from digest.bounces.mailbox import Mailbox, open_mailbox
from digest.bounces.match import find_delivery, message_key
from digest.bounces.parse import classify, decoded_text, parse_message
from digest.bounces.record import DUPLICATE, SUPPRESSED, Event, record_event
from digest.models import BounceKind
from digest.tokens import Signer
from digest.wording import count

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from digest.config import Settings

ACTING = (BounceKind.HARD, BounceKind.SOFT, BounceKind.COMPLAINT)
_NOUNS = {"hard": "hard bounce", "soft": "soft bounce", "complaint": "complaint", "auto-reply": "auto-reply",
          "reply": "reply", "unmatched": "unmatched bounce"}


@dataclass
class BounceReport:
    """What one read of the mailbox found, by kind; `suppressed` readers it bounced or
    complained; `seen_before` messages recorded by an earlier run (a crash, a second reader)."""

    read: int = 0
    kinds: dict[str, int] = field(default_factory=lambda: {k.value: 0 for k in BounceKind})
    suppressed: list[str] = field(default_factory=list)
    seen_before: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"read": self.read, **self.kinds, "suppressed": self.suppressed, "seen_before": self.seen_before}

    def summary(self) -> str:
        """One line: "3 messages read: 1 hard bounce, 1 complaint, 1 reply; 2 readers suppressed"."""
        found = [count(n, _NOUNS[kind]) for kind, n in self.kinds.items() if n]
        if self.seen_before:
            found.append(f"{count(self.seen_before, 'message')} recorded before")
        text = count(self.read, "message") + " read" + (": " + ", ".join(found) if found else "")
        return text + (f"; {count(len(self.suppressed), 'reader')} suppressed" if self.suppressed else "")


def event_from_message(raw: bytes, signer: Signer) -> Event:
    """The event one mailbox message makes: its kind, and the delivery only if a signed tag says.

    Never raises: a message that cannot be read is a reply left for the editor, so one
    malformed message cannot stop every later run at the same place.
    """
    try:
        return _event(raw, signer)
    except Exception:  # noqa: BLE001 - see above
        import hashlib

        return Event(key="mailbox:sha256:" + hashlib.sha256(raw).hexdigest(), source="mailbox",
                     kind=BounceKind.REPLY, reason="could not be parsed")


def _event(raw: bytes, signer: Signer) -> Event:
    message = parse_message(raw)
    finding = classify(message, raw)
    kind = finding.kind
    match = None
    if kind in ACTING:
        match = find_delivery(message, decoded_text(raw), signer)
        if match is None:
            kind = BounceKind.UNMATCHED
    reason = finding.reason if kind != BounceKind.UNMATCHED else \
        f"{finding.kind.value} naming no delivery of ours: {finding.recipient or finding.reason}"
    return Event(key="mailbox:" + message_key(message, raw), source="mailbox", kind=kind,
                 subscriber_id=match.subscriber_id if match else None,
                 issue_number=match.issue_number if match else None, status=finding.status, reason=reason)


def read_bounces(*, settings: Settings, engine: Engine, mailbox: Mailbox | None = None) -> BounceReport:
    """Read up to `bounces.batch` new messages and record each in its own transaction.

    A message is recorded before the mailbox is told (seen, moved, deleted or left), so a crash
    between the two only makes the next run see it again, and its key makes that a no-op.
    Raises ConfigError without a mailbox or secret key, MailboxError when it cannot be read.
    """
    from digest.composer import make_signer

    signer = make_signer(settings)
    bounces = settings.bounces
    box = mailbox or open_mailbox(settings)
    report = BounceReport()
    try:
        for stored in box.messages(bounces.batch):
            event = event_from_message(stored.raw, signer)
            with Session(engine) as session:
                outcome = record_event(session=session, event=event, soft_limit=bounces.soft_limit,
                                       soft_window=bounces.soft_window)
                email = _email(session, event.subscriber_id) if outcome == SUPPRESSED else None
                session.commit()
            report.read += 1
            if outcome == DUPLICATE:
                report.seen_before += 1
            else:
                report.kinds[event.kind.value] += 1
            if email:
                report.suppressed.append(email)
            box.done(stored, acted=event.kind in ACTING)
    finally:
        box.close()
    return report


def _email(session: Session, subscriber_id: int | None) -> str | None:
    from digest.models import Subscriber

    subscriber = session.get(Subscriber, subscriber_id) if subscriber_id else None
    return subscriber.email if subscriber is not None else None
