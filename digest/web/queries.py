"""Reads the web pages need (Core statements, cheap enough to run per request)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from digest.models import Comparison, Issue, IssueStatus, Tool

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection


@dataclass(frozen=True)
class ComparisonSummary:
    id: int
    title: str
    tool_a: str
    tool_b: str

    def tool(self, choice: str) -> str:
        return self.tool_a if choice == "a" else self.tool_b


@dataclass(frozen=True)
class IssueSummary:
    number: int
    subject: str
    preheader: str
    intro: str
    sent_at: datetime | None


def comparison_summary(connection: Connection, comparison_id: int) -> ComparisonSummary | None:
    from sqlalchemy import select
    from sqlalchemy.orm import aliased

    tool_a, tool_b = aliased(Tool), aliased(Tool)
    row = connection.execute(
        select(Comparison.id, Comparison.title, tool_a.name, tool_b.name)
        .join(tool_a, tool_a.id == Comparison.tool_a_id)
        .join(tool_b, tool_b.id == Comparison.tool_b_id)
        .where(Comparison.id == comparison_id)
    ).first()
    return None if row is None else ComparisonSummary(*row)


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


def ping(connection: Connection) -> bool:
    from sqlalchemy import text

    return connection.execute(text("SELECT 1")).scalar() == 1
