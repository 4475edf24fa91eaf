"""The demo's delivery stage: sample readers, `issue queue`, and `send` to a loopback SMTP server.

`send_first_issue(ctx)` adds a few sample subscribers, queues the issue the editorial stage made
(`ctx.issues`, issue 1 by default) once the render stage has rendered it, starts an aiosmtpd server on
127.0.0.1 in this process, sends the issue to it and shows what arrived. What arrived is left
on `ctx.inbox` for the stages after it (clicking a vote link, say).
"""

from __future__ import annotations

import dataclasses
from digest.demo.context import DemoContext
from digest.wording import count

SAMPLE_READERS = ("ada@example.com", "grace@example.org", "linus@example.net", "margaret@example.com")


def send_first_issue(ctx: DemoContext) -> None:
    """Sample readers, `digest issue queue`, `digest send` to an SMTP server on 127.0.0.1, what arrived."""
    import email
    import email.policy

    from digest.db import open_database
    from digest.outbox import queue_issue
    from digest.sender import send_queued
    from digest.smtpsink import start_sink
    from digest.audience import add_subscribers
    from digest.data.engine import connect

    settings = ctx.need_settings()
    number = ctx.issues[0] if ctx.issues else 1
    engine = open_database(settings)
    ctx.on_exit(engine.dispose)
    with connect(settings) as db, db.transaction(write=True):
        added = add_subscribers(db, emails=SAMPLE_READERS)
    ctx.say(f"digest subscribers add: {count(len(added.added), 'sample reader')} ({', '.join(SAMPLE_READERS)})")
    queued = queue_issue(engine=engine, settings=settings, number=number)
    ctx.say(f"digest issue queue {number}: rendered and frozen in {queued.folder / 'frozen'}/, "
            f"{count(queued.added, 'delivery')} queued")
    sink = start_sink()
    ctx.on_exit(sink.stop)
    local = dataclasses.replace(settings, smtp=dataclasses.replace(settings.smtp, url=sink.url()))
    report = send_queued(settings=local, engine=engine, workers=2)
    ctx.say(f"digest send: {report.sent} sent, {report.failed} failed, to the demo SMTP server at "
            f"127.0.0.1:{sink.port}; issue {number} is {'sent' if number in report.completed else 'sending'}")
    for received in sorted(sink.messages, key=lambda m: m.recipients[0]):
        message = email.message_from_bytes(received.data, policy=email.policy.default)
        html = message.get_body(("html",)).get_content()
        votes = html.count("/vote/")
        ctx.say(f"  arrived for {received.recipients[0]}: \"{message['Subject']}\", {len(received.data) // 1024} KB, "
                f"{votes} signed vote links, one-click unsubscribe {message['List-Unsubscribe'].split(',')[0]}")
    ctx.inbox = list(sink.messages)
