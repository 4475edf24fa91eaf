"""Reads the web pages need (Core statements, cheap enough to run per request)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from digest.models import Issue, IssueStatus

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection


@dataclass(frozen=True)
class IssueSummary:
    number: int
    subject: str
    preheader: str
    intro: str
    sent_at: datetime | None


def is_published(issue: Issue) -> bool:
    """Whether the public may see the issue: once it has gone out it stays out, also while it
    is sending again to readers who joined since (`digest issue queue` on a sent issue)."""
    return issue.status == IssueStatus.SENT.value or issue.sent_at is not None


def _published():  # noqa: ANN202
    from sqlalchemy import or_

    return or_(Issue.status == IssueStatus.SENT.value, Issue.sent_at.is_not(None))


def sent_issues(connection: Connection, *, limit: int | None = None) -> list[IssueSummary]:
    """Issues that have gone out, newest first: the only ones the public ever sees."""
    from sqlalchemy import select

    statement = (select(Issue.number, Issue.subject, Issue.preheader, Issue.intro, Issue.sent_at)
                 .where(_published())
                 .order_by(Issue.number.desc()))
    if limit is not None:
        statement = statement.limit(limit)
    return [IssueSummary(*row) for row in connection.execute(statement)]


def is_public(connection: Connection, number: int) -> bool:
    from sqlalchemy import select

    return connection.execute(select(Issue.id).where(Issue.number == number, _published())).first() is not None

