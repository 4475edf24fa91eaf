"""Finding what the editor names on the command line: tools, comparisons, issues.

A TOOL is an id or a slug (by the one rule of `digest.data.tools.resolve_tool`), a COMPARISON
its id, an ISSUE its number. Each lookup raises NotFoundError (exit 2) with the reference as
given, so a typo reads back to the user.
"""

from __future__ import annotations

from sqlmodel import Session, select

from digest.data.tools import resolve_tool
from digest.errors import NotFoundError
from digest.ids import parse_id
from digest.models import Comparison, Issue, IssueComparison, Tool


def get_tool(session: Session, ref: str | int) -> Tool:
    """The tool `ref` names (an id or a slug: see `digest.data.tools.resolve_tool` for the
    rule); ValidationError for an empty one, NotFoundError when no tool matches."""
    tool = session.get(Tool, resolve_tool(session, ref))
    if tool is None:  # deleted since it was resolved
        raise NotFoundError(f"no tool {str(ref).strip()!r}", hint="`digest tools list` shows ids and slugs")
    return tool


def parse_number(ref: str | int, what: str) -> int:
    """A positive whole number from the command line, in the range of ids; ValidationError
    otherwise (see `digest.ids`)."""
    return parse_id(ref, what)


def get_comparison(session: Session, ref: str | int) -> Comparison:
    """The comparison with this id; NotFoundError otherwise."""
    comparison = session.get(Comparison, parse_number(ref, "comparison"))
    if comparison is None:
        raise NotFoundError(f"no comparison {ref}", hint="`digest issue list` and `digest suggest` help find one")
    return comparison


def get_issue(session: Session, ref: str | int) -> Issue:
    """The issue with this number; NotFoundError otherwise."""
    number = parse_number(ref, "issue")
    issue = session.exec(select(Issue).where(Issue.number == number)).first()
    if issue is None:
        raise NotFoundError(f"no issue {number}", hint="`digest issue list` shows the issues")
    return issue


def issue_of(session: Session, comparison_id: int) -> Issue | None:
    """The issue a comparison belongs to, if any (a comparison is in at most one issue)."""
    return session.exec(
        select(Issue).join(IssueComparison, IssueComparison.issue_id == Issue.id)
        .where(IssueComparison.comparison_id == comparison_id)
    ).first()


def require_editable_comparison(session: Session, comparison: Comparison) -> None:
    """StateError when the comparison is in an issue that is sending or sent (the rule:
    `digest.editorial.pairing.require_editable_comparison`)."""
    from digest.editorial.pairing import require_editable_comparison as require

    issue = issue_of(session, comparison.id)
    require(comparison.id, issue.number if issue else None, issue.status if issue else None)
