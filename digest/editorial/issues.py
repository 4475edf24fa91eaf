"""Issues: numbered editions that gather comparisons in order, and whether one is ready.

Numbers come from the `issue` Counter row, incremented in the same transaction as the insert,
so a number is never handed out twice, even after an issue is deleted. A comparison belongs to
at most one issue (its votes are that issue's). An issue that is sending or sent is the record
of what readers got: every change to it is refused with StateError.

An issue is *ready* when it has at least one comparison and every panel reviewer has reviewed
both tools of each; `readiness` says what is missing, and later stages (queue, schedule) call
`require_ready` before they act.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import func
from sqlmodel import Session, select

from digest.config import Reviewer
from digest.data.issue_list import IssueListing
from digest.editorial.cards import comparison_card
from digest.editorial.issue_view import (  # noqa: F401 (names this module has always offered)
    IssueDetail, Missing, Readiness, assess)
from digest.editorial.lookup import get_comparison, issue_of, require_editable_issue
from digest.editorial.reviews import reviews_of
from digest.editorial.text import block, one_line
from digest.errors import StateError, ValidationError
from digest.issue_state import GONE_OUT
from digest.models import Comparison, Counter, Issue, IssueComparison, IssueStatus, Tool, utcnow

ISSUE_COUNTER = "issue"
MAX_SUBJECT = 300
MAX_PREHEADER = 300
MAX_INTRO = 5000


_NOT_ONE_LINE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\x85\u2028\u2029]")  # any control but tab


def _line(value: str, what: str, limit: int, *, required: bool) -> str:
    """One line of text for a field that ends up in a mail header (the subject) or beside it
    (the preheader): a line break is refused rather than folded away, so what the editor typed
    is what readers get."""
    if _NOT_ONE_LINE.search(str(value)):
        raise ValidationError(f"the {what} contains a line break or control character; it must be one line")
    return one_line(value, what, limit, required=required)


def clean_intro(value: str) -> str:
    return block(value, "intro", MAX_INTRO)


def next_issue_number(session: Session) -> int:
    """Take the next issue number: the counter moves in the caller's transaction.

    The row is created race-free (insert-or-ignore) and then locked (FOR UPDATE on
    PostgreSQL; SQLite's write transaction already serialises writers).
    """
    from digest.db import insert_ignore

    highest = session.exec(select(func.max(Issue.number))).one() or 0
    insert_ignore(session.connection(), Counter, {"name": ISSUE_COUNTER, "value": highest}, conflict=["name"])
    counter = session.exec(select(Counter).where(Counter.name == ISSUE_COUNTER).with_for_update()).one()
    counter.value += 1
    session.add(counter)
    session.flush()
    return counter.value


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


def create_issue(*, session: Session, subject: str, comparisons: Sequence[str | int] = (),
                 preheader: str = "", intro: str = "") -> Issue:
    """A new draft issue with the next number and the given comparisons in order.

    Raises ValidationError for an empty or over-long subject, preheader or intro, and for a
    comparison that does not exist or is already in an issue; nothing is written then.
    """
    issue = Issue(number=0, subject=_line(subject, "subject", MAX_SUBJECT, required=True),
                  preheader=_line(preheader, "preheader", MAX_PREHEADER, required=False),
                  intro=clean_intro(intro))
    issue.number = next_issue_number(session)
    session.add(issue)
    session.flush()
    seen = set()
    for ref in comparisons:
        if str(ref) in seen:
            raise ValidationError(f"comparison {ref} is given twice")
        seen.add(str(ref))
        add_comparison(session=session, issue=issue, comparison=ref)
    return issue


def set_issue(*, session: Session, issue: Issue, subject: str | None = None,
              preheader: str | None = None, intro: str | None = None) -> list[str]:
    """Change the subject, preheader and/or intro; returns the fields that changed."""
    require_editable_issue(issue)
    values = {}
    if subject is not None:
        values["subject"] = _line(subject, "subject", MAX_SUBJECT, required=True)
    if preheader is not None:
        values["preheader"] = _line(preheader, "preheader", MAX_PREHEADER, required=False)
    if intro is not None:
        values["intro"] = clean_intro(intro)
    if not values:
        raise ValidationError("nothing to change", hint="give --subject, --preheader or --intro")
    changed = [name for name, value in values.items() if getattr(issue, name) != value]
    for name, value in values.items():
        setattr(issue, name, value)
    if changed:
        _touch(session, issue)
    return changed


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
