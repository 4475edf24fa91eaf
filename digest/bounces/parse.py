"""What a message in the return mailbox is: a bounce (hard or soft), a complaint, or neither.

Standard reports are read with the standard library's parser: RFC 3464 delivery status
notifications (`multipart/report; report-type=delivery-status`, the per-recipient `Action`,
`Status` and `Diagnostic-Code`) and RFC 5965 ARF complaints (`report-type=feedback-report`).
Everything else goes to `flufl.bounce` (GNU Mailman's detectors for Exim, qmail, Exchange,
Yahoo and a dozen other non-standard shapes), which says whether a failure is permanent or
temporary; a text that only carries a `Status: 5.x.x` line is the last resort, and only for
mail that presents itself as a bounce (a mailer-daemon sender or `X-Failed-Recipients`).

None of this says *whose* delivery failed: that comes only from the signed delivery tag digest
put into the message (`digest.bounces.match`), never from addresses guessed out of free text.
An automatic answer (RFC 3834 `Auto-Submitted`, vacation headers) or a person's reply is
classified as such and left for the editor.
"""

from __future__ import annotations

import email
import re
from dataclasses import dataclass
from email.message import Message

from digest.models import BounceKind

MAX_REASON = 500
_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_STATUS_LINE = re.compile(rb"^\s*Status:\s*([45]\.\d{1,3}\.\d{1,3})\b", re.I | re.M)
_SMTP_REPLY = re.compile(rb"\b([45]\d\d)[ -]#?([45]\.\d{1,3}\.\d{1,3})\b")
_DAEMON = re.compile(r"mailer-daemon|postmaster|mail delivery (sub)?system|mail ?delivery", re.I)
_AUTO_SUBJECT = re.compile(r"^\s*(auto(matic)? ?(reply|response)|out of (the )?office|abwesenheit|"
                           r"r[ée]ponse automatique|vacation)\b", re.I)


@dataclass(frozen=True)
class Finding:
    """The classification of one message; `recipient` is informational only."""

    kind: BounceKind
    status: str = ""  # enhanced status code, e.g. 5.1.1
    reason: str = ""  # the diagnostic or feedback type, one line
    recipient: str = ""


def parse_message(raw: bytes) -> Message:
    """The message as the standard library parses it (compat32, as flufl.bounce expects)."""
    return email.message_from_bytes(raw)


def classify(message: Message, raw: bytes) -> Finding:
    """What `message` is; never raises on malformed input (it is then a reply for the editor)."""
    try:
        return _classify(message, raw)
    except Exception:  # a malformed message must not stop the run: the editor sees it instead
        return Finding(BounceKind.REPLY, reason="could not be parsed")


def _classify(message: Message, raw: bytes) -> Finding:
    if message.get_content_type() == "multipart/report":
        report_type = (message.get_param("report-type") or "").lower()
        if report_type == "feedback-report":
            return _feedback(message)
        if report_type == "delivery-status":
            found = _delivery_status(message)
            if found is not None:
                return found
    daemon = _from_daemon(message)
    if not daemon and _auto_reply(message):
        return Finding(BounceKind.AUTO_REPLY, reason=_one_line(str(message.get("Subject", ""))))
    found = _flufl(message, raw)
    if found is not None:
        return found
    if daemon:
        found = _status_in_text(raw)
        if found is not None:
            return found
    if _auto_reply(message):
        return Finding(BounceKind.AUTO_REPLY, reason=_one_line(str(message.get("Subject", ""))))
    return Finding(BounceKind.REPLY, reason=_one_line(str(message.get("Subject", ""))))


def _feedback(message: Message) -> Finding:
    """An ARF report: the feedback type (abuse, fraud, ...) is the reason."""
    fields = _report_fields(message, "message/feedback-report")
    first = fields[0] if fields else Message()
    feedback_type = _one_line(str(first.get("Feedback-Type", "abuse"))) or "abuse"
    recipient = _address(str(first.get("Original-Rcpt-To", "")))
    agent = _one_line(str(first.get("User-Agent", "")))
    reason = feedback_type + (f" via {agent}" if agent else "")
    return Finding(BounceKind.COMPLAINT, reason=reason[:MAX_REASON], recipient=recipient)


def _delivery_status(message: Message) -> Finding | None:
    """The worst per-recipient outcome of a DSN; None when it reports no failure or delay."""
    blocks = _report_fields(message, "message/delivery-status")
    worst: Finding | None = None
    for block in blocks[1:] or blocks:  # the first block holds the per-message fields
        action = str(block.get("Action", "")).strip().lower()
        status = _status_code(str(block.get("Status", "")))
        if action in ("delivered", "relayed", "expanded") or (not action and not status):
            continue
        diagnostic = _one_line(str(block.get("Diagnostic-Code", "")).partition(";")[2]
                               or str(block.get("Diagnostic-Code", "")))
        recipient = _address(str(block.get("Final-Recipient", "") or block.get("Original-Recipient", "")))
        if status.startswith("5") or (not status and action == "failed"):
            kind = BounceKind.HARD
        elif status.startswith("4") or action == "delayed":
            kind = BounceKind.SOFT
        else:
            continue
        found = Finding(kind, status=status, reason=(diagnostic or f"{action} {status}".strip())[:MAX_REASON],
                        recipient=recipient)
        if worst is None or (kind == BounceKind.HARD and worst.kind != BounceKind.HARD):
            worst = found
    return worst


def _report_fields(message: Message, content_type: str) -> list[Message]:
    """The header blocks of a message/delivery-status or message/feedback-report part."""
    for part in message.walk():
        if part.get_content_type() != content_type:
            continue
        payload = part.get_payload()
        if isinstance(payload, list):
            return [p for p in payload if isinstance(p, Message)]
        if isinstance(payload, str):  # some agents send it base64- or qp-encoded
            text = part.get_payload(decode=True) or payload.encode("utf-8", "replace")
            return [email.message_from_bytes(chunk) for chunk in re.split(rb"\r?\n\r?\n", text.strip()) if chunk]
    return []


def _flufl(message: Message, raw: bytes) -> Finding | None:
    """A non-standard bounce as flufl.bounce detects it: permanent is hard, temporary soft."""
    from flufl.bounce import all_failures

    temporary, permanent = all_failures(message)
    if not permanent and not temporary:
        return None
    kind = BounceKind.HARD if permanent else BounceKind.SOFT
    status = _status_in_text(raw)
    code = status.status if status is not None and status.status[0] == ("5" if permanent else "4") else ""
    recipient = sorted(permanent or temporary)[0].decode("utf-8", "replace")
    reason = (status.reason if status is not None and code else "") or \
        _one_line(str(message.get("Subject", ""))) or "delivery failed"
    return Finding(kind, status=code, reason=reason[:MAX_REASON], recipient=recipient)


def _status_in_text(raw: bytes) -> Finding | None:
    """A `Status: 5.1.1` line, else an SMTP reply like `550 5.1.1 ...`, in the message's text."""
    text = decoded_text(raw)
    match = _STATUS_LINE.search(text)
    reply = _SMTP_REPLY.search(text)
    code = match.group(1).decode("ascii") if match else reply.group(2).decode("ascii") if reply else ""
    if not code:
        return None
    reason = ""
    if reply:
        line_end = text.find(b"\n", reply.start())
        reason = _one_line(text[reply.start(): line_end if line_end >= 0 else None].decode("utf-8", "replace"))
    kind = BounceKind.HARD if code.startswith("5") else BounceKind.SOFT
    return Finding(kind, status=code, reason=(reason or f"status {code}")[:MAX_REASON])


def decoded_text(raw: bytes) -> bytes:
    """The raw bytes plus every text part decoded (base64 or quoted-printable bodies)."""
    pieces = [raw]
    for part in parse_message(raw).walk():
        if part.get_content_maintype() == "text":
            decoded = part.get_payload(decode=True)
            if isinstance(decoded, bytes):
                pieces.append(decoded)
    return b"\n".join(pieces)


def _from_daemon(message: Message) -> bool:
    sender = str(message.get("From", ""))
    return bool(_DAEMON.search(sender)) or message.get("X-Failed-Recipients") is not None


def _auto_reply(message: Message) -> bool:
    """RFC 3834 and the vendors' vacation headers; a subject like "Automatic reply:" too."""
    auto = str(message.get("Auto-Submitted", "")).strip().lower()
    if auto and auto != "no":
        return True
    if any(message.get(h) is not None for h in ("X-Autoreply", "X-Autorespond", "X-Autoresponder")):
        return True
    if str(message.get("Precedence", "")).strip().lower() == "auto_reply":
        return True
    if str(message.get("X-Auto-Response-Suppress", "")).strip().lower() in ("all", "oof"):
        return bool(_AUTO_SUBJECT.search(str(message.get("Subject", ""))))
    return bool(_AUTO_SUBJECT.search(str(message.get("Subject", ""))))


def _status_code(text: str) -> str:
    match = _STATUS.search(text)
    return ".".join(match.groups()) if match else ""


def _address(text: str) -> str:
    return _one_line(text.partition(";")[2] or text)[:320]


def _one_line(text: str) -> str:
    return " ".join(text.split())[:MAX_REASON]
