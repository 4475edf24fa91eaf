"""Real-world bounce and complaint shapes, written by hand after what each system sends.

Each builder takes the message digest sent (`Sent`: envelope sender, recipient, bytes) and
returns the bytes that come back to the return mailbox: the VERP return path in `To` where
the sending system addresses the bounce to the envelope sender, and the original (whole or its
headers) where that system attaches or quotes it.
"""

from __future__ import annotations

import email
from dataclasses import dataclass

FBL_ADDRESS = "fbl@news.example"  # where feedback loops send complaints: no VERP there


@dataclass(frozen=True)
class Sent:
    mail_from: str  # the VERP return path digest used
    recipient: str
    data: bytes

    @property
    def headers(self) -> str:
        return self.data.split(b"\r\n\r\n", 1)[0].decode("ascii").replace("\r\n", "\n")

    @property
    def text(self) -> str:
        return self.data.decode("utf-8").replace("\r\n", "\n")

    @property
    def message_id(self) -> str:
        return email.message_from_bytes(self.data)["Message-ID"]


def _crlf(text: str) -> bytes:
    return text.lstrip("\n").replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")


def postfix_dsn(sent: Sent, *, status: str = "5.1.1", serial: str = "4XyZ1") -> bytes:
    """Postfix's bounce(8): multipart/report with the full original as message/rfc822."""
    return _crlf(f"""
Return-Path: <>
Delivered-To: {sent.mail_from}
Received: by mx.news.example (Postfix) id {serial}; Tue,  2 Dec 2026 09:01:12 +0100 (CET)
Date: Tue,  2 Dec 2026 09:01:12 +0100 (CET)
From: MAILER-DAEMON@mx.news.example (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: {sent.mail_from}
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
	boundary="{serial}.1733126472/mx.news.example"
Message-Id: <20261202080112.{serial}@mx.news.example>

This is a MIME-encapsulated message.

--{serial}.1733126472/mx.news.example
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.news.example.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

<{sent.recipient}>: host mail.reader.example[203.0.113.5] said: 550 {status}
    <{sent.recipient}>: Recipient address rejected: User unknown in virtual
    mailbox table (in reply to RCPT TO command)

--{serial}.1733126472/mx.news.example
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.news.example
X-Postfix-Queue-ID: {serial}
X-Postfix-Sender: rfc822; {sent.mail_from}
Arrival-Date: Tue,  2 Dec 2026 09:01:10 +0100 (CET)

Final-Recipient: rfc822; {sent.recipient}
Original-Recipient: rfc822;{sent.recipient}
Action: failed
Status: {status}
Remote-MTA: dns; mail.reader.example
Diagnostic-Code: smtp; 550 {status} <{sent.recipient}>: Recipient address rejected:
    User unknown in virtual mailbox table

--{serial}.1733126472/mx.news.example
Content-Description: Undelivered Message
Content-Type: message/rfc822

{sent.text}
--{serial}.1733126472/mx.news.example--
""")


def exim_bounce(sent: Sent) -> bytes:
    """Exim's classic bounce: plain text, X-Failed-Recipients, the original copied below a rule."""
    return _crlf(f"""
Return-path: <>
Envelope-to: {sent.mail_from}
Received: from Debian-exim by relay.news.example with local (Exim 4.96)
	id 1tI2zZ-0001aB-2q
	for {sent.mail_from}; Tue, 02 Dec 2026 09:02:01 +0000
X-Failed-Recipients: {sent.recipient}
Auto-Submitted: auto-replied
From: Mail Delivery System <Mailer-Daemon@relay.news.example>
To: {sent.mail_from}
Content-Type: text/plain; charset=us-ascii
Subject: Mail delivery failed: returning message to sender
Message-Id: <E1tI2zZ-0001aB-2q@relay.news.example>
Date: Tue, 02 Dec 2026 09:02:01 +0000

This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  {sent.recipient}
    host mx.reader.example [198.51.100.7]
    SMTP error from remote mail server after RCPT TO:<{sent.recipient}>:
    550 5.1.1 <{sent.recipient}>: mailbox unavailable

------ This is a copy of the message, including all the headers. ------

{sent.text}
""")


def gmail_dsn(sent: Sent, *, serial: int = 1) -> bytes:
    """Gmail's "Delivery Status Notification (Delay)": over quota, 4.2.2, a soft bounce."""
    boundary = f"000000000000a1b2c3d4e5f6{serial:04d}"
    return _crlf(f"""
Delivered-To: {sent.mail_from}
Return-Path: <>
From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>
To: {sent.mail_from}
Auto-Submitted: auto-replied
Subject: Delivery Status Notification (Delay)
References: <{sent.message_id.strip("<>")}>
In-Reply-To: <{sent.message_id.strip("<>")}>
X-Failed-Recipients: {sent.recipient}
Message-ID: <{serial}.5f1e2d3c4b5a.gmail@mx.google.com>
Date: Tue, 02 Dec 2026 01:03:04 -0800
MIME-Version: 1.0
Content-Type: multipart/report; boundary="{boundary}"; report-type=delivery-status

--{boundary}
Content-Type: text/plain; charset="UTF-8"

** Delivery incomplete **

There was a temporary problem delivering your message to {sent.recipient}. Gmail will
retry for 45 more hours. You'll be notified if the delivery fails permanently.

The response from the remote server was:
452 4.2.2 The email account that you tried to reach is over quota.

--{boundary}
Content-Type: message/delivery-status

Reporting-MTA: dns; googlemail.com
Arrival-Date: Tue, 02 Dec 2026 01:00:00 -0800 (PST)
X-Original-Message-ID: {sent.message_id}

Final-Recipient: rfc822; {sent.recipient}
Action: delayed
Status: 4.2.2
Diagnostic-Code: smtp; 452 4.2.2 The email account that you tried to reach is over quota.
Last-Attempt-Date: Tue, 02 Dec 2026 01:03:04 -0800 (PST)
Will-Retry-Until: Thu, 04 Dec 2026 01:00:00 -0800 (PST)

--{boundary}
Content-Type: text/rfc822-headers

{sent.headers}

--{boundary}--
""")


def exchange_ndr(sent: Sent) -> bytes:
    """Exchange Online / Outlook.com NDR: DSN with a human part in HTML, RESOLVER code 5.1.10."""
    boundary = "_000_AM9PR01MB1234ABCDEFAM9PR01MB1234eurp_"
    return _crlf(f"""
From: postmaster@outlook.com
To: {sent.mail_from}
Date: Tue, 2 Dec 2026 08:04:05 +0000
Content-Type: multipart/report; report-type=delivery-status;
	boundary="{boundary}"
Content-Language: en-US
Message-ID: <f9e8d7c6-b5a4-4321-9abc-def012345678@AM9PR01MB1234.eurprd01.prod.exchangelabs.com>
In-Reply-To: {sent.message_id}
Subject: Undeliverable: Weekly AI Tool Verdicts
Auto-Submitted: auto-replied
X-MS-Exchange-Message-Is-Ndr:
MIME-Version: 1.0

--{boundary}
Content-Type: text/html; charset="us-ascii"

<html><body><p><b><font color="#000066" size="3" face="Arial">Your message to
{sent.recipient} couldn't be delivered.</font></b></p>
<p>Remote Server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup'</p>
</body></html>

--{boundary}
Content-Type: message/delivery-status

Reporting-MTA: dns;AM9PR01MB1234.eurprd01.prod.exchangelabs.com
Received-From-MTA: dns;mail.news.example
Arrival-Date: Tue, 2 Dec 2026 08:04:03 +0000

Final-Recipient: rfc822;{sent.recipient}
Action: failed
Status: 5.1.10
Diagnostic-Code: smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup

--{boundary}
Content-Type: message/rfc822

{sent.text}
--{boundary}--
""")


def ses_dsn(sent: Sent) -> bytes:
    """Amazon SES's own DSN (email feedback forwarding): from MAILER-DAEMON@amazonses.com."""
    boundary = "RAA14128.1733127000/a8-12.smtp-out.amazonses.com"
    return _crlf(f"""
Return-Path: <>
From: MAILER-DAEMON@amazonses.com
To: {sent.mail_from}
Subject: Delivery Status Notification (Failure)
Message-ID: <0100018c2a2b3c4d-ses-dsn-000001@email.amazonses.com>
Date: Tue, 2 Dec 2026 08:10:00 +0000
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"
X-SES-Outgoing: 2026.12.02-54.240.8.12

--{boundary}
Content-Type: text/plain; charset=us-ascii

An error occurred while trying to deliver the mail to the following recipients:
{sent.recipient}

--{boundary}
Content-Type: message/delivery-status

Reporting-MTA: dns; a8-12.smtp-out.amazonses.com

Action: failed
Final-Recipient: rfc822; {sent.recipient}
Diagnostic-Code: smtp; 550 5.1.1 user unknown
Status: 5.1.1

--{boundary}
Content-Type: text/rfc822-headers

{sent.headers}

--{boundary}--
""")


def status_line_only(sent: Sent) -> bytes:
    """A small relay's bounce: plain text, only a Status line, the original's headers quoted,
    sent to the plain bounce address (the VERP tag lost): matched by the signed header."""
    return _crlf(f"""
From: postmaster@old-relay.example
To: bounces@news.example
Subject: Returned mail
Message-ID: <bounce-77@old-relay.example>
Date: Tue, 2 Dec 2026 08:20:00 +0000
Content-Type: text/plain; charset=us-ascii

Your message could not be delivered.

Status: 5.2.1

--- Original message headers ---
{sent.headers}
""")


def yahoo_arf(sent: Sent) -> bytes:
    """Yahoo's complaint feedback loop (CFL): ARF with the original message attached."""
    boundary = "----=_Part_1234567_89012345.1733127600000"
    return _crlf(f"""
From: feedback@arf.mail.yahoo.com
To: {FBL_ADDRESS}
Subject: FW: Weekly AI Tool Verdicts
Message-ID: <1733127600.cfl.yahoo.123456@arf.mail.yahoo.com>
Date: Tue, 2 Dec 2026 08:20:00 +0000
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="{boundary}"

--{boundary}
Content-Type: text/plain; charset="us-ascii"

This is an email abuse report for an email message received from IP 192.0.2.25 on Tue, 2 Dec 2026.
For more information about this format please see http://www.mipassoc.org/arf/.

--{boundary}
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: Yahoo!-Mail-Feedback/2.0
Version: 0.1
Original-Mail-From: <{sent.mail_from}>
Original-Rcpt-To: <{sent.recipient}>
Received-Date: Tue, 2 Dec 2026 08:00:00 +0000
Source-IP: 192.0.2.25
Reported-Domain: news.example

--{boundary}
Content-Type: message/rfc822
Content-Disposition: inline

{sent.text}
--{boundary}--
""")


def microsoft_arf(sent: Sent) -> bytes:
    """Microsoft's JMRP report: ARF, the recipient redacted, the original attached."""
    boundary = "26adc0f0-aaaa-4cc1-b0f8-0f1f0ee51a2b"
    redacted = sent.text.replace(sent.recipient, "masked@outlook.com")
    return _crlf(f"""
From: staff@hotmail.com
To: {FBL_ADDRESS}
Subject: complaint about message from 192.0.2.25
Message-ID: <jmrp.8a7b6c5d@hotmail.com>
Date: Tue, 2 Dec 2026 08:30:00 +0000
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="{boundary}"

--{boundary}
Content-Type: text/plain

This is an email abuse report for an email message received from IP 192.0.2.25.

--{boundary}
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: Hotmail FBL
Version: 1
Removal-Recipient: masked@outlook.com

--{boundary}
Content-Type: message/rfc822

{redacted}
--{boundary}--
""")


def auto_reply(sent: Sent) -> bytes:
    """An Outlook out-of-office, sent (as RFC 3834 asks) to the return path: not a bounce."""
    return _crlf(f"""
From: Reader <{sent.recipient}>
To: {sent.mail_from}
Subject: Automatic reply: Weekly AI Tool Verdicts
Date: Tue, 2 Dec 2026 09:05:00 +0000
Message-ID: <oof-1@reader.example>
In-Reply-To: {sent.message_id}
Auto-Submitted: auto-replied
X-Auto-Response-Suppress: All
Content-Type: text/plain; charset=us-ascii

I am out of the office until 5 January with limited access to email.
Status: 5.0.0 is not what this is about; it is a holiday.
""")


def human_reply(sent: Sent) -> bytes:
    """A reader answering the issue: for the editor, never a bounce."""
    return _crlf(f"""
From: Reader <{sent.recipient}>
To: Weekly AI Tool Verdicts <verdicts@news.example>
Subject: Re: Weekly AI Tool Verdicts
Date: Tue, 2 Dec 2026 10:00:00 +0000
Message-ID: <reply-1@reader.example>
In-Reply-To: {sent.message_id}
Content-Type: text/plain; charset=utf-8

Loved the comparison; the second tool failed for me (it said 550 5.1.1 on their API, funny).

> {sent.headers.splitlines()[0]}
""")
