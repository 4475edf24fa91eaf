"""Bounce and complaint webhooks against the real web app (uvicorn on 127.0.0.1): SES through
SNS, signed with a certificate of our own served from a real HTTP server on loopback, and
Mailgun with its HMAC signing key. Forged, unsigned and stale calls are refused and change
nothing; a redelivered event counts once."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from sqlalchemy import inspect, text

from bounce_helpers import RETURN_PATH, configure, send_issue, statuses
from digest.config import load_settings
from digest.db import open_database
from webapp import free_port, start_server, stop_server

READERS = [f"reader{i}@reader.example" for i in range(1, 7)]
TOPIC = "arn:aws:sns:eu-west-1:123456789012:digest-ses-feedback"
MAILGUN_KEY = "key-0123456789abcdef0123456789abcdef"


def rsa_certificate():
    """An RSA key and a self-signed certificate, as SNS signs with."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.eu-west-1.amazonaws.com")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1)).sign(key, hashes.SHA256()))
    return key, cert


class CertServer:
    """A real HTTP server on 127.0.0.1 serving the signing certificate and SubscribeURLs; it
    remembers every path asked for."""

    def __init__(self, pem: bytes) -> None:
        self.requests: list[str] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                owner.requests.append(self.path)
                body = pem if self.path.endswith(".pem") else b"<ConfirmSubscriptionResponse/>"
                self.send_response(200)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:  # noqa: ANN002
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def signing():
    from cryptography.hazmat.primitives import serialization

    key, cert = rsa_certificate()
    other_key, _ = rsa_certificate()
    return key, cert.public_bytes(serialization.Encoding.PEM), other_key


@pytest.fixture
def certs(signing):
    server = CertServer(signing[1])
    yield server
    server.close()


class App:
    def __init__(self, url: str, engine, sent) -> None:  # noqa: ANN001
        self.url, self.engine, self.sent = url, engine, sent

    def post(self, path: str, body: bytes | str) -> httpx.Response:
        return httpx.post(self.url + path, content=body, timeout=10,
                          headers={"content-type": "text/plain; charset=UTF-8"})

    def snapshot(self) -> dict:
        out = {}
        with self.engine.connect() as connection:
            for table in ("bounceevent", "subscriber", "suppression"):
                out[table] = sorted(tuple(map(str, row)) for row in connection.execute(text(f"SELECT * FROM {table}")))
        return out


def _start(home: Path, engine, extra: str, env: dict[str, str] | None = None):  # noqa: ANN001
    from digest.web import create_app

    configure(home, f'[bounces]\nreturn_path = "{RETURN_PATH}"\n{extra}')
    sent = send_issue(home, engine, READERS)
    settings = load_settings(home, env or {})
    port = free_port()
    server, thread = start_server(create_app(settings), port)
    return App(f"http://127.0.0.1:{port}", engine, sent), (server, thread)


@pytest.fixture
def app(home, engine, certs):
    app, running = _start(home, engine, f'sns_topics = "{TOPIC}"\nsns_cert_url_prefix = "{certs.url}/"',
                          {"DIGEST_BOUNCES_MAILGUN_SIGNING_KEY": MAILGUN_KEY})
    yield app
    stop_server(*running)


# --- SNS ----------------------------------------------------------------------------------------

def sns(key, cert_url: str, message: dict | str, *, kind: str = "Notification", version: str = "1",
        message_id: str = "7a1e4c2b-0000-4000-8000-000000000001", topic: str = TOPIC, extra: dict | None = None) -> str:
    """An SNS HTTP POST body, signed as SNS signs (the canonical string of its keys)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    body = {"Type": kind, "MessageId": message_id, "TopicArn": topic,
            "Message": message if isinstance(message, str) else json.dumps(message),
            "Timestamp": "2026-12-02T08:10:00.000Z", "SignatureVersion": version,
            "SigningCertURL": cert_url, **(extra or {})}
    keys = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type") if kind == "Notification" else \
        ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type")
    canonical = "".join(f"{k}\n{body[k]}\n" for k in keys if k in body).encode()
    algorithm = hashes.SHA1() if version == "1" else hashes.SHA256()  # noqa: S303
    body["Signature"] = base64.b64encode(key.sign(canonical, padding.PKCS1v15(), algorithm)).decode()
    return json.dumps(body)


def ses_bounce(sent, *, bounce_type: str = "Permanent", feedback_id: str = "0100018c-bounce-1") -> dict:
    return {"notificationType": "Bounce",
            "bounce": {"bounceType": bounce_type, "bounceSubType": "General", "feedbackId": feedback_id,
                       "bouncedRecipients": [{"emailAddress": sent.recipient, "action": "failed", "status": "5.1.1",
                                              "diagnosticCode": "smtp; 550 5.1.1 user unknown"}],
                       "timestamp": "2026-12-02T08:10:00.000Z"},
            "mail": {"timestamp": "2026-12-02T08:00:00.000Z", "source": sent.mail_from,
                     "messageId": "0100018c-ses-message-id", "destination": [sent.recipient]}}


def ses_complaint(sent, *, feedback_id: str = "0100018c-complaint-1") -> dict:
    tag = sent.mail_from.split("+", 1)[1].split("@", 1)[0]
    return {"notificationType": "Complaint",
            "complaint": {"complainedRecipients": [{"emailAddress": sent.recipient}], "feedbackId": feedback_id,
                          "complaintFeedbackType": "abuse", "userAgent": "Yahoo!-Mail-Feedback/2.0"},
            "mail": {"source": "verdicts@news.example", "messageId": "0100018c-ses-2",
                     "headers": [{"name": "From", "value": "verdicts@news.example"},
                                 {"name": "X-Digest-Delivery", "value": tag}]}}


def test_ses_bounce_and_complaint_through_signed_sns_and_a_redelivery_counts_once(cli, app, certs, signing) -> None:
    key = signing[0]
    cert_url = f"{certs.url}/SimpleNotificationService-0123.pem"
    bounce = sns(key, cert_url, ses_bounce(app.sent[READERS[0]]))
    first = app.post("/webhooks/ses", bounce)
    assert first.status_code == 200 and first.text.strip() == "suppressed"
    again = app.post("/webhooks/ses", bounce)
    assert again.status_code == 200 and again.text.strip() == "duplicate"
    complaint = sns(key, cert_url, ses_complaint(app.sent[READERS[1]]), version="2", message_id="m-2")
    assert app.post("/webhooks/ses", complaint).status_code == 200
    soft = sns(key, cert_url, ses_bounce(app.sent[READERS[2]], bounce_type="Transient", feedback_id="soft-1"),
               message_id="m-3")
    assert app.post("/webhooks/ses", soft).text.strip() == "counted"
    rows = statuses(cli)
    assert (rows[READERS[0]]["status"], rows[READERS[0]]["bounce_count"], rows[READERS[0]]["issue"]) == ("bounced", 1, 1)
    assert "5.1.1" in rows[READERS[0]]["reason"]
    assert (rows[READERS[1]]["status"], rows[READERS[1]]["issue"]) == ("complained", 1)
    assert (rows[READERS[2]]["status"], rows[READERS[2]]["bounce_count"]) == ("active", 1)
    assert certs.requests == ["/SimpleNotificationService-0123.pem"]  # fetched once, then cached
    assert len(app.snapshot()["bounceevent"]) == 3


def test_forged_unsigned_or_foreign_sns_calls_are_refused_and_change_nothing(app, certs, signing) -> None:
    key, _pem, other_key = signing
    cert_url = f"{certs.url}/cert.pem"
    message = ses_bounce(app.sent[READERS[0]])
    before = app.snapshot()
    forged = sns(other_key, cert_url, message)  # signed with a key the certificate does not hold
    unsigned = json.loads(sns(key, cert_url, message))
    del unsigned["Signature"]
    altered = json.loads(sns(key, cert_url, message))
    altered["Message"] = json.dumps(ses_bounce(app.sent[READERS[3]]))
    foreign_topic = sns(key, cert_url, message, topic="arn:aws:sns:eu-west-1:999999999999:other")
    outside = sns(key, "https://evil.example/cert.pem", message)
    elsewhere = sns(key, "http://127.0.0.2:9/cert.pem", message)
    calls = [forged, json.dumps(unsigned), json.dumps(altered), foreign_topic, outside, elsewhere,
             "not json", json.dumps({"Type": "Notification"}), json.dumps([1, 2]), ""]
    answers = [app.post("/webhooks/ses", body).status_code for body in calls]
    assert all(400 <= status < 500 for status in answers), answers
    assert app.snapshot() == before
    assert all(path == "/cert.pem" for path in certs.requests)  # never a URL outside the prefix


def test_a_subscription_confirmation_is_confirmed_under_the_same_rule(app, certs, signing) -> None:
    key = signing[0]
    confirm = sns(key, f"{certs.url}/cert.pem", "You have chosen to subscribe", kind="SubscriptionConfirmation",
                  extra={"SubscribeURL": f"{certs.url}/?Action=ConfirmSubscription&Token=abc", "Token": "abc"})
    response = app.post("/webhooks/ses", confirm)
    assert response.status_code == 200 and "confirmed" in response.text
    assert certs.requests[-1] == "/?Action=ConfirmSubscription&Token=abc"
    hostile = sns(key, f"{certs.url}/cert.pem", "x", kind="SubscriptionConfirmation", message_id="m-9",
                  extra={"SubscribeURL": "https://evil.example/confirm", "Token": "abc"})
    assert app.post("/webhooks/ses", hostile).status_code == 403


def test_a_configured_certificate_file_is_used_without_fetching(home, engine, signing) -> None:
    (home / "sns.pem").write_bytes(signing[1])
    app, running = _start(home, engine, f'sns_topics = "{TOPIC}"\nsns_cert_file = "sns.pem"')
    try:
        body = sns(signing[0], "https://sns.eu-west-1.amazonaws.com/unreachable.pem", ses_bounce(app.sent[READERS[0]]))
        assert app.post("/webhooks/ses", body).text.strip() == "suppressed"
        assert app.post("/webhooks/ses", sns(signing[2], "x", ses_bounce(app.sent[READERS[1]]))).status_code == 403
        assert app.post("/webhooks/mailgun", "{}").status_code == 404  # no signing key configured
    finally:
        stop_server(*running)


def test_the_default_rule_accepts_only_aws_sns_hosts() -> None:
    from digest.bounces.webhooks import cert_url_allowed

    assert cert_url_allowed("https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-1.pem", "")
    assert cert_url_allowed("https://sns.cn-north-1.amazonaws.com.cn/x.pem", "")
    for url in ("http://sns.eu-west-1.amazonaws.com/x.pem", "https://sns.eu-west-1.amazonaws.com.evil.example/x.pem",
                "https://evil.example/sns.eu-west-1.amazonaws.com/x.pem", "https://user@sns.us-east-1.amazonaws.com/x",
                "https://sns.us-east-1.amazonaws.com:8443/x.pem", "file:///etc/passwd"):
        assert not cert_url_allowed(url, ""), url


# --- Mailgun ------------------------------------------------------------------------------------

def mailgun(event: dict, *, key: str = MAILGUN_KEY, timestamp: float | None = None, token: str = "t" * 50) -> str:
    stamp = str(int(timestamp if timestamp is not None else time.time()))
    signature = hmac.new(key.encode(), (stamp + token).encode(), hashlib.sha256).hexdigest()
    return json.dumps({"signature": {"timestamp": stamp, "token": token, "signature": signature},
                       "event-data": event})


def mailgun_failed(sent, *, severity: str = "permanent", event_id: str = "mg-event-1") -> dict:
    return {"id": event_id, "event": "failed", "severity": severity, "recipient": sent.recipient,
            "reason": "bounce", "envelope": {"sender": sent.mail_from, "targets": sent.recipient},
            "delivery-status": {"code": 550, "message": "5.1.1 The email account does not exist",
                                "description": ""},
            "message": {"headers": {"message-id": sent.message_id.strip("<>")}}}


def test_mailgun_failed_and_complained_events(cli, app) -> None:
    hard = mailgun(mailgun_failed(app.sent[READERS[0]]))
    assert app.post("/webhooks/mailgun", hard).text.strip() == "suppressed"
    assert app.post("/webhooks/mailgun", hard).text.strip() == "duplicate"
    soft = mailgun(mailgun_failed(app.sent[READERS[1]], severity="temporary", event_id="mg-2"))
    assert app.post("/webhooks/mailgun", soft).text.strip() == "counted"
    sent = app.sent[READERS[2]]  # matched by digest's own Message-ID only
    complained = {"id": "mg-3", "event": "complained", "recipient": sent.recipient,
                  "message": {"headers": {"message-id": sent.message_id.strip("<>")}}}
    assert app.post("/webhooks/mailgun", mailgun(complained)).text.strip() == "suppressed"
    delivered = {"id": "mg-4", "event": "delivered", "recipient": sent.recipient}
    assert app.post("/webhooks/mailgun", mailgun(delivered)).text.strip() == "ignored"
    rows = statuses(cli)
    assert [rows[r]["status"] for r in READERS[:3]] == ["bounced", "active", "complained"]
    assert rows[READERS[0]]["issue"] == 1 and "5.1.1" in rows[READERS[0]]["reason"]
    assert rows[READERS[1]]["bounce_count"] == 1


def test_forged_stale_or_unmatched_mailgun_calls_change_no_reader(cli, app) -> None:
    before = app.snapshot()
    event = mailgun_failed(app.sent[READERS[0]])
    refused = [mailgun(event, key="key-wrong"), mailgun(event, timestamp=time.time() - 3600),
               json.dumps({"event-data": event}), "[]", "garbage"]
    answers = [app.post("/webhooks/mailgun", body).status_code for body in refused]
    assert all(400 <= status < 500 for status in answers), answers
    assert app.snapshot() == before
    stranger = dict(event, id="mg-x", envelope={"sender": RETURN_PATH},
                    message={"headers": {"message-id": "digest.1.1.000000000000@news.example"}})
    assert app.post("/webhooks/mailgun", mailgun(stranger)).text.strip() == "counted"  # recorded as unmatched
    assert statuses(cli)[READERS[0]]["status"] == "active"
