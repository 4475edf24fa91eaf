"""The sign-up confirmation email: built with `digest.message.MessageTemplate`, sent over SMTP.

One message per request, sent after the response has gone out, so the time a sign-up takes
does not reveal whether a confirmation was sent (which would tell known addresses apart).
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import uuid
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from digest.errors import DeliveryError
from digest.message import MessageTemplate, sender_domain

if TYPE_CHECKING:
    from digest.config import Settings
    from digest.web.pages import Pages

log = logging.getLogger("digest.web")


def confirmation_message(settings: Settings, pages: Pages, *, to: str, link: str) -> bytes:
    """The complete confirmation message for `to` with its confirm `link`."""
    context = {"name": settings.name, "tagline": settings.tagline, "link": link,
               "postal_address": settings.postal_address}
    domain = sender_domain(settings.sender)
    template = MessageTemplate(
        subject=f"Confirm your subscription to {settings.name}",
        sender=settings.sender,
        reply_to=settings.reply_to,
        html_body=pages.render("site/confirm_email.html", **context),
        text_body=pages.render("site/confirm_email.txt", **context),
        list_id=f"<confirm.{domain}>",
    )
    return template.personalise(to=to, values={}, message_id=f"confirm.{uuid.uuid4().hex}@{domain}")


def send_message(settings: Settings, *, to: str, data: bytes) -> None:
    """Deliver one message through `smtp.url`; DeliveryError on any failure."""
    parts = urlsplit(settings.smtp.url)
    host = parts.hostname or "127.0.0.1"
    scheme = parts.scheme
    port = parts.port or (465 if scheme == "smtps" else 587 if scheme == "smtp+starttls" else 25)
    try:
        if scheme == "smtps":
            client = smtplib.SMTP_SSL(host, port, timeout=settings.smtp.timeout,
                                      context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(host, port, timeout=settings.smtp.timeout)
        with client:
            client.ehlo(settings.smtp.helo or None)
            if scheme == "smtp+starttls" or (scheme == "smtp" and client.has_extn("starttls")):
                client.starttls(context=ssl.create_default_context())
                client.ehlo(settings.smtp.helo or None)
            if parts.username:
                client.login(unquote(parts.username), unquote(parts.password or ""))
            client.sendmail(_address(settings.sender), [to], data)
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryError(f"could not send the confirmation: {type(exc).__name__}") from None


def _address(sender: str) -> str:
    from email.utils import parseaddr

    return parseaddr(sender)[1]


def send_confirmation(settings: Settings, pages: Pages, *, to: str, link: str) -> None:
    """Build and send; failures are logged (without the address) since no one waits for them."""
    try:
        send_message(settings, to=to, data=confirmation_message(settings, pages, to=to, link=link))
    except DeliveryError as exc:
        log.warning("sign-up confirmation not sent: %s", exc.message)
