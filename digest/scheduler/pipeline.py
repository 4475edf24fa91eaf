"""The real stages behind the scheduler's jobs (see `stages.Stages` for the contract).

Each method is the library call behind one of the one-shot commands a cron user would run:
`digest poll`, `digest issue show` (readiness), `digest check --offline`, `digest issue render N` (when the issue has
never been rendered), `digest issue queue N` and `digest send`.
"""

from __future__ import annotations

import email.policy
import logging
import threading
from typing import TYPE_CHECKING

from digest.scheduler.sendable import queued_count
from digest.scheduler.stages import SendOutcome, Stages
from digest.wording import count

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from sqlmodel import Session

    from digest.config import Settings
    from digest.models import Issue


log = logging.getLogger("digest.scheduler")

# Python folds a long Subject right after "Subject:", which some parsers read with a leading
# space; a notice's headers are short enough to stay on one line (RFC 5322 allows 998).
_UNFOLDED = email.policy.SMTP.clone(max_line_length=998)


class PipelineStages(Stages):
    """Feeds, editorial, outbox and sender, called as the CLI's one-shot commands call them."""

    def poll(self, settings: Settings) -> str:
        from digest.poll import FAILED, poll

        report = poll(settings, due_only=True)
        return (f"{count(report.polled, 'feed')} polled, {count(report.new_tools, 'new tool')}, "
                f"{report.count(FAILED)} failed, {len(report.feeds) - report.polled} not due")

    def bounces(self, *, engine: Engine, settings: Settings) -> str:
        from digest.bounces import read_bounces

        return read_bounces(settings=settings, engine=engine).summary()

    def missing(self, *, session: Session, issue: Issue, settings: Settings) -> list[str]:
        from digest.scheduler.stages import issue_gaps

        return issue_gaps(session=session, issue=issue, settings=settings)

    def check(self, *, engine: Engine, settings: Settings, skip: bool = False) -> None:
        from digest.preflight import require_ready

        report = require_ready(settings=settings, engine=engine, action="the scheduler's send", skip=skip)
        for finding in report.problems:
            log.warning("sending despite a problem (--skip-check): %s: %s", finding.check, finding.message)

    def queue(self, *, engine: Engine, settings: Settings, number: int) -> int:
        """`digest issue render N` first when the issue has never been rendered (parts the
        editor rendered, proofed or froze are used as they are), then `digest issue queue N`."""
        from digest.outbox import MAILED_PARTS, SOURCES, issue_folder, queue_issue, read_manifest

        folder = issue_folder(settings, number)
        if read_manifest(folder) is None and not all((folder / SOURCES[part]).is_file() for part in MAILED_PARTS):
            from digest.render import render_to_outbox

            render_to_outbox(settings=settings, issue_number=number)
        return queue_issue(engine=engine, settings=settings, number=number).total

    def send(self, *, engine: Engine, settings: Settings, number: int, stop: threading.Event) -> SendOutcome:
        from digest.sender import send_queued

        # wait=False: retries that come due later are picked up by the minute dispatch.
        report = send_queued(settings=settings, engine=engine, issue_number=number, wait=False, stop=stop)
        return SendOutcome(sent=report.sent, failed=report.failed, queued=queued_count(engine, number),
                           counts=report.to_json())

    def email_editor(self, *, settings: Settings, subject: str, body: str) -> None:
        from email.message import EmailMessage
        from email.utils import formatdate, make_msgid

        from digest.sender import envelope_sender, smtp_transport_factory

        sender = envelope_sender(settings)
        message = EmailMessage()
        message["From"] = settings.sender
        message["To"] = settings.editor
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2])
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(body)
        transport = smtp_transport_factory(settings)()
        transport.open()
        try:
            transport.send(sender=sender, recipient=settings.editor, message=message.as_bytes(policy=_UNFOLDED))
        finally:
            transport.close()
