"""Which delivery a bounce or complaint is about: only what digest signed says so.

digest names each delivery in the message itself: the VERP return path
`bounces+<tag>@domain` (where a DSN is sent, so the bounce's `To`/`Delivered-To` carries it)
and the header `X-Digest-Delivery: <tag>` (which comes back inside an attached original, an
ARF report's copy, or a quoted header block). The tag is HMAC-signed with the folder's key
(`Signer.delivery_tag`), so a tag that verifies names exactly one (subscriber, issue) pair; a
message with no valid tag is unmatched and left for the editor, however it reads.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from email.message import Message

from digest.errors import TokenError
from digest.tokens import Signer

HEADER = "X-Digest-Delivery"
_TAG = r"([a-z2-7]{44})"
_VERP = re.compile(rb"\+" + _TAG.encode() + rb"@", re.I)
_IN_HEADER = re.compile(rb"X-Digest-Delivery:[ \t]*(?:\r?\n[ \t]+)?" + _TAG.encode() + rb"\b", re.I)
_ENVELOPE_HEADERS = ("To", "Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To", "Return-Path",
                     "Original-Recipient", "X-Original-Rcpt-To")


@dataclass(frozen=True)
class Match:
    """The delivery a message is about."""

    subscriber_id: int
    issue_number: int
    via: str  # verp | header


def find_delivery(message: Message, texts: bytes, signer: Signer) -> Match | None:
    """The delivery named by a valid signed tag in the envelope headers, else in the text.

    `texts` is the raw message with its decoded text parts (see `parse.decoded_text`), so a
    header quoted inside a base64 part is found too. Tags that do not verify are ignored.
    """
    for name in _ENVELOPE_HEADERS:
        for value in message.get_all(name, []) or []:
            for tag in _VERP.findall(str(value).encode("utf-8", "replace")):
                found = _verify(signer, tag.decode("ascii"), "verp")
                if found is not None:
                    return found
    for tag in _IN_HEADER.findall(texts):
        found = _verify(signer, tag.decode("ascii"), "header")
        if found is not None:
            return found
    return None


def _verify(signer: Signer, tag: str, via: str) -> Match | None:
    try:
        subscriber_id, issue_number = signer.verify_delivery_tag(tag)
    except TokenError:
        return None
    return Match(subscriber_id=subscriber_id, issue_number=issue_number, via=via)


def message_key(message: Message, raw: bytes) -> str:
    """The identity of a mailbox message: its Message-ID, else a hash of its bytes.

    Both survive the message being moved between folders or read by a second process.
    """
    mid = " ".join(str(message.get("Message-ID", "")).split())
    if mid and len(mid) <= 300:
        return "mid:" + mid.lower()
    return "sha256:" + hashlib.sha256(raw).hexdigest()
