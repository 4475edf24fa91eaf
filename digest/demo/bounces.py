"""The demo's bounce stage: one reader's mail bounces, another complains, `digest bounces` reads both.

`bounce_and_complain(ctx)` plays the return mailbox: for two of the messages the send stage
delivered (`ctx.inbox`), it writes what would come back into the demo's Maildir, as a relay
delivers it: a Postfix-style delivery status notification (5.1.1, user unknown) addressed to
the message's VERP return path, and a Yahoo-style ARF complaint carrying the original message.
Then it reads the mailbox through the library, exactly as `digest bounces` does, and leaves
what happened on `ctx.bounces` for the summary.
"""

from __future__ import annotations

import os
import time
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import TYPE_CHECKING

from digest.demo.context import DemoContext

if TYPE_CHECKING:
    from digest.smtpsink import Received

BOUNCING, COMPLAINING = "linus@example.net", "margaret@example.com"
MAILDIR = "bounces"


def demo_settings(domain: str) -> str:
    """The [bounces] section the demo's digest.toml gets: VERP return path and a Maildir."""
    return f'[bounces]\nreturn_path = "bounces@{domain}"\nmaildir = "{MAILDIR}"\n'


def make_maildir(home: Path) -> Path:
    path = home / MAILDIR
    for sub in ("tmp", "new", "cur"):
        (path / sub).mkdir(parents=True, exist_ok=True)
    return path


def delivery_status(received: Received) -> bytes:
    """A DSN (RFC 3464) for `received`, as Postfix writes it, to its VERP return path."""
    recipient = received.recipients[0]
    headers = {"From": "MAILER-DAEMON@mx.example.net (Mail Delivery System)", "To": received.mail_from,
               "Subject": "Undelivered Mail Returned to Sender", "Auto-Submitted": "auto-replied"}
    fields = (f"Reporting-MTA: dns; mx.example.net\n\nFinal-Recipient: rfc822; {recipient}\nAction: failed\n"
              "Status: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 User unknown in virtual mailbox table\n")
    return _report(headers, "delivery-status", f"<{recipient}>: host mx.example.net said: 550 5.1.1 User unknown",
                   fields, received.data)


def complaint(received: Received) -> bytes:
    """An ARF complaint (RFC 5965) for `received`, as Yahoo's feedback loop sends it."""
    headers = {"From": "feedback@arf.mail.yahoo.com", "To": "fbl@digest.invalid", "Subject": "FW: complaint"}
    fields = (f"Feedback-Type: abuse\nUser-Agent: Yahoo!-Mail-Feedback/2.0\nVersion: 0.1\n"
              f"Original-Rcpt-To: <{received.recipients[0]}>\n")
    return _report(headers, "feedback-report", "This is an email abuse report.", fields, received.data)


def _report(headers: dict[str, str], report_type: str, text: str, fields: str, original: bytes) -> bytes:
    """A multipart/report: a text for people, the machine-readable fields, the original's headers."""
    boundary = f"=_demo_{report_type}"
    head = "".join(f"{name}: {value}\n" for name, value in headers.items())
    head += f"Date: {formatdate()}\nMessage-ID: {make_msgid(domain='mx.example.net')}\nMIME-Version: 1.0\n"
    head += f'Content-Type: multipart/report; report-type={report_type}; boundary="{boundary}"\n\n'
    original_headers = original.split(b"\r\n\r\n", 1)[0].decode("ascii", "replace").replace("\r\n", "\n")
    body = (f"--{boundary}\nContent-Type: text/plain; charset=us-ascii\n\n{text}\n\n"
            f"--{boundary}\nContent-Type: message/{report_type}\n\n{fields}\n"
            f"--{boundary}\nContent-Type: text/rfc822-headers\n\n{original_headers}\n\n--{boundary}--\n")
    return (head + body).replace("\n", "\r\n").encode("utf-8")


def drop(maildir: Path, raw: bytes, name: str) -> None:
    """Deliver `raw` the way an MDA does: write in tmp/, then rename into new/."""
    unique = f"{int(time.time())}.{name}.{os.getpid()}.demo"
    (maildir / "tmp" / unique).write_bytes(raw)
    os.replace(maildir / "tmp" / unique, maildir / "new" / unique)


def bounce_and_complain(ctx: DemoContext) -> None:
    """One reader's mail bounces and another complains, via the bounce Maildir; `digest bounces` reads both."""
    from digest.bounces import read_bounces
    from digest.db import open_database, session_scope
    from digest.subscribers import list_subscribers, status_reasons, subscriber_record

    settings = ctx.need_settings()
    maildir = make_maildir(ctx.home)
    by_reader = {received.recipients[0]: received for received in ctx.inbox}
    drop(maildir, delivery_status(by_reader[BOUNCING]), "dsn")
    drop(maildir, complaint(by_reader[COMPLAINING]), "arf")
    ctx.say(f"the relay delivers a bounce for {BOUNCING} and a spam complaint from {COMPLAINING} "
            f"into the bounce Maildir {maildir}/")
    engine = open_database(settings)
    ctx.on_exit(engine.dispose)
    report = read_bounces(settings=settings, engine=engine)
    ctx.say(f"digest bounces: {report.summary()}")
    with session_scope(engine) as session:
        left = [s for s in list_subscribers(session=session) if s.email in (BOUNCING, COMPLAINING)]
        reasons = status_reasons(session, left)
        records = [subscriber_record(s, reasons.get(s.id)) for s in left]
    for record in records:
        ctx.say(f"  {record['email']}: {record['status']} ({record['reason']}), from issue {record['issue']}")
    ctx.bounces = records


def report_first_issue(ctx: DemoContext, number: int) -> str:
    """`digest issue report N --html` for the summary: write outbox/N/report.html, say its figures."""
    from digest.data.engine import connect
    from digest.report import issue_report
    from digest.report_page import report_html

    settings = ctx.need_settings()
    with connect(settings) as db, db.transaction():
        report = issue_report(db, number=number)
    path = settings.outbox_dir / str(number) / "report.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(report_html(report), encoding="utf-8")
    figures = report.issue
    counted = sum(v.counted for v in figures.votes)
    aside = sum(v.set_aside for v in figures.votes)
    return (f"issue {number}: {figures.delivered} delivered, {figures.hard_bounces} hard bounced, "
            f"{figures.complaints} complained, {counted} votes ({aside} set aside); "
            f"{path} (digest issue report {number} --html)")
