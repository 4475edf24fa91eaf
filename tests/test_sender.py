"""`digest send` against real SMTP servers on 127.0.0.1 (aiosmtpd): what arrives, and every way
a server can say no."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from delivery_helpers import add_subscribers, make_ready_issue, parse, write_parts
from digest.config import load_settings
from digest.db import session_scope
from digest.errors import StateError, TokenError
from digest.models import Delivery, Issue, Lease, Subscriber, Suppression
from digest.outbox import queue_issue
from digest.sender import TokenBucket, send_queued
from digest.smtpsink import Recorder, start_sink
from digest.subscribers import unsubscribe
from digest.tokens import Purpose, Signer

HEADERS = ("From", "To", "Subject", "Date", "Message-ID", "List-Id", "List-Unsubscribe",
           "List-Unsubscribe-Post", "MIME-Version", "Content-Type")


@pytest.fixture
def sink():
    server = start_sink()
    yield server
    server.stop()


def configure(home, text: str) -> None:
    with (home / "digest.toml").open("a", encoding="utf-8") as handle:
        handle.write("\n" + text + "\n")


def queued_issue(engine, settings, emails: list[str], *, comparisons: int = 2) -> list[int]:
    """Issue 1 queued from the small hand-written parts of `write_parts` (not rendered)."""
    write_parts(settings, 1, make_ready_issue(engine, settings, comparisons=comparisons))
    ids = add_subscribers(engine, emails)
    queue_issue(engine=engine, settings=settings, number=1, render=False)
    return ids


def rows(engine) -> dict[str, Delivery]:
    with session_scope(engine) as session:
        found = session.exec(select(Delivery, Subscriber).join(Subscriber, Subscriber.id == Delivery.subscriber_id))
        return {subscriber.email: delivery for delivery, subscriber in found}


def links(text: str, kind: str) -> list[str]:
    return [word.rstrip('">') for word in text.replace('"', " ").split() if f"/{kind}/" in word]


def test_every_active_subscriber_gets_one_standard_message(cli, home, engine, settings, sink) -> None:
    emails = [f"reader{i}@example.com" for i in range(12)]
    ids = dict(zip(emails, queued_issue(engine, settings, emails)))
    result = cli("send", "--workers", "3", "--json", env={"DIGEST_SMTP_URL": sink.url()})
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["sent"], report["failed"], report["skipped"], report["completed_issues"]) == (12, 0, 0, [1])
    assert sorted(m.recipients[0] for m in sink.messages) == sorted(emails)
    signer = Signer(settings.secret_key)
    recorded = rows(engine)
    for received in sink.messages:
        message = parse(received.data)
        for header in HEADERS:
            assert message[header], header
        to = received.recipients[0]
        assert message["To"] == to and received.mail_from == "verdicts@digest.invalid"
        assert message["Subject"] == "Patchwise vs Lintern — who ships?"
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert "mailto:verdicts@digest.invalid" in message["List-Unsubscribe"]
        assert message["Message-ID"] == f"<{recorded[to].message_id}>"
        assert message.get_content_type() == "multipart/alternative"
        text, html = (part.get_content() for part in message.iter_parts())
        unsubscribe_link = message["List-Unsubscribe"].split("<")[1].split(">")[0]
        token = unsubscribe_link.rsplit("/", 1)[1]
        assert signer.verify(token, purpose=Purpose.UNSUBSCRIBE).subscriber_id == ids[to]
        votes = links(html, "vote")
        assert len(votes) == 4 and links(text, "vote") == votes
        assert {signer.verify_vote(v.rsplit("/", 1)[1]).subscriber_id for v in votes} == {ids[to]}
        assert f"Sent to {to}" in text and "__digest_" not in html + text
        assert b"BODY=8BITMIME" in [o.encode() for o in received.mail_options]
    assert all(d.status == "sent" and d.sent_at and d.attempts == 1 for d in recorded.values())
    with session_scope(engine) as session:
        issue = session.exec(select(Issue)).one()
        assert issue.status == "sent" and issue.sent_at is not None
    assert "issue 1 is already sent" in cli("send", "--issue", "1", env={"DIGEST_SMTP_URL": sink.url()}).stdout


def test_forged_or_altered_links_from_a_received_message_are_refused(cli, engine, settings, sink) -> None:
    queued_issue(engine, settings, ["ann@example.com"])
    assert cli("send", env={"DIGEST_SMTP_URL": sink.url()}).exit_code == 0
    html = parse(sink.messages[0].data).get_body(("html",)).get_content()
    vote = links(html, "vote")[0].rsplit("/", 1)[1]
    signed, target = vote.split(".")
    signer = Signer(settings.secret_key)
    altered = signed[:-3] + ("A" if signed[-3] != "A" else "B") + signed[-2:]
    for bad in (altered + "." + target, signed[:20] + "." + target, signed + ".999"):
        with pytest.raises(TokenError):
            signer.verify_vote(bad)
    with pytest.raises(TokenError):
        Signer("another secret").verify_vote(vote)
    with pytest.raises(TokenError):  # a vote token is no unsubscribe token
        signer.verify(signed, purpose=Purpose.UNSUBSCRIBE)


class Difficult(Recorder):
    """Greylists grey* once (451), always defers busy* (452), rejects unknown* (550), rejects
    spam* at DATA (554), and drops the connection after the data of drop* once."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802, ANN001
        if address.startswith("grey") and address not in self.seen:
            self.seen.add(address)
            return "451 4.7.1 Greylisted, try again later"
        if address.startswith("busy"):
            return "452 4.2.2 Mailbox full"
        if address.startswith("unknown"):
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802, ANN001
        recipient = envelope.rcpt_tos[0]
        if recipient.startswith("spam"):
            return "554 5.7.1 Message rejected as spam"
        if recipient.startswith("drop") and recipient not in self.seen:
            self.seen.add(recipient)
            server.transport.close()
            return "250 never heard"
        self.record(envelope)
        return "250 OK"


def test_transient_failures_retry_and_permanent_ones_fail_and_bounce(cli, home, engine, settings) -> None:
    configure(home, '[send]\nretries = 2\nretry_delay = "0.02s"\nbounce_after = 1')
    emails = ["fine@example.com", "grey@example.com", "busy@example.com", "unknown@example.com",
              "drop@example.com", "spam@example.com", "after@example.com"]
    queued_issue(engine, settings, emails)
    with start_sink(Difficult()) as server:
        result = cli("send", "--json", env={"DIGEST_SMTP_URL": server.url()})
        received = Counter(m.recipients[0] for m in server.messages)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert received == Counter({"fine@example.com": 1, "grey@example.com": 1, "drop@example.com": 1,
                                "after@example.com": 1})
    assert (report["sent"], report["failed"], report["bounced"]) == (4, 3, 2)
    assert report["retried"] == 4  # grey once, drop once, busy twice before giving up
    recorded = rows(engine)
    assert recorded["grey@example.com"].attempts == 2 and recorded["grey@example.com"].status == "sent"
    busy = recorded["busy@example.com"]
    assert busy.status == "failed" and busy.attempts == 3 and "gave up after 3 attempts: 452" in busy.last_error
    assert recorded["unknown@example.com"].last_error == "550 5.1.1 No such user here"
    assert recorded["spam@example.com"].last_error.startswith("554 5.7.1")
    with session_scope(engine) as session:
        statuses = {s.email: s.status for s in session.exec(select(Subscriber))}
        assert statuses["unknown@example.com"] == statuses["spam@example.com"] == "bounced"
        assert statuses["busy@example.com"] == "active"  # deferrals are not bounces
        assert {s.reason for s in session.exec(select(Suppression))} == {"bounced"}
        assert session.exec(select(Issue)).one().status == "sent"


def test_retries_wait_for_a_later_run_with_no_wait(cli, home, engine, settings) -> None:
    configure(home, '[send]\nretry_delay = "1h"')
    queued_issue(engine, settings, ["grey@example.com", "fine@example.com"])
    with start_sink(Difficult()) as server:
        first = cli("send", "--no-wait", env={"DIGEST_SMTP_URL": server.url()})
        assert first.exit_code == 0, first.output
        assert "1 delivery waits for a retry" in first.stdout
        with session_scope(engine, write=True) as session:  # the hour passes
            delivery = session.exec(select(Delivery).where(Delivery.status == "queued")).one()
            delivery.next_attempt_at = datetime.now(UTC) - timedelta(seconds=1)
            session.add(delivery)
        second = cli("send", "--no-wait", env={"DIGEST_SMTP_URL": server.url()})
        assert "sent 1," in second.stdout and "issue 1 is sent" in second.stdout
        assert sorted(m.recipients[0] for m in server.messages) == ["fine@example.com", "grey@example.com"]


def test_unsubscribed_after_queueing_is_skipped(cli, engine, settings, sink) -> None:
    queued_issue(engine, settings, ["stay@example.com", "leave@example.com"])
    with session_scope(engine, write=True) as session:
        leaver = session.exec(select(Subscriber).where(Subscriber.email == "leave@example.com")).one()
        unsubscribe(session=session, subscriber=leaver)
    result = cli("send", env={"DIGEST_SMTP_URL": sink.url()})
    assert "sent 1, failed 0, retried 0, skipped 1" in result.stdout
    assert [m.recipients[0] for m in sink.messages] == ["stay@example.com"]
    assert rows(engine)["leave@example.com"].status == "skipped"


def test_rate_is_honoured(engine, settings, sink) -> None:
    queued_issue(engine, settings, [f"r{i}@example.com" for i in range(30)])
    settings = load_settings(settings.home, {"DIGEST_SMTP_URL": sink.url()})
    bucket = TokenBucket(40)
    started = time.monotonic()
    report = send_queued(settings=settings, engine=engine, workers=3, rate=40, bucket=bucket)
    elapsed = time.monotonic() - started
    assert report.sent == 30 and bucket.granted == 30
    # A token bucket cannot hand out more than its capacity plus rate * time, however fast the machine.
    assert elapsed >= (30 - bucket.capacity) / 40


def test_dry_run_writes_eml_files_and_leaves_the_queue(cli, home, engine, settings, sink) -> None:
    queued_issue(engine, settings, ["a@example.com", "b@example.com"])
    result = cli("send", "--dry-run", env={"DIGEST_SMTP_URL": sink.url()})
    assert result.exit_code == 0, result.output
    assert "wrote 2 messages" in result.stdout and "every delivery stays queued" in result.stdout
    files = sorted((home / "outbox" / "1" / "messages").glob("*.eml"))
    assert [f.name.split("-", 1)[1] for f in files] == ["a@example.com.eml", "b@example.com.eml"]
    assert parse(files[0].read_bytes())["To"] == "a@example.com"
    assert sink.messages == []
    assert {d.status for d in rows(engine).values()} == {"queued"}
    assert cli("send", env={"DIGEST_SMTP_URL": sink.url()}).exit_code == 0
    assert len(sink.messages) == 2


def test_a_server_without_8bitmime_gets_quoted_printable(engine, settings) -> None:
    queued_issue(engine, settings, ["ann@example.com"])
    with start_sink(decode_data=True) as server:  # aiosmtpd offers no 8BITMIME when decoding
        send_queued(settings=load_settings(settings.home, {"DIGEST_SMTP_URL": server.url()}), engine=engine)
        received = server.messages[0]
    assert received.data.isascii() and "BODY=8BITMIME" not in received.mail_options
    text = parse(received.data).get_body(("plain",))
    assert text["Content-Transfer-Encoding"] == "quoted-printable"
    assert "Weekly AI Tool Verdicts — issue 1" in text.get_content()


def test_unreachable_server_fails_the_run_and_charges_nothing(cli, engine, settings) -> None:
    queued_issue(engine, settings, ["a@example.com"])
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    for _ in range(2):  # the lease is released: the second run fails the same way
        result = cli("send", env={"DIGEST_SMTP_URL": f"smtp://127.0.0.1:{port}"})
        assert result.exit_code == 1 and "cannot reach the SMTP server" in result.stderr
    delivery = rows(engine)["a@example.com"]
    assert (delivery.status, delivery.attempts, delivery.claimed_by) == ("queued", 0, None)


def test_send_names_a_missing_or_unqueued_issue(cli, engine, settings, sink) -> None:
    assert "nothing to send" in cli("send", env={"DIGEST_SMTP_URL": sink.url()}).stdout
    make_ready_issue(engine, settings)
    draft = cli("send", "--issue", "1", env={"DIGEST_SMTP_URL": sink.url()})
    assert draft.exit_code == 1 and "not queued" in draft.stderr
    assert cli("send", "--issue", "5").exit_code == 2
    assert cli("send", "--workers", "0").exit_code == 2


@pytest.mark.sqlite_only
def test_a_second_sender_on_sqlite_is_refused_and_a_dead_ones_lease_taken_over(engine, settings, sink) -> None:
    queued_issue(engine, settings, ["a@example.com"])
    settings = load_settings(settings.home, {"DIGEST_SMTP_URL": sink.url()})
    later = datetime.now(UTC) + timedelta(minutes=10)
    with session_scope(engine, write=True) as session:
        session.add(Lease(name="sender", holder=f"sender@{socket.gethostname()}:{os.getpid()}:other", expires_at=later))
    with pytest.raises(StateError, match="another sender is running"):
        send_queued(settings=settings, engine=engine)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    holder = f"sender@{socket.gethostname()}:{dead.stdout.strip()}:deadbeef"
    with session_scope(engine, write=True) as session:
        session.get(Lease, "sender").holder = holder
        delivery = session.exec(select(Delivery)).one()
        delivery.claimed_by, delivery.lease_until = holder, later  # claimed by the dead sender
        session.add(delivery)
    assert send_queued(settings=settings, engine=engine).sent == 1
    with session_scope(engine) as session:
        assert session.get(Lease, "sender").holder == ""  # released


def test_kill_9_mid_send_loses_nothing_and_duplicates_at_most_one_per_worker(home, engine, settings, sink) -> None:
    total, workers = 2000, 4
    write_parts(settings, 1, make_ready_issue(engine, settings), filler=1)
    with engine.begin() as conn:
        conn.execute(Subscriber.__table__.insert(), [{"email": f"r{i}@example.com", "email_key": f"r{i}@example.com",
                                                      "status": "active", "source": "cli", "bounce_count": 0,
                                                      "created_at": datetime.now(UTC)} for i in range(total)])
    queue_issue(engine=engine, settings=settings, number=1, render=False)
    env = {**os.environ, "DIGEST_SMTP_URL": sink.url()}
    command = [sys.executable, "-m", "digest", "--home", str(home), "send", "--workers", str(workers), "--json"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert sink.wait_for(total // 4, timeout=60), process.stderr.read() if process.poll() is not None else ""
        process.kill()
    finally:
        process.wait(timeout=30)
    received_at_crash = sink.handler.count
    recorded = Counter(d.status for d in rows(engine).values())
    assert process.returncode == -9 and recorded["queued"] > 0  # killed partway
    assert recorded["sent"] <= received_at_crash <= recorded["sent"] + workers
    finished = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert finished.returncode == 0, finished.stderr
    copies = Counter(m.recipients[0] for m in sink.messages)
    assert set(copies) == {f"r{i}@example.com" for i in range(total)}
    assert sum(copies.values()) - total <= workers
    assert {d.status for d in rows(engine).values()} == {"sent"}
    with session_scope(engine) as session:
        assert session.exec(select(Issue)).one().status == "sent"


def test_dkim_signed_when_configured(cli, home, engine, settings, sink) -> None:
    import base64

    import dkim
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    (home / "dkim.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                      serialization.PrivateFormat.TraditionalOpenSSL,
                                                      serialization.NoEncryption()))
    public = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)
    configure(home, '[send]\ndkim_domain = "digest.invalid"\ndkim_selector = "news"\ndkim_key_file = "dkim.pem"')
    queued_issue(engine, settings, ["ann@example.com"])
    assert cli("send", env={"DIGEST_SMTP_URL": sink.url()}).exit_code == 0
    raw = sink.messages[0].data
    assert raw.startswith(b"DKIM-Signature:") and parse(raw)["DKIM-Signature"]
    lookup = lambda name, timeout=5: record if name == b"news._domainkey.digest.invalid." else None  # noqa: E731
    assert dkim.verify(raw, dnsfunc=lookup)
    assert not dkim.verify(raw.replace(b"The panel weighed", b"The panel welded"), dnsfunc=lookup)


def test_half_configured_dkim_is_a_config_error(cli, home, engine, settings, sink) -> None:
    configure(home, '[send]\ndkim_domain = "digest.invalid"')
    queued_issue(engine, settings, ["ann@example.com"])
    result = cli("send", env={"DIGEST_SMTP_URL": sink.url()})
    assert result.exit_code == 2 and "go together" in result.stderr
    assert sink.messages == []


def test_proof_is_the_issue_as_readers_get_it_and_touches_nothing(cli, engine, settings, sink) -> None:
    ids = make_ready_issue(engine, settings, comparisons=2)
    write_parts(settings, 1, ids)
    add_subscribers(engine, ["reader@example.com"])
    result = cli("issue", "proof", "1", "--to", "ed@example.com", "--to", "Second@Example.org",
                 env={"DIGEST_SMTP_URL": sink.url()})
    assert result.exit_code == 0, result.output
    assert sorted(m.recipients[0] for m in sink.messages) == ["Second@example.org", "ed@example.com"]
    signer = Signer(settings.secret_key)
    for received in sink.messages:
        message = parse(received.data)
        assert message["Subject"] == "[Proof] Patchwise vs Lintern — who ships?"
        for header in HEADERS:
            assert message[header], header
        html = message.get_body(("html",)).get_content()
        votes = links(html, "vote")
        assert len(votes) == 4 and {signer.verify_vote(v.rsplit("/", 1)[1]).subscriber_id for v in votes} == {0}
    with session_scope(engine) as session:
        assert session.exec(select(Delivery)).all() == []
        assert session.exec(select(Issue)).one().status == "draft"
    # once queued, a proof shows the frozen parts
    queue_issue(engine=engine, settings=settings, number=1, render=False)
    proof = cli("issue", "proof", "1", "--to", "ed@example.com", "--json", env={"DIGEST_SMTP_URL": sink.url()})
    assert json.loads(proof.stdout)["frozen"] is True
    assert {d.status for d in rows(engine).values()} == {"queued"}


def test_proof_failures_and_bad_addresses(cli, engine, settings) -> None:
    write_parts(settings, 1, make_ready_issue(engine, settings))
    assert cli("issue", "proof", "1", "--to", "not-an-address").exit_code == 2
    assert cli("issue", "proof", "1").exit_code == 2  # no --to and no `editor` setting
    with start_sink(Difficult()) as server:
        result = cli("issue", "proof", "1", "--to", "unknown@example.com", "--to", "fine@example.com",
                     env={"DIGEST_SMTP_URL": server.url()})
        assert [m.recipients[0] for m in server.messages] == ["fine@example.com"]
    assert result.exit_code == 1
    assert "not accepted for unknown@example.com: 550 5.1.1" in result.stderr and "sent to fine@example.com" in result.stderr


def test_sigterm_stops_gracefully_with_every_accepted_message_recorded(home, engine, settings, sink) -> None:
    import signal

    write_parts(settings, 1, make_ready_issue(engine, settings), filler=1)
    add_subscribers(engine, [f"r{i}@example.com" for i in range(300)])
    queue_issue(engine=engine, settings=settings, number=1, render=False)
    env = {**os.environ, "DIGEST_SMTP_URL": sink.url()}
    command = [sys.executable, "-m", "digest", "--home", str(home), "send", "--workers", "2", "--rate", "200", "--json"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert sink.wait_for(40, timeout=60)
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    report = json.loads(out)
    recorded = rows(engine)
    sent = [email for email, d in recorded.items() if d.status == "sent"]
    assert report["stopped"] is True and 40 <= report["sent"] < 300
    assert sorted(sent) == sorted(m.recipients[0] for m in sink.messages)  # nothing accepted goes unrecorded
    assert all(d.claimed_by is None for d in recorded.values())  # the rest is back in the queue


def test_claims_are_exclusive_between_senders(engine, settings) -> None:
    from digest.deliveries import DeliveryStore

    queued_issue(engine, settings, [f"r{i}@example.com" for i in range(10)])
    with session_scope(engine) as session:
        issue_id = session.exec(select(Issue)).one().id
    first, second = DeliveryStore(engine), DeliveryStore(engine)
    try:
        mine = first.claim(issue_id, 6)
        theirs = second.claim(issue_id, 6)
        assert len(mine) == 6 and len(theirs) == 4
        assert not {j.delivery_id for j in mine} & {j.delivery_id for j in theirs}
        assert second.claim(issue_id, 6) == []
        first.release(mine)
        second.new_pass()
        assert len(second.claim(issue_id, 10)) == 6
    finally:
        first.close()
        second.close()


def test_progress_bar_shows_count_rate_and_eta() -> None:
    import io

    from rich.console import Console

    from digest.cli.send import _Bar

    out = io.StringIO()
    bar = _Bar(console=Console(file=out, force_terminal=True, width=120))
    bar.start(10)
    for _ in range(10):
        bar.advance("sent")
    bar.stop()
    text = out.getvalue()
    assert "10/10" in text and "msg/s" in text and "ETA" in text


class Stalling(Recorder):
    """Answers the first DATA of slow* only after the client has given up; refuses bad senders."""

    def __init__(self) -> None:
        super().__init__()
        self.stalled = False

    async def handle_MAIL(self, server, session, envelope, address, mail_options):  # noqa: N802, ANN001
        if address.startswith("rejected"):
            return "550 5.7.1 Sender not allowed"
        envelope.mail_from = address
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802, ANN001
        import asyncio

        if envelope.rcpt_tos[0].startswith("slow") and not self.stalled:
            self.stalled = True
            await asyncio.sleep(1.0)
            return "250 too late"
        self.record(envelope)
        return "250 OK"


def test_a_timeout_is_retried(cli, home, engine, settings) -> None:
    configure(home, '[smtp]\ntimeout = "0.3s"\n[send]\nretry_delay = "0.01s"')
    queued_issue(engine, settings, ["slow@example.com", "fine@example.com"])
    with start_sink(Stalling()) as server:
        result = cli("send", "--json", env={"DIGEST_SMTP_URL": server.url()})
        assert sorted(m.recipients[0] for m in server.messages) == ["fine@example.com", "slow@example.com"]
    report = json.loads(result.stdout)
    assert (report["sent"], report["retried"]) == (2, 1)
    slow = rows(engine)["slow@example.com"]
    assert slow.attempts == 2 and "timed out" in slow.last_error  # the last error stays on record


def test_a_refused_sender_address_stops_the_run_and_charges_nothing(cli, home, engine, settings) -> None:
    queued_issue(engine, settings, ["a@example.com", "b@example.com"])
    with start_sink(Stalling()) as server:
        result = cli("send", env={"DIGEST_SMTP_URL": server.url(), "DIGEST_SENDER": "Verdicts <rejected@digest.invalid>"})
    assert result.exit_code == 1 and "refused the sender address" in result.stderr and "550 5.7.1" in result.stderr
    assert [(d.status, d.attempts) for d in rows(engine).values()] == [("queued", 0), ("queued", 0)]


def test_lines_starting_with_a_dot_arrive_intact(engine, settings, sink) -> None:
    folder = write_parts(settings, 1, make_ready_issue(engine, settings))
    text = (folder / "email.template.txt").read_text(encoding="utf-8")
    (folder / "email.template.txt").write_text(".well-known lines start with a dot\n..and two\n" + text, encoding="utf-8")
    add_subscribers(engine, ["ann@example.com"])
    queue_issue(engine=engine, settings=settings, number=1, render=False)
    send_queued(settings=load_settings(settings.home, {"DIGEST_SMTP_URL": sink.url()}), engine=engine)
    body = parse(sink.messages[0].data).get_body(("plain",)).get_content()
    assert body.replace("\r\n", "\n").startswith(".well-known lines start with a dot\n..and two\n")


def test_backoff_doubles_with_jitter_and_a_cap() -> None:
    import random

    from digest.deliveries import MAX_BACKOFF, backoff

    rng = random.Random(7)
    for attempt in range(1, 8):
        delays = [backoff(attempt, 30, rng=rng) for _ in range(200)]
        nominal = min(30 * 2 ** (attempt - 1), MAX_BACKOFF)
        assert nominal * 0.5 <= min(delays) and max(delays) <= nominal * 1.5
        assert len(set(delays)) > 100  # spread out, not all at once
    assert backoff(40, 30, rng=rng) <= MAX_BACKOFF * 1.5


def test_a_rendered_issue_from_queue_to_inbox(cli, engine, settings, sink) -> None:
    """The whole way: the issue rendered by `issue queue`, mailed, and read as a reader would."""
    ids = make_ready_issue(engine, settings, comparisons=2)
    readers = dict(zip(["ann@example.com", "bob@example.org"], add_subscribers(engine, ["ann@example.com", "bob@example.org"])))
    queued = cli("issue", "queue", "1", "--json")
    assert queued.exit_code == 0 and json.loads(queued.stdout)["rendered"] is True
    assert cli("send", env={"DIGEST_SMTP_URL": sink.url()}).exit_code == 0
    signer = Signer(settings.secret_key)
    assert sorted(m.recipients[0] for m in sink.messages) == sorted(readers)
    for received in sink.messages:
        message = parse(received.data)
        for header in HEADERS:
            assert message[header], header
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        assert "Tool 0A" in text and "Tool 1B" in html and "__digest_" not in text + html
        votes = {link.rsplit("/", 1)[1] for link in links(html, "vote")}
        claims = {signer.verify_vote(token) for token in votes}
        assert {c.subscriber_id for c in claims} == {readers[received.recipients[0]]}
        assert {(c.comparison_id, c.choice) for c in claims} == {(cid, side) for cid in ids for side in "ab"}
        assert received.recipients[0] in text


def test_an_issue_queued_again_for_new_readers_keeps_its_first_send_date(engine, settings, sink) -> None:
    """The archive and the feed date an issue by when it first went out, not by a top-up send."""
    queued_issue(engine, settings, ["ann@example.com"])
    smtp = load_settings(settings.home, {"DIGEST_SMTP_URL": sink.url()})
    send_queued(settings=smtp, engine=engine)
    with session_scope(engine, write=True) as session:
        issue = session.exec(select(Issue)).one()
        first = issue.sent_at
        issue.sent_at = first - timedelta(days=3)  # as if it went out days ago
        session.add(issue)
    add_subscribers(engine, ["late@example.com"])
    assert queue_issue(engine=engine, settings=settings, number=1, render=False).added == 1
    assert send_queued(settings=smtp, engine=engine).sent == 1
    with session_scope(engine) as session:
        issue = session.exec(select(Issue)).one()
        assert issue.status == "sent" and issue.sent_at == first - timedelta(days=3)
    assert sorted(message.recipients[0] for message in sink.messages) == ["ann@example.com", "late@example.com"]
