"""An issue's web version as the archive serves it.

An issue that has been queued has a record (`digest.record`): its page is built from that
record and the reader votes as they stand, never from the live catalogue, so what a sent issue
says never changes. An issue without one (a draft opened through a proof's signed link, or an
issue queued before records existed) is rendered from the database. The app caches pages for
a short while.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from digest.models import Issue

if TYPE_CHECKING:
    from sqlmodel import Session

    from digest.config import Settings
    from digest.web.queries import IssueSummary


def issue_html(session: Session, settings: Settings, number: int, *, signed: bool = False) -> str | None:
    """The web page of issue `number`; None when it does not exist, or when it has not gone out
    yet and the request did not carry the issue's signed web-version token (`signed`)."""
    from sqlmodel import select

    from digest.record import read_record, web_page
    from digest.render import Renderer
    from digest.view import WEB, build_view
    from digest.data.votes import community_counts
    from digest.web.queries import is_published

    issue = session.exec(select(Issue).where(Issue.number == number)).first()
    if issue is None or not (signed or is_published(issue)):
        return None
    record = read_record(settings, number)
    if record is not None:
        votes = community_counts(session.connection(), record.comparison_ids())
        return web_page(record, settings=settings, votes=votes, date=issue.sent_at)
    return Renderer(settings).web(build_view(session=session, settings=settings, issue_number=number, medium=WEB))


def recorded_entries(settings: Settings, issues: Sequence[IssueSummary]) -> list[IssueSummary]:
    """Archive and feed entries with each issue's subject, preheader and intro as recorded when
    it was queued (the database's for an issue without a record, or with a damaged one)."""
    import dataclasses
    import logging

    from digest.errors import StateError
    from digest.record import read_record

    entries = []
    for summary in issues:
        try:
            record = read_record(settings, summary.number)
        except StateError as exc:
            logging.getLogger(__name__).warning("archive entry of issue %s from the database: %s", summary.number, exc)
            record = None
        if record is not None:
            summary = dataclasses.replace(summary, subject=record.subject, preheader=record.preheader,
                                          intro=record.intro)
        entries.append(summary)
    return entries
