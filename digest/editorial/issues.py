"""Issues as the later stages read them through a Session: whether one is ready, its views.

Assembling an issue (new, its fields, adding, removing and moving comparisons, deleting a
draft) lives in `digest.editorial.assembly`, with its rules (numbers never reused, a
comparison in one issue at most, positions dense, an issue that went out is locked), on
digest.data without the ORM.

An issue is *ready* when it has at least one comparison and every panel reviewer has reviewed
both tools of each; `readiness` says what is missing, and later stages (queue, schedule) call
`require_ready` before they act.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, select

from digest.config import Reviewer
from digest.data.issue_list import IssueListing
from digest.editorial.cards import comparison_card
from digest.editorial.issue_view import (  # noqa: F401 (names this module has always offered)
    IssueDetail, Missing, Readiness, assess)
from digest.editorial.reviews import reviews_of
from digest.errors import StateError
from digest.issue_state import GONE_OUT
from digest.models import Comparison, Issue, IssueComparison, Tool


def entries(session: Session, issue: Issue) -> list[IssueComparison]:
    """The issue's comparison slots in reading order."""
    return list(session.exec(select(IssueComparison).where(IssueComparison.issue_id == issue.id)
                             .order_by(IssueComparison.position, IssueComparison.id)).all())


# --- readiness and views --------------------------------------------------------------------

def readiness(*, session: Session, issue: Issue, panel: Sequence[Reviewer]) -> Readiness:
    """What stands between the issue and ready: each reviewer's missing reviews, per comparison."""
    slots = []
    for row in entries(session, issue):
        comparison = session.get(Comparison, row.comparison_id)
        tools = (session.get(Tool, comparison.tool_a_id), session.get(Tool, comparison.tool_b_id))
        slots.append((comparison, tools, reviews_of(session, comparison.id)))
    return assess(issue, slots, panel)


def require_ready(*, session: Session, issue: Issue, panel: Sequence[Reviewer]) -> None:
    """StateError naming the first gap when the issue is not ready (for queue and schedule)."""
    state = readiness(session=session, issue=issue, panel=panel)
    if not state.ready:
        more = len(state.missing) - 1
        raise StateError(f"issue {issue.number} is not ready: {state.missing[0].message}"
                         + (f" (and {more} more)" if more else ""),
                         hint=f"`digest issue show {issue.number}` lists what is missing")


def previous_sent_issue(session: Session, issue: Issue) -> Issue | None:
    """The latest issue numbered before `issue` that has gone out (sending or sent), if any:
    the one whose community votes the next issue reports."""
    return session.exec(select(Issue).where(Issue.number < issue.number, Issue.status.in_(GONE_OUT))
                        .order_by(Issue.number.desc()).limit(1)).first()


def issue_detail(*, session: Session, issue: Issue, panel: Sequence[Reviewer]) -> IssueDetail:
    """The issue with its comparison cards in order and its readiness."""
    cards = tuple(comparison_card(session=session, comparison=session.get(Comparison, row.comparison_id),
                                  panel=panel) for row in entries(session, issue))
    return IssueDetail(issue=issue, cards=cards, readiness=readiness(session=session, issue=issue, panel=panel))


# One issue of the listing: the ORM row has the fields of data.issue_list's IssueRow, so both
# listings share one record type and one JSON shape.
IssueSummary = IssueListing


def list_issues(*, session: Session, panel: Sequence[Reviewer], status: str | None = None) -> list[IssueSummary]:
    """Every issue, newest number first, with its comparisons and readiness."""
    query = select(Issue).order_by(Issue.number.desc())
    if status:
        query = query.where(Issue.status == status)
    summaries = []
    for issue in session.exec(query).all():
        state = readiness(session=session, issue=issue, panel=panel)
        summaries.append(IssueSummary(issue, [r.comparison_id for r in entries(session, issue)],
                                      state.ready, len(state.missing)))
    return summaries
