"""The sign-up confirmation email: built with `digest.message.MessageTemplate`, sent over SMTP.

One message per request, sent after the response has gone out, so the time a sign-up takes
does not reveal whether a confirmation was sent (which would tell known addresses apart).
"""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING

from digest.errors import DeliveryError
from digest.links import UNSUBSCRIBE, Placeholders
from digest.message import MessageTemplate, sender_domain

if TYPE_CHECKING:
    from digest.config import Settings
    from digest.web.pages import Pages

log = logging.getLogger("digest.web")


def confirmation_message(settings: Settings, pages: Pages, *, to: str, link: str, unsubscribe: str) -> bytes:
    """The complete confirmation message for `to` with its confirm `link`.

    It carries `List-Unsubscribe: <unsubscribe>` beside `List-Unsubscribe-Post` (RFC 8058), so
    a mail program's unsubscribe button works on it too: it cancels the pending sign-up and
    suppresses the address (someone else may have typed it in).
    """
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
        placeholders=Placeholders.fresh(),  # the body has none; the settings' text never becomes one
    )
    return template.personalise(to=to, values={UNSUBSCRIBE: unsubscribe},
                                message_id=f"confirm.{uuid.uuid4().hex}@{domain}")


def send_message(settings: Settings, *, to: str, data: bytes) -> None:
    """Deliver one message through the sender's SMTP transport; DeliveryError on any failure."""
    from digest.composer import envelope_sender, smtp_transport_factory
    from digest.transport import PermanentFailure, TransientFailure

    transport = smtp_transport_factory(settings)()
    try:
        transport.open()
        transport.send(sender=envelope_sender(settings), recipient=to, message=data)
    except (TransientFailure, PermanentFailure) as exc:
        raise DeliveryError(f"the server did not take the confirmation: {exc.reply}") from None
    finally:
        transport.close()


def send_confirmation(settings: Settings, pages: Pages, *, to: str, link: str, unsubscribe: str) -> None:
    """Build and send; failures are logged (without the address) since no one waits for them."""
    try:
        data = confirmation_message(settings, pages, to=to, link=link, unsubscribe=unsubscribe)
        send_message(settings, to=to, data=data)
    except DeliveryError as exc:
        log.warning("sign-up confirmation not sent: %s", exc.message)
