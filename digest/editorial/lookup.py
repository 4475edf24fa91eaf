"""Finding what the editor names on the command line: tools, comparisons, issues.

A TOOL is an id or a slug, a COMPARISON its id, an ISSUE its number. Each lookup raises
NotFoundError (exit 2) with the reference as given, so a typo reads back to the user.
"""

from __future__ import annotations

from sqlmodel import Session, select

from digest.errors import NotFoundError, StateError, ValidationError
from digest.ids import is_id, parse_id
from digest.issue_state import GONE_OUT
from digest.models import Comparison, Issue, IssueComparison, Tool


def get_tool(session: Session, ref: str | int, *, shown_only: bool = False) -> Tool:
    """The tool with this id or slug; NotFoundError otherwise.

    `shown_only` (pairing): a tool the launch detection or the editor hid is not found either,
    with its reason and how to keep it, so noise never slips into a comparison unnoticed.
    """
    text = str(ref).strip()
    if not text:
        raise ValidationError("a tool is named by its id or slug; got an empty value")
    tool = session.exec(select(Tool).where(Tool.slug == text.lower())).first()
    if tool is None and is_id(text):
        tool = session.get(Tool, int(text))
    if tool is None:
        raise NotFoundError(f"no tool {text!r}", hint="`digest tools list` shows ids and slugs")
    if shown_only and not tool.shown:
        why = "hidden by the editor" if tool.override == "hide" else f"not an AI tool launch ({tool.reason or 'no reason'})"
        raise NotFoundError(f"{tool.slug} is hidden: {why}",
                            hint=f"`digest tools keep {tool.slug}` shows it again")
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


def require_editable_issue(issue: Issue) -> None:
    """StateError when the issue is sending or sent: what readers received is the record."""
    if issue.status in GONE_OUT:
        raise StateError(f"issue {issue.number} is {issue.status}; a sending or sent issue cannot be changed",
                         hint="start a new issue with `digest issue new`")


def require_editable_comparison(session: Session, comparison: Comparison) -> None:
    """StateError when the comparison is in an issue that is sending or sent."""
    issue = issue_of(session, comparison.id)
    if issue is not None and issue.status in GONE_OUT:
        raise StateError(f"comparison {comparison.id} is in issue {issue.number}, which is {issue.status}; "
                         "its scorecard is part of what readers received and cannot be changed",
                         hint="pair the tools again with `digest pair` for a new comparison")
