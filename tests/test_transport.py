"""SMTP transport against real aiosmtpd servers: STARTTLS, implicit TLS, AUTH, reuse, reconnects."""

from __future__ import annotations

import json

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlmodel import select

from delivery_helpers import add_subscribers, make_ready_issue, write_parts
from digest.db import session_scope
from digest.errors import ConfigError
from digest.models import Delivery
from digest.outbox import queue_issue
from digest.smtpsink import Recorder, start_sink
from digest.transport import parse_smtp_url
from tlscert import make_certificate, server_context


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1 and localhost: (cert path, server SSLContext)."""
    cert_path, key_path = make_certificate(tmp_path_factory.mktemp("tls"))
    return cert_path, server_context(cert_path, key_path)


class Authenticator:
    """Accepts editor / s3cr:t; remembers who logged in."""

    def __init__(self) -> None:
        self.logins: list[str] = []

    def __call__(self, server, session, envelope, mechanism, auth_data):  # noqa: ANN001
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"editor", b"s3cr:t")
        if ok:
            self.logins.append(auth_data.login.decode())
        return AuthResult(success=ok, handled=False)


class SessionRecorder(Recorder):
    """Records, per message, the connection it came over and whether it was encrypted."""

    def __init__(self, per_connection: int = 0) -> None:
        super().__init__()
        self.peers: list[tuple] = []
        self.tls: list[bool] = []
        self.per_connection = per_connection
        self.counts: dict[tuple, int] = {}

    async def handle_MAIL(self, server, session, envelope, address, mail_options):  # noqa: N802, ANN001
        served = self.counts.get(session.peer, 0)
        if self.per_connection and served >= self.per_connection:
            return "421 4.7.0 Too many messages on this connection, closing"
        self.counts[session.peer] = served + 1
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802, ANN001
        self.peers.append(session.peer)
        self.tls.append(session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None)
        self.record(envelope)
        return "250 OK"


def queue_for(engine, settings, emails: list[str]) -> None:
    write_parts(settings, 1, make_ready_issue(engine, settings))
    add_subscribers(engine, emails)
    queue_issue(engine=engine, settings=settings, number=1, render=False)


def statuses(engine) -> list[tuple[str, int]]:
    with session_scope(engine) as session:
        return [(d.status, d.attempts) for d in session.exec(select(Delivery).order_by(Delivery.id))]


def test_starttls_with_auth(cli, engine, settings, certificate) -> None:
    cert_path, context = certificate
    queue_for(engine, settings, ["a@example.com", "b@example.com"])
    auth = Authenticator()
    with start_sink(SessionRecorder(), tls_context=context, require_starttls=True, authenticator=auth,
                    auth_required=True) as server:
        url = server.url("smtp+starttls", "editor:s3cr%3At", f"cafile={cert_path}")
        result = cli("send", env={"DIGEST_SMTP_URL": url})
        assert result.exit_code == 0, result.output
        assert sorted(m.recipients[0] for m in server.messages) == ["a@example.com", "b@example.com"]
        assert server.handler.tls == [True, True] and auth.logins == ["editor"]


def test_plain_smtp_upgrades_when_starttls_is_offered(cli, engine, settings, certificate) -> None:
    cert_path, context = certificate
    queue_for(engine, settings, ["a@example.com"])
    with start_sink(SessionRecorder(), tls_context=context) as server:
        assert cli("send", env={"DIGEST_SMTP_URL": server.url(query=f"cafile={cert_path}")}).exit_code == 0
        assert server.handler.tls == [True]


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_implicit_tls_with_auth(cli, engine, settings, certificate) -> None:
    cert_path, context = certificate
    queue_for(engine, settings, ["a@example.com"])
    auth = Authenticator()
    # aiosmtpd cannot tell that an implicit-TLS connection is encrypted, hence auth_require_tls=False
    with start_sink(SessionRecorder(), ssl_context=context, authenticator=auth, auth_required=True,
                    auth_require_tls=False) as server:
        url = server.url("smtps", "editor:s3cr%3At", f"cafile={cert_path}")
        result = cli("send", env={"DIGEST_SMTP_URL": url})
        assert result.exit_code == 0, result.output
        assert len(server.messages) == 1 and auth.logins == ["editor"] and server.handler.tls == [True]


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_wrong_password_fails_the_run_without_showing_it(cli, engine, settings, certificate) -> None:
    cert_path, context = certificate
    queue_for(engine, settings, ["a@example.com"])
    with start_sink(SessionRecorder(), ssl_context=context, authenticator=Authenticator(), auth_required=True,
                    auth_require_tls=False) as server:
        result = cli("send", env={"DIGEST_SMTP_URL": server.url("smtps", "editor:wrong-pw", f"cafile={cert_path}")})
        assert server.messages == []
    assert result.exit_code == 1 and "refused the login for editor" in result.stderr
    assert "wrong-pw" not in result.output
    assert statuses(engine) == [("queued", 0)]


def test_untrusted_certificate_is_refused_with_a_hint(cli, engine, settings, certificate) -> None:
    _cert_path, context = certificate
    queue_for(engine, settings, ["a@example.com"])
    with start_sink(SessionRecorder(), ssl_context=context) as server:
        result = cli("send", env={"DIGEST_SMTP_URL": server.url("smtps")})
        assert result.exit_code == 1 and "TLS failed" in result.stderr and "cafile" in result.stderr
        insecure = cli("send", env={"DIGEST_SMTP_URL": server.url("smtps", query="verify=no")})
        assert insecure.exit_code == 0 and len(server.messages) == 1


def test_starttls_required_but_not_offered(cli, engine, settings) -> None:
    queue_for(engine, settings, ["a@example.com"])
    with start_sink() as server:
        result = cli("send", env={"DIGEST_SMTP_URL": server.url("smtp+starttls")})
    assert result.exit_code == 1 and "does not offer STARTTLS" in result.stderr
    assert statuses(engine) == [("queued", 0)]


def test_connections_are_reused_and_renewed_when_the_server_closes_them(cli, engine, settings) -> None:
    emails = [f"r{i}@example.com" for i in range(10)]
    queue_for(engine, settings, emails)
    with start_sink(SessionRecorder(per_connection=3)) as server:
        result = cli("send", "--workers", "1", "--json", env={"DIGEST_SMTP_URL": server.url()})
        assert result.exit_code == 0, result.output
        peers = server.handler.peers
    assert json.loads(result.stdout)["retried"] == 0
    assert len(peers) == 10 and len(set(peers)) == 4  # 3 + 3 + 3 + 1 messages per connection
    assert statuses(engine) == [("sent", 1)] * 10


def test_smtp_urls() -> None:
    target = parse_smtp_url("smtps://me%40example.com:p%40ss@mail.example.com?verify=no", timeout=5)
    assert (target.host, target.port, target.user, target.password, target.verify) == \
        ("mail.example.com", 465, "me@example.com", "p@ss", False)
    assert "p@ss" not in target.display
    assert parse_smtp_url("smtp+starttls://relay.example.com").port == 587
    assert parse_smtp_url("smtp://relay.example.com:2525").port == 2525
    for bad, fault in (("http://x", "scheme"), ("smtp://", "no host"), ("smtp://x?tls=1", "unknown option"),
                       ("smtp://x:99999", "port")):
        with pytest.raises(ConfigError, match=fault):
            parse_smtp_url(bad)
