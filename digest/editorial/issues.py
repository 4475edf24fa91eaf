"""Issues: numbered editions that gather comparisons in order, and whether one is ready.

Creating an issue and setting its fields live in `digest.editorial.assembly`, with the rules
(numbers never reused, a comparison in one issue at most, an issue that went out is locked),
on digest.data without the ORM. A comparison belongs to at most one issue (its votes are that
issue's). An issue that is sending or sent is the record of what readers got: every change to
it is refused with StateError.

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
from digest.editorial.lookup import get_comparison, issue_of, require_editable_issue
from digest.editorial.reviews import reviews_of
from digest.errors import StateError, ValidationError
from digest.issue_state import GONE_OUT
from digest.models import Comparison, Issue, IssueComparison, IssueStatus, Tool, utcnow


def entries(session: Session, issue: Issue) -> list[IssueComparison]:
    """The issue's comparison slots in reading order."""
    return list(session.exec(select(IssueComparison).where(IssueComparison.issue_id == issue.id)
                             .order_by(IssueComparison.position, IssueComparison.id)).all())


def _renumber(session: Session, rows: list[IssueComparison]) -> None:
    for position, row in enumerate(rows, start=1):
        if row.position != position:
            row.position = position
            session.add(row)
    session.flush()


def _touch(session: Session, issue: Issue) -> None:
    issue.updated_at = utcnow()
    session.add(issue)


def add_comparison(*, session: Session, issue: Issue, comparison: str | int,
                   position: int | None = None) -> Comparison:
    """Put a comparison into the issue, last or at `position` (1 = first).

    Raises ValidationError when it is already in this or another issue, StateError when the
    issue is sending or sent.
    """
    require_editable_issue(issue)
    found = get_comparison(session, comparison)
    current = issue_of(session, found.id)
    if current is not None:
        where = "this issue" if current.id == issue.id else f"issue {current.number}"
        raise ValidationError(f"comparison {found.id} is already in {where}",
                              hint=None if current.id == issue.id else
                              f"remove it there first: digest issue remove {current.number} {found.id}")
    rows = entries(session, issue)
    row = IssueComparison(issue_id=issue.id, comparison_id=found.id, position=len(rows) + 1)
    session.add(row)
    session.flush()
    if position is not None:
        _check_position(position, len(rows) + 1)
        rows.insert(position - 1, row)
    else:
        rows.append(row)
    _renumber(session, rows)
    _touch(session, issue)
    return found


def _check_position(position: int, count: int) -> None:
    if position < 1 or position > count:
        raise ValidationError(f"position {position} is out of range: the issue has "
                              f"{count} comparison{'s' if count != 1 else ''} (positions 1 to {count})")


def _slot(session: Session, issue: Issue, comparison: str | int) -> tuple[list[IssueComparison], int]:
    found = get_comparison(session, comparison)
    rows = entries(session, issue)
    for index, row in enumerate(rows):
        if row.comparison_id == found.id:
            return rows, index
    raise ValidationError(f"comparison {found.id} is not in issue {issue.number}")


def remove_comparison(*, session: Session, issue: Issue, comparison: str | int) -> None:
    """Take a comparison out of the issue (the comparison itself stays)."""
    require_editable_issue(issue)
    rows, index = _slot(session, issue, comparison)
    session.delete(rows.pop(index))
    session.flush()
    _renumber(session, rows)
    _touch(session, issue)


def move_comparison(*, session: Session, issue: Issue, comparison: str | int, position: int) -> None:
    """Move a comparison of the issue to `position` (1 = first); the others keep their order."""
    require_editable_issue(issue)
    rows, index = _slot(session, issue, comparison)
    _check_position(position, len(rows))
    row = rows.pop(index)
    rows.insert(position - 1, row)
    _renumber(session, rows)
    _touch(session, issue)


def delete_issue(*, session: Session, issue: Issue) -> None:
    """Delete an issue that was never sent; its comparisons stay, its number is not reused."""
    require_editable_issue(issue)
    if issue.status != IssueStatus.DRAFT.value:
        raise StateError(f"issue {issue.number} is {issue.status}", hint="only a draft can be deleted")
    for row in entries(session, issue):
        session.delete(row)
    session.flush()
    session.delete(issue)
    session.flush()


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
