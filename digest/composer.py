"""Messages for readers: an issue's frozen parts, one reader's signed links, the run's settings.

A `Composer` is made once per issue and run: the `MessageTemplate` encodes the parts once, the
`Personaliser` precomputes the link prefixes, and `compose` makes one reader's bytes (with the
optional DKIM signature) in tens of microseconds. The sender, proofs and the benchmark use it,
so what a proof shows is what readers get.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime, parseaddr
from typing import TYPE_CHECKING

from digest.errors import ConfigError
from digest.links import Personaliser
from digest.message import DkimSigner, MessageTemplate, issue_template, message_id_for, sender_domain, verp_address
from digest.parts import IssueParts
from digest.tokens import Signer
from digest.transport import SmtpTransport, Transport, parse_smtp_url

if TYPE_CHECKING:
    from digest.config import Settings


def make_signer(settings: Settings) -> Signer:
    from digest.config import require_secret_key

    return Signer(require_secret_key(settings))


def make_dkim(settings: Settings) -> DkimSigner | None:
    """The DKIM signer when send.dkim_domain, dkim_selector and dkim_key_file are all set."""
    send = settings.send
    given = [bool(send.dkim_domain), bool(send.dkim_selector), bool(send.dkim_key_file)]
    if not any(given):
        return None
    if not all(given):
        raise ConfigError("dkim_domain, dkim_selector and dkim_key_file go together", key="send.dkim_*")
    path = settings.home / send.dkim_key_file
    try:
        key = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read the DKIM key: {exc.strerror}", key="send.dkim_key_file") from None
    return DkimSigner(domain=send.dkim_domain, selector=send.dkim_selector, private_key=key)


class Composer:
    """One issue's messages: the template encoded once, then per subscriber links and headers."""

    def __init__(self, *, settings: Settings, parts: IssueParts, signer: Signer,
                 dkim: DkimSigner | None = None, subject_prefix: str = "") -> None:
        self.number = parts.number
        self.template: MessageTemplate = issue_template(settings, subject=subject_prefix + parts.subject,
                                                        html_body=parts.html, text_body=parts.text,
                                                        placeholders=parts.placeholders)
        self.personaliser = Personaliser(base_url=settings.base_url, signer=signer, issue_number=parts.number,
                                         comparison_ids=parts.comparison_ids)
        self.dkim = dkim
        self.signer = signer
        self.return_path = settings.bounces.return_path
        self.domain = sender_domain(settings.sender)
        self._salt = settings.secret_key
        self._date = ("", 0)

    def dot_safe(self, seven_bit: bool = False) -> bool:
        """No line of a composed message starts with "." (the 7bit re-encoding is not checked)."""
        return self.template.dot_safe and not (seven_bit and self.template.eight_bit)

    def message_id(self, delivery_id: int) -> str:
        return message_id_for(issue_number=self.number, delivery_id=delivery_id, domain=self.domain, salt=self._salt)

    def _now(self) -> str:
        second = int(time.time())
        if self._date[1] != second:
            self._date = (format_datetime(datetime.fromtimestamp(second, UTC)), second)
        return self._date[0]

    def delivery_tag(self, subscriber_id: int) -> str:
        """The signed name of this reader's delivery (see `Signer.delivery_tag`)."""
        return self.signer.delivery_tag(subscriber_id, self.number)

    def compose(self, *, subscriber_id: int, email: str, message_id: str, seven_bit: bool = False,
                tag: str | None = None) -> bytes:
        """One reader's message; `tag` is their `delivery_tag` when the caller has it already."""
        raw = self.template.personalise(to=email, values=self.personaliser.values(subscriber_id, email),
                                        message_id=message_id, date=self._now(), seven_bit=seven_bit,
                                        delivery_tag=tag or self.delivery_tag(subscriber_id))
        return self.dkim.sign(raw) if self.dkim is not None else raw

    def envelope_sender(self, tag: str, default: str) -> str:
        """The MAIL FROM of the message with delivery tag `tag`: the VERP return path when
        `bounces.return_path` is set (the bounce then names its delivery, signed), else `default`."""
        return verp_address(self.return_path, tag) if self.return_path else default


def smtp_transport_factory(settings: Settings) -> Callable[[], Transport]:
    """A factory of SMTP transports per `smtp.url` (the EHLO name is resolved once)."""
    import socket

    target = parse_smtp_url(settings.smtp.url, timeout=settings.smtp.timeout,
                            helo=settings.smtp.helo or socket.getfqdn())
    return lambda: SmtpTransport(target)


def envelope_sender(settings: Settings) -> str:
    """The MAIL FROM address (where bounces go): the address part of `sender`."""
    address = parseaddr(settings.sender)[1]
    if not address or "@" not in address:
        raise ConfigError(f"{settings.sender!r} has no usable address", key="sender")
    return address
