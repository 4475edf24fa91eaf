"""An issue's web version as the archive serves it: rebuilt from the database on request, so
the community figures are the current ones (the app caches the result for a short while)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from digest.models import Issue, IssueComparison, IssueStatus

if TYPE_CHECKING:
    from sqlmodel import Session

    from digest.config import Settings


def issue_html(session: Session, settings: Settings, number: int) -> str | None:
    """The web page of sent issue `number`; None when it does not exist or is not public."""
    from sqlmodel import select

    from digest import votes
    from digest.panel import community_split
    from digest.web.pages import Pages
    from digest.web.queries import comparison_summary

    issue = session.exec(select(Issue).where(Issue.number == number)).first()
    if issue is None or issue.status != IssueStatus.SENT.value:
        return None
    ids = list(session.exec(select(IssueComparison.comparison_id).where(IssueComparison.issue_id == issue.id)
                            .order_by(IssueComparison.position)))
    connection = session.connection()
    counts = votes.community_counts(connection, ids)
    comparisons = []
    for cid in ids:
        summary = comparison_summary(connection, cid)
        if summary is None:
            continue
        pct_a, pct_b = community_split(*counts[cid])
        comparisons.append({"summary": summary, "votes": sum(counts[cid]), "pct_a": pct_a, "pct_b": pct_b})
    return Pages(settings).render("site/issue.html", issue=issue, comparisons=comparisons)
