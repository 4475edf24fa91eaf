"""ESP webhooks: Amazon SES through SNS, and Mailgun, verified before anything is believed.

SES publishes bounce and complaint notifications to an SNS topic, and SNS POSTs them here
signed with RSA (SignatureVersion 1: SHA1, 2: SHA256) by a certificate at `SigningCertURL`.
The certificate is only ever fetched from a URL that passes `cert_url_allowed` (https on
`sns.<region>.amazonaws.com`, or the configured `sns_cert_url_prefix`), or read from
`sns_cert_file` instead; the message's `TopicArn` must be one of `sns_topics`. A
SubscriptionConfirmation is confirmed by fetching its SubscribeURL under the same rule.

Mailgun signs each webhook with HMAC-SHA256 over timestamp + token with the account's webhook
signing key; a timestamp more than `MAX_SKEW` away is refused (a replayed old request).

Either way the event names its delivery only through what digest put in the message: the VERP
return path (SES `mail.source`, Mailgun `envelope.sender`), the `X-Digest-Delivery` header
(SES with original headers included), or digest's own Message-ID, which is checked against the
delivery it names. Anything unverifiable raises `WebhookRefused` and changes nothing; the
event's id (SES feedbackId, Mailgun event id) is its key, so a redelivery counts once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from digest.bounces.record import Event
from digest.errors import DigestError, TokenError
from digest.models import BounceKind, Delivery, Issue

if TYPE_CHECKING:
    from sqlmodel import Session

    from digest.config import BounceSettings
    from digest.tokens import Signer

MAX_SKEW = 15 * 60  # seconds a Mailgun timestamp may differ from now
MAX_CERT_BYTES = 64_000
_SNS_HOST = re.compile(r"^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$")
_TAG = re.compile(r"\+([a-z2-7]{44})@", re.I)
_BARE_TAG = re.compile(r"^\s*([a-z2-7]{44})\s*$", re.I)
_NOTIFICATION_KEYS = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
_CONFIRMATION_KEYS = ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type")


class WebhookRefused(DigestError):
    """A webhook call that is not signed, not ours, or not understood: answered 4xx, nothing changed."""

    def __init__(self, message: str, *, status: int = 403) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Reference:
    """What an ESP event says about the message: any of the three ways digest names a delivery."""

    envelope_sender: str = ""
    delivery_header: str = ""
    message_id: str = ""


# --- SNS ----------------------------------------------------------------------------------------

def cert_url_allowed(url: str, prefix: str) -> bool:
    """Whether a SigningCertURL (or SubscribeURL) may be fetched: under `prefix` when one is
    configured, else https on an `sns.<region>.amazonaws.com` host with no user or port."""
    if prefix:
        return url.startswith(prefix)
    parts = urlsplit(url)
    return (parts.scheme == "https" and parts.hostname is not None and bool(_SNS_HOST.match(parts.hostname))
            and parts.port is None and not parts.username)


class SnsVerifier:
    """Checks SNS message signatures; fetched certificates are cached per URL for the process."""

    def __init__(self, bounces: BounceSettings, *, cert_file: bytes | None = None,
                 fetch: Callable[[str], bytes] | None = None) -> None:
        self.topics = {t.strip() for t in bounces.sns_topics.split(",") if t.strip()}
        self.prefix = bounces.sns_cert_url_prefix
        self.cert_file = cert_file
        self.fetch = fetch or _fetch
        self._certs: dict[str, Any] = {}
        self._lock = threading.Lock()

    def verify(self, body: bytes) -> dict[str, Any]:
        """The SNS message if it is well-formed, from an accepted topic and correctly signed."""
        if not self.topics:
            raise WebhookRefused("SNS webhooks are not enabled ([bounces] sns_topics is empty)", status=404)
        try:
            message = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise WebhookRefused("not a JSON SNS message", status=400) from None
        if not isinstance(message, dict) or not all(isinstance(message.get(k, ""), str) for k in _CONFIRMATION_KEYS):
            raise WebhookRefused("not an SNS message", status=400)
        kind = message.get("Type")
        keys = _NOTIFICATION_KEYS if kind == "Notification" else _CONFIRMATION_KEYS \
            if kind in ("SubscriptionConfirmation", "UnsubscribeConfirmation") else None
        if keys is None:
            raise WebhookRefused(f"unknown SNS message type {kind!r}", status=400)
        if message.get("TopicArn") not in self.topics:
            raise WebhookRefused("SNS topic not accepted")
        version = message.get("SignatureVersion")
        if version not in ("1", "2"):
            raise WebhookRefused("unsigned or unknown SNS signature version")
        try:
            signature = base64.b64decode(message.get("Signature", ""), validate=True)
        except (ValueError, TypeError):
            raise WebhookRefused("malformed SNS signature") from None
        text = "".join(f"{key}\n{message[key]}\n" for key in keys if key in message)
        self._check(message.get("SigningCertURL", ""), signature, text.encode("utf-8"), version)
        return message

    def _check(self, cert_url: str, signature: bytes, payload: bytes, version: str) -> None:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        certificate = self._certificate(cert_url)
        algorithm = hashes.SHA1() if version == "1" else hashes.SHA256()  # noqa: S303 - SNS version 1 is SHA1
        try:
            certificate.public_key().verify(signature, payload, padding.PKCS1v15(), algorithm)
        except (InvalidSignature, TypeError, ValueError):
            raise WebhookRefused("SNS signature does not verify") from None

    def _certificate(self, url: str) -> Any:
        from cryptography import x509

        if self.cert_file is not None:
            return x509.load_pem_x509_certificate(self.cert_file)
        if not cert_url_allowed(url, self.prefix):
            raise WebhookRefused("SNS signing certificate URL not allowed")
        with self._lock:
            cached = self._certs.get(url)
        if cached is not None:
            return cached
        try:
            certificate = x509.load_pem_x509_certificate(self.fetch(url))
        except WebhookRefused:
            raise
        except Exception:  # noqa: BLE001 - an unreadable certificate is a refusal, not a crash
            raise WebhookRefused("SNS signing certificate could not be read", status=403) from None
        with self._lock:
            self._certs[url] = certificate
        return certificate

    def confirm(self, message: dict[str, Any]) -> None:
        """Confirm a verified SubscriptionConfirmation by fetching its SubscribeURL."""
        url = message.get("SubscribeURL", "")
        if not cert_url_allowed(url, self.prefix):
            raise WebhookRefused("SNS SubscribeURL not allowed")
        self.fetch(url)


def _fetch(url: str) -> bytes:
    """GET `url` (no redirects, 10 s, at most MAX_CERT_BYTES): the body, or WebhookRefused."""
    import httpx

    try:
        with httpx.Client(timeout=10.0, follow_redirects=False) as client, client.stream("GET", url) as response:
            if response.status_code != 200:
                raise WebhookRefused(f"{url} answered {response.status_code}")
            body = b""
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_CERT_BYTES:
                    raise WebhookRefused(f"{url} sent too much")
            return body
    except httpx.HTTPError:
        raise WebhookRefused(f"{url} could not be fetched") from None


def ses_event(message: dict[str, Any]) -> tuple[Event, Reference] | None:
    """The bounce or complaint in a verified SNS Notification from SES; None for other types
    (deliveries, sends), which are acknowledged and ignored."""
    try:
        notification = json.loads(message["Message"])
    except (ValueError, KeyError, TypeError):
        raise WebhookRefused("SNS Message is not an SES notification", status=400) from None
    if not isinstance(notification, dict):
        raise WebhookRefused("SNS Message is not an SES notification", status=400)
    kind_name = notification.get("notificationType") or notification.get("eventType")
    mail = notification.get("mail") if isinstance(notification.get("mail"), dict) else {}
    reference = Reference(envelope_sender=str(mail.get("source", "")),
                          delivery_header=_header(mail.get("headers"), "X-Digest-Delivery"),
                          message_id=str((mail.get("commonHeaders") or {}).get("messageId", "")))
    if kind_name == "Bounce":
        bounce = notification.get("bounce") or {}
        recipient = (bounce.get("bouncedRecipients") or [{}])[0] or {}
        kind = BounceKind.HARD if bounce.get("bounceType") == "Permanent" else BounceKind.SOFT
        status = str(recipient.get("status", ""))
        reason = str(recipient.get("diagnosticCode") or f"{bounce.get('bounceType')} {bounce.get('bounceSubType')}")
        key = str(bounce.get("feedbackId") or message.get("MessageId"))
    elif kind_name == "Complaint":
        complaint = notification.get("complaint") or {}
        kind, status = BounceKind.COMPLAINT, ""
        reason = f"{complaint.get('complaintFeedbackType') or 'abuse'} via SES"
        key = str(complaint.get("feedbackId") or message.get("MessageId"))
    else:
        return None
    return Event(key=f"ses:{key}", source="ses", kind=kind, status=status[:20], reason=" ".join(reason.split())[:500]), \
        reference


def _header(headers: Any, name: str) -> str:
    if isinstance(headers, list):
        for header in headers:
            if isinstance(header, dict) and str(header.get("name", "")).lower() == name.lower():
                return str(header.get("value", ""))
    return ""


# --- Mailgun ------------------------------------------------------------------------------------

def mailgun_event(body: bytes, signing_key: str, *, now: float | None = None) -> tuple[Event, Reference] | None:
    """The bounce or complaint in a Mailgun webhook, after its HMAC signature is checked; None
    for other event types. WebhookRefused for an unsigned, forged or stale call."""
    if not signing_key:
        raise WebhookRefused("Mailgun webhooks are not enabled (no DIGEST_BOUNCES_MAILGUN_SIGNING_KEY)", status=404)
    try:
        payload = json.loads(body)
        signed = payload["signature"]
        timestamp, token, signature = str(signed["timestamp"]), str(signed["token"]), str(signed["signature"])
        data = payload["event-data"]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise WebhookRefused("not a signed Mailgun webhook", status=400) from None
    expected = hmac.new(signing_key.encode("utf-8"), (timestamp + token).encode("utf-8"), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature.lower()):
        raise WebhookRefused("Mailgun signature does not verify")
    try:
        stamp = float(timestamp)
    except ValueError:
        raise WebhookRefused("Mailgun timestamp is not a number", status=400) from None
    if abs((now if now is not None else time.time()) - stamp) > MAX_SKEW:
        raise WebhookRefused("Mailgun timestamp too old or in the future")
    if not isinstance(data, dict):
        raise WebhookRefused("Mailgun event-data is not an object", status=400)
    event_name = data.get("event")
    status_info = data.get("delivery-status") if isinstance(data.get("delivery-status"), dict) else {}
    if event_name == "failed":
        kind = BounceKind.HARD if data.get("severity") == "permanent" else BounceKind.SOFT
        code = str(status_info.get("code", ""))
        reason = str(status_info.get("description") or status_info.get("message") or data.get("reason") or "failed")
        status = str(status_info.get("enhanced-code", "")) or _enhanced(reason)
        reason = f"{code} {reason}".strip()
    elif event_name == "complained":
        kind, status, reason = BounceKind.COMPLAINT, "", "abuse via Mailgun"
    else:
        return None
    message = data.get("message") if isinstance(data.get("message"), dict) else {}
    headers = message.get("headers") if isinstance(message.get("headers"), dict) else {}
    envelope = data.get("envelope") if isinstance(data.get("envelope"), dict) else {}
    variables = data.get("user-variables") if isinstance(data.get("user-variables"), dict) else {}
    reference = Reference(envelope_sender=str(envelope.get("sender", "")),
                          delivery_header=str(variables.get("digest_delivery", "")),
                          message_id=str(headers.get("message-id", "")))
    key = str(data.get("id") or hashlib.sha256(body).hexdigest())
    return Event(key=f"mailgun:{key}", source="mailgun", kind=kind, status=status[:20],
                 reason=" ".join(reason.split())[:500]), reference


def _enhanced(text: str) -> str:
    match = re.search(r"\b([245]\.\d{1,3}\.\d{1,3})\b", text)
    return match.group(1) if match else ""


# --- matching -----------------------------------------------------------------------------------

def resolve(session: Session, signer: Signer, event: Event, reference: Reference) -> Event:
    """`event` with the delivery its reference names (VERP tag, signed header, or digest's own
    Message-ID of a recorded delivery), or as UNMATCHED when none does."""
    from dataclasses import replace

    for text, pattern in ((reference.envelope_sender, _TAG), (reference.delivery_header, _BARE_TAG)):
        match = pattern.search(text)
        if match:
            try:
                subscriber_id, issue_number = signer.verify_delivery_tag(match.group(1))
            except TokenError:
                continue
            return replace(event, subscriber_id=subscriber_id, issue_number=issue_number)
    found = _by_message_id(session, reference.message_id)
    if found is not None:
        return replace(event, subscriber_id=found[0], issue_number=found[1])
    return replace(event, kind=BounceKind.UNMATCHED,
                   reason=f"{event.kind.value} naming no delivery of ours: {event.reason}"[:500])


_MESSAGE_ID = re.compile(r"^<?(digest\.(\d{1,9})\.(\d{1,12})\.[0-9a-f]{12}@[^>\s]+)>?$")


def _by_message_id(session: Session, message_id: str) -> tuple[int, int] | None:
    """(subscriber id, issue number) of the delivery whose recorded Message-ID is exactly this."""
    match = _MESSAGE_ID.match(message_id.strip())
    if not match:
        return None
    delivery = session.get(Delivery, int(match.group(3)))
    if delivery is None or delivery.message_id != match.group(1):
        return None
    issue = session.get(Issue, delivery.issue_id)
    return delivery.subscriber_id, issue.number if issue is not None else int(match.group(2))


def apply_event(*, session: Session, signer: Signer, bounces: BounceSettings, event: Event,
                reference: Reference) -> str:
    """Match and record one verified ESP event (see `record.record_event` for what it returns)."""
    from digest.bounces.record import record_event

    return record_event(session=session, event=resolve(session, signer, event, reference),
                        soft_limit=bounces.soft_limit, soft_window=bounces.soft_window)
