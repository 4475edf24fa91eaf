"""`digest check`'s network checks against real servers on 127.0.0.1: an aiosmtpd relay with
STARTTLS (a self-signed certificate made here) and AUTH, and a DNS server (tests/dnsserver.py)
that `[check] nameservers` points the resolver at."""

from __future__ import annotations

import base64

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword

from digest.smtpsink import Recorder, start_sink
from dnsserver import DnsServer
from test_preflight import REAL, lines, settle
from tlscert import make_certificate, server_context

DOMAIN = "aiverdicts.net"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1: (cert path, server SSLContext)."""
    cert_path, key_path = make_certificate(tmp_path_factory.mktemp("tls"))
    return cert_path, server_context(cert_path, key_path)


@pytest.fixture(scope="module")
def dkim_keys(tmp_path_factory):
    """Two RSA key pairs: (PEM private key, DNS p= value) each."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    pairs = []
    for _ in range(2):
        key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption())
        der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        pairs.append((pem, base64.b64encode(der).decode()))
    return pairs


class Logins:
    """Accepts editor / s3cr:t and counts the logins."""

    def __init__(self) -> None:
        self.logins: list[str] = []

    def __call__(self, server, session, envelope, mechanism, auth_data):  # noqa: ANN001
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"editor", b"s3cr:t")
        if ok:
            self.logins.append(auth_data.login.decode())
        return AuthResult(success=ok, handled=False)


class Commands(Recorder):
    """Remembers whether any MAIL command came in (a check must never send)."""

    def __init__(self) -> None:
        super().__init__()
        self.mail = 0

    async def handle_MAIL(self, server, session, envelope, address, mail_options):  # noqa: N802, ANN001
        self.mail += 1
        envelope.mail_from = address
        return "250 OK"


@pytest.fixture
def dns_server():
    server = DnsServer(zones=(DOMAIN,))
    yield server
    server.close()


def configure(home, *, dns: DnsServer, smtp_url: str, dkim: bytes | None = None, timeout: str = "5s",
              sender: str | None = None) -> None:
    real = REAL.replace("Weekly AI Tool Verdicts <verdicts@aiverdicts.net>", sender) if sender else REAL
    settle(home, real)
    if dkim is not None:
        (home / "verdicts1.key").write_bytes(dkim)
    with (home / "digest.toml").open("a", encoding="utf-8") as handle:
        handle.write(f'\n[check]\nnameservers = "{dns.address}"\ntimeout = "{timeout}"\n')
        handle.write(f'\n[smtp]\nurl = "{smtp_url}"\n')
        if dkim is not None:
            handle.write(f'\n[send]\ndkim_domain = "{DOMAIN}"\ndkim_selector = "verdicts1"\n'
                         'dkim_key_file = "verdicts1.key"\n')


def publish(dns: DnsServer, p_value: str | None = None) -> None:
    dns.add_txt(DOMAIN, "v=spf1 ip4:203.0.113.10 -all", "google-site-verification=abc")
    dns.add_txt(f"_dmarc.{DOMAIN}", "v=DMARC1; p=none; rua=mailto:dmarc@aiverdicts.net")
    if p_value is not None:
        dns.add_txt(f"verdicts1._domainkey.{DOMAIN}", f"v=DKIM1; k=rsa; p={p_value}")


# --- SMTP ---------------------------------------------------------------------------------------

def test_smtp_session_with_starttls_and_auth_sends_nothing(cli, home, certificate, dns_server, dkim_keys) -> None:
    cert_path, context = certificate
    logins, handler = Logins(), Commands()
    publish(dns_server, dkim_keys[0][1])
    with start_sink(handler, tls_context=context, require_starttls=True, authenticator=logins,
                    auth_required=True) as sink:
        configure(home, dns=dns_server, smtp_url=sink.url("smtp+starttls", "editor:s3cr%3At", f"cafile={cert_path}"),
                  dkim=dkim_keys[0][0])
        result = cli("check")
    assert result.exit_code == 0, result.output
    assert lines(result)["smtp session"] == (f"ok: smtp+starttls://editor:***@127.0.0.1:{sink.port}: connected, EHLO, "
                                             "STARTTLS, logged in as editor; no message sent")
    assert logins.logins == ["editor"] and handler.mail == 0 and sink.messages == []
    assert "s3cr" not in result.output
    assert result.stdout.splitlines()[-1] == "0 problems, 0 warnings: ready for real readers"


def test_a_refused_login_is_a_problem(cli, home, certificate, dns_server) -> None:
    cert_path, context = certificate
    publish(dns_server)
    with start_sink(Commands(), tls_context=context, require_starttls=True, authenticator=Logins(),
                    auth_required=True) as sink:
        configure(home, dns=dns_server, smtp_url=sink.url("smtp+starttls", "editor:wrong", f"cafile={cert_path}"))
        result = cli("check")
    assert result.exit_code == 1
    found = lines(result)["smtp session"]
    assert found.startswith(f"problem: smtp+starttls://editor:***@127.0.0.1:{sink.port}: the server refused "
                            "the login for editor: 535"), found
    assert "wrong" not in result.output


def test_starttls_required_but_not_offered_is_a_problem(cli, home, dns_server) -> None:
    publish(dns_server)
    with start_sink(Commands()) as sink:
        configure(home, dns=dns_server, smtp_url=sink.url("smtp+starttls"))
        result = cli("check")
    assert result.exit_code == 1
    assert lines(result)["smtp session"] == (f"problem: smtp+starttls://127.0.0.1:{sink.port}: the server does not "
                                             "offer STARTTLS, which smtp+starttls:// requires")


def test_an_unreachable_relay_is_a_problem_and_offline_skips_it(cli, home, dns_server) -> None:
    import socket

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    publish(dns_server)
    configure(home, dns=dns_server, smtp_url=f"smtp://127.0.0.1:{port}")
    result = cli("check")
    assert result.exit_code == 1
    assert lines(result)["smtp session"] == (f"problem: cannot reach the SMTP server at smtp://127.0.0.1:{port}: "
                                             "connection refused (hint: check smtp.url / DIGEST_SMTP_URL and that "
                                             "the server is running)")
    dns_server.questions.clear()
    offline = cli("check", "--offline")
    assert offline.exit_code == 0 and "smtp session" not in lines(offline) and dns_server.questions == []


# --- DNS ----------------------------------------------------------------------------------------

def _checked(cli, home, dns_server, dkim=None, sender=None, timeout="5s"):  # noqa: ANN001, ANN202
    with start_sink(Commands()) as sink:
        configure(home, dns=dns_server, smtp_url=sink.url(), dkim=dkim, timeout=timeout, sender=sender)
        return cli("check")


def test_spf_dmarc_and_a_matching_dkim_key(cli, home, dns_server, dkim_keys) -> None:
    publish(dns_server, dkim_keys[0][1])
    result = _checked(cli, home, dns_server, dkim=dkim_keys[0][0])
    found = lines(result)
    assert found["spf"] == f"ok: {DOMAIN}: v=spf1 ip4:203.0.113.10 -all"
    assert found["dmarc"] == f"ok: _dmarc.{DOMAIN}: v=DMARC1; p=none; rua=mailto:dmarc@aiverdicts.net"
    assert found["dkim"] == f"ok: verdicts1._domainkey.{DOMAIN}: the published key matches verdicts1.key"
    assert result.exit_code == 0, result.output


def test_a_dkim_record_for_another_key_is_a_problem(cli, home, dns_server, dkim_keys) -> None:
    publish(dns_server, dkim_keys[1][1])  # the other pair's public key
    result = _checked(cli, home, dns_server, dkim=dkim_keys[0][0])
    assert result.exit_code == 1
    assert lines(result)["dkim"] == (f"problem: verdicts1._domainkey.{DOMAIN}: the published key does not verify "
                                     "signatures made with verdicts1.key: publish the key pair's public half")


def test_missing_records_are_problems(cli, home, dns_server, dkim_keys) -> None:
    dns_server.add_txt(DOMAIN, "google-site-verification=abc")  # the domain answers, without SPF
    result = _checked(cli, home, dns_server, dkim=dkim_keys[0][0])
    assert result.exit_code == 1
    found = lines(result)
    assert found["spf"].startswith(f"problem: {DOMAIN} has no SPF record")
    assert found["dmarc"].startswith(f"problem: no DMARC record at _dmarc.{DOMAIN}")
    assert found["dkim"].startswith(f"problem: no DKIM record at verdicts1._domainkey.{DOMAIN}")


def test_two_spf_records_are_a_problem(cli, home, dns_server) -> None:
    dns_server.add_txt(DOMAIN, "v=spf1 -all", "v=spf1 include:relay.net ~all")
    dns_server.add_txt(f"_dmarc.{DOMAIN}", "v=DMARC1; p=reject")
    result = _checked(cli, home, dns_server)
    assert result.exit_code == 1
    assert lines(result)["spf"] == (f"problem: {DOMAIN} has 2 SPF records; receivers treat that as an error: "
                                    "merge them into one")


def test_a_subdomain_sender_inherits_the_parents_dmarc(cli, home, dns_server) -> None:
    dns_server.add_txt(f"news.{DOMAIN}", "v=spf1 include:relay.net ~all")
    dns_server.add_txt(f"_dmarc.{DOMAIN}", "v=DMARC1; p=quarantine")
    result = _checked(cli, home, dns_server, sender=f"Verdicts <verdicts@news.{DOMAIN}>")
    found = lines(result)
    assert found["spf"] == f"ok: news.{DOMAIN}: v=spf1 include:relay.net ~all"
    assert found["dmarc"] == f"ok: _dmarc.{DOMAIN}: v=DMARC1; p=quarantine (from {DOMAIN})"
    assert found["dkim"].startswith("warning: digest does not sign")
    assert result.exit_code == 0, result.output


def test_a_sender_domain_that_does_not_exist(cli, home, dns_server) -> None:
    result = _checked(cli, home, dns_server, sender="Verdicts <verdicts@nowhere-verdicts.net>")
    assert result.exit_code == 1
    assert lines(result)["spf"] == "problem: nowhere-verdicts.net does not exist in DNS: mail from it is rejected"


def test_dns_that_does_not_answer_is_a_warning(cli, home, dns_server) -> None:
    dns_server.silent = True
    result = _checked(cli, home, dns_server, timeout="0.5s")
    found = lines(result)
    for check in ("spf", "dmarc"):
        assert found[check].startswith("warning: not checked: DNS did not answer for "), found[check]
    assert result.exit_code == 0, result.output
    assert dns_server.questions  # it was asked


def test_a_sandbox_skips_dns_for_its_placeholder_domain(cli, home, dns_server) -> None:
    with start_sink(Commands()) as sink:
        with (home / "digest.toml").open("a", encoding="utf-8") as handle:
            handle.write(f'\n[check]\nnameservers = "{dns_server.address}"\n\n[smtp]\nurl = "{sink.url()}"\n')
        result = cli("check")
    assert result.exit_code == 0, result.output
    found = lines(result)
    assert found["smtp session"] == f"ok: smtp://127.0.0.1:{sink.port}: connected, EHLO, no TLS; no message sent"
    assert found["dns"] == ("warning: SPF, DMARC and DKIM not checked: the sender's domain (digest.invalid) "
                            "is a placeholder")
    assert dns_server.questions == []


def test_spf_is_checked_for_the_bounce_address_when_there_is_one(cli, home, dns_server) -> None:
    dns_server.add_txt(f"bounces.{DOMAIN}", "v=spf1 include:relay.net -all")  # the From domain has none
    dns_server.add_txt(f"_dmarc.{DOMAIN}", "v=DMARC1; p=none")
    with start_sink(Commands()) as sink:
        configure(home, dns=dns_server, smtp_url=sink.url())
        with (home / "digest.toml").open("a", encoding="utf-8") as handle:
            handle.write(f'\n[bounces]\nreturn_path = "bounces@bounces.{DOMAIN}"\n')
        result = cli("check")
    assert lines(result)["spf"] == f"ok: bounces.{DOMAIN}: v=spf1 include:relay.net -all"
    assert result.exit_code == 0, result.output
