"""`digest issue proof`: the issue exactly as readers get it, to the editor's own inboxes.

Links in a proof are signed for subscriber id 0 (`PROOF_SUBSCRIBER_ID`): they verify, so the
web app shows what a reader would see, but they belong to nobody and act on no one. A proof
touches no delivery and no subscriber.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from digest.composer import Composer, envelope_sender, make_dkim, make_signer, smtp_transport_factory
from digest.errors import DeliveryError, ValidationError
from digest.links import PROOF_SUBSCRIBER_ID
from digest.outbox import issue_folder, load_frozen
from digest.parts import IssueParts
from digest.transport import PermanentFailure, TransientFailure, Transport

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from digest.config import Settings


@dataclass
class ProofReport:
    number: int
    subject: str
    sent: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    frozen: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"issue": self.number, "subject": self.subject, "sent": self.sent, "failed": self.failed,
                "frozen": self.frozen}


def proof_parts(*, settings: Settings, engine: Engine, number: int | str,
                render: bool = True) -> tuple[IssueParts, bool]:
    """The parts a proof shows, and whether they are frozen: the frozen ones once the issue is
    queued, else the issue rendered now (or, with `render=False`, the parts in outbox/<number>/)."""
    from digest.db import session_scope
    from digest.editorial import get_issue
    from digest.editorial.issues import entries
    from digest.outbox import read_manifest, read_parts

    with session_scope(engine) as session:
        issue = get_issue(session, number)
        number = issue.number
        ids = tuple(row.comparison_id for row in entries(session, issue))
        subject = issue.subject
    if read_manifest(issue_folder(settings, number)) is not None:
        return load_frozen(settings, number), True
    if render:
        from digest.render import render_to_outbox

        rendered = render_to_outbox(settings=settings, issue_number=number).rendered
        return replace(rendered.parts, comparison_ids=ids), False
    return read_parts(settings, number=number, subject=subject, comparison_ids=ids), False


def send_proof(*, settings: Settings, engine: Engine, number: int | str, to: list[str],
               transport: Transport | None = None, render: bool = True) -> ProofReport:
    """Send issue `number` as readers get it, subject prefixed "[Proof] ", to `to`.

    Links are signed for subscriber id 0 (PROOF_SUBSCRIBER_ID): they verify, so the web app
    shows what a reader would see, but they belong to nobody and act on no one. Touches no
    delivery and no subscriber. Raises ValidationError for a bad address and DeliveryError if
    any proof was not accepted (the report of the others is in the message).
    """
    from digest.audience import check_address

    addresses = [check_address(text).email for text in to]
    if not addresses:
        raise ValidationError("no address to send the proof to", hint="give --to ADDRESS (or set `editor`)")
    parts, is_frozen = proof_parts(settings=settings, engine=engine, number=number, render=render)
    composer = Composer(settings=settings, parts=parts, signer=make_signer(settings), dkim=make_dkim(settings),
                        subject_prefix="[Proof] ")
    number = parts.number
    report = ProofReport(number=number, subject=composer.template.subject, frozen=is_frozen)
    transport = transport or smtp_transport_factory(settings)()
    sender = envelope_sender(settings)
    try:
        transport.open()
        for address in addresses:
            message_id = f"proof.{number}.{uuid.uuid4().hex[:16]}@{composer.domain}"
            raw = composer.compose(subscriber_id=PROOF_SUBSCRIBER_ID, email=address, message_id=message_id,
                                   seven_bit=not transport.eight_bit_mime)
            try:
                transport.send(sender=sender, recipient=address, message=raw, issue=number)
            except (TransientFailure, PermanentFailure) as failure:
                report.failed[address] = failure.reply
            else:
                report.sent.append(address)
    finally:
        transport.close()
    if report.failed:
        details = "; ".join(f"{address}: {reply}" for address, reply in report.failed.items())
        sent = f" (sent to {', '.join(report.sent)})" if report.sent else ""
        raise DeliveryError(f"the proof was not accepted for {details}{sent}")
    return report
