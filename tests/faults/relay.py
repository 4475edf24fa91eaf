"""A relay whose answers a test scripts, phase by phase: a real aiosmtpd server on 127.0.0.1.

`relay.phase = Phase(rcpt="451 4.3.0 Try later")` makes every RCPT from now on answer so;
`relay.phase = Phase()` is a healthy relay again. Every fault a relay shows the sender is here:
refusals at MAIL, RCPT or after DATA, a failed login or STARTTLS, the connection dropped in the
middle of DATA, and the final reply lost after the message was kept.
"""

from __future__ import annotations

import ssl
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult

from digest.smtpsink import LoopbackController, Recorder, Sink
from tlscert import make_certificate, server_context


@dataclass(frozen=True)
class Phase:
    """How the relay answers until the test changes it; None means "as a healthy relay would"."""

    mail: str | None = None  # the answer to MAIL FROM
    rcpt: str | None = None  # the answer to every RCPT TO
    refuse: frozenset[str] = frozenset()  # these recipients get `refusal` at RCPT, whatever the phase
    refusal: str = "550 5.1.1 No such user here"
    data: str | None = None  # the answer after the message's final dot (nothing kept)
    drop_mid_data: bool = False  # close the connection halfway through the message
    lose_reply: bool = False  # keep the message, then close before answering 250
    every: int = 1  # the MAIL/RCPT/DATA faults hit every n-th transaction only
    auth_ok: bool = True
    starttls: str | None = None  # the answer to STARTTLS instead of starting TLS


class ScriptedRelay(Recorder):
    """The handler: records what it kept, counts what it did to each message."""

    def __init__(self) -> None:
        super().__init__()
        self.phase = Phase()
        self.transactions = 0
        self.events: Counter[str] = Counter()
        self.lost: Counter[str] = Counter()  # kept, but the sender never heard so: per recipient

    def _faulty(self, envelope: Any) -> bool:
        return getattr(envelope, "faulty", True)

    async def handle_MAIL(self, server, session, envelope, address, mail_options):  # noqa: N802, ANN001
        self.transactions += 1
        envelope.faulty = self.transactions % self.phase.every == 0
        if self.phase.mail and envelope.faulty:
            self.events["mail refused"] += 1
            return self.phase.mail
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802, ANN001
        if address in self.phase.refuse:
            self.events["recipient refused"] += 1
            return self.phase.refusal
        if self.phase.rcpt and self._faulty(envelope):
            self.events["rcpt refused"] += 1
            return self.phase.rcpt
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802, ANN001
        if self.phase.data and self._faulty(envelope):
            self.events["data refused"] += 1
            return self.phase.data
        self.record(envelope)
        if self.phase.lose_reply and self._faulty(envelope):
            self.lost[envelope.rcpt_tos[0]] += 1
            server.transport.close()
            return "250 never heard"
        return "250 OK"

    def authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:  # noqa: ANN001
        if not self.phase.auth_ok:
            self.events["login refused"] += 1
        return AuthResult(success=self.phase.auth_ok, handled=False)


class ScriptedSMTP(SMTP):
    """aiosmtpd's server with STARTTLS and the middle of DATA under the script's control."""

    async def smtp_STARTTLS(self, arg: str) -> None:  # noqa: N802
        reply = self.event_handler.phase.starttls
        if reply:
            self.event_handler.events["starttls refused"] += 1
            await self.push(reply)
            return
        await super().smtp_STARTTLS(arg)

    async def smtp_DATA(self, arg: str) -> None:  # noqa: N802
        handler = self.event_handler
        if handler.phase.drop_mid_data and self.envelope is not None and self.envelope.rcpt_tos \
                and getattr(self.envelope, "faulty", True):
            await self.push("354 End data with <CR><LF>.<CR><LF>")
            await self._reader.readline()  # the first line of the message, then nothing more
            handler.events["dropped mid-DATA"] += 1
            self.transport.close()
            return
        await super().smtp_DATA(arg)


class _Controller(LoopbackController):
    def factory(self) -> SMTP:
        return ScriptedSMTP(self.handler, **self.SMTP_kwargs)


def start_relay(*, tls: ssl.SSLContext | None = None, auth: bool = False) -> Sink:
    """A scripted relay on 127.0.0.1:<ephemeral>; `tls` offers STARTTLS, `auth` asks for a login."""
    handler = ScriptedRelay()
    options: dict[str, Any] = {}
    if tls is not None:
        options["tls_context"] = tls
    if auth:
        options.update(authenticator=handler.authenticate, auth_required=True, auth_require_tls=tls is not None)
    controller = _Controller(handler, hostname="127.0.0.1", port=0, **options)
    controller.start()
    return Sink(controller, handler)


def server_tls(folder: Path) -> ssl.SSLContext:
    """A self-signed certificate for 127.0.0.1 (the sender connects with ?verify=no)."""
    return server_context(*make_certificate(folder, prefix="relay-"))


@dataclass
class Outcome:
    """What readers and the database show after a fault: the checks every fault test ends with."""

    copies: Counter[str] = field(default_factory=Counter)
    deliveries: dict[str, tuple[str, int]] = field(default_factory=dict)  # email -> (status, attempts)
    bounces: dict[str, int] = field(default_factory=dict)  # email -> bounce count
    statuses: dict[str, str] = field(default_factory=dict)  # email -> subscriber status
    issue: str = ""


def outcome(engine, relay: Sink) -> Outcome:
    from sqlmodel import select

    from digest.db import session_scope
    from digest.models import Delivery, Issue, Subscriber

    seen = Outcome(copies=Counter(m.recipients[0] for m in relay.messages))
    with session_scope(engine) as session:
        for delivery, subscriber in session.exec(select(Delivery, Subscriber)
                                                 .join(Subscriber, Subscriber.id == Delivery.subscriber_id)):
            seen.deliveries[subscriber.email] = (delivery.status, delivery.attempts)
        for subscriber in session.exec(select(Subscriber)):
            seen.bounces[subscriber.email] = subscriber.bounce_count
            seen.statuses[subscriber.email] = subscriber.status
        seen.issue = session.exec(select(Issue)).one().status
    return seen
