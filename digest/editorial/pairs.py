"""Pairs: creating, retitling and deleting comparisons of two tools.

A tool is never compared with itself (the schema refuses it too). Pairing two tools that were
compared before is allowed, since a re-match months later is a fair story, but the caller gets
the earlier comparisons back so it can warn the editor.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, or_, and_, select

from digest.editorial.lookup import get_tool, issue_of, require_editable_comparison
from digest.editorial.text import block, one_line
from digest.errors import ValidationError
from digest.models import Comparison, Issue, Tool, utcnow

MAX_TITLE = 300
MAX_PRICING_READ = 2000


@dataclass(frozen=True)
class EarlierPair:
    """A previous comparison of the same two tools, and the issue it went out in (if any)."""

    comparison_id: int
    title: str
    issue_number: int | None
    issue_status: str | None

    def describe(self) -> str:
        where = (f"issue {self.issue_number}, {self.issue_status}" if self.issue_number is not None
                 else "in no issue yet")
        return f"comparison {self.comparison_id} ({where})"


@dataclass(frozen=True)
class NewPair:
    comparison: Comparison
    tool_a: Tool
    tool_b: Tool
    earlier: tuple[EarlierPair, ...]


def clean_title(title: str) -> str:
    """A title on one line, 1 to 300 characters; ValidationError otherwise."""
    return one_line(title, "title", MAX_TITLE)


def clean_pricing_read(text: str) -> str:
    """The pricing read, trimmed, at most 2,000 characters (empty is allowed: not written yet)."""
    return block(text, "pricing read", MAX_PRICING_READ)


def earlier_pairs(session: Session, tool_a_id: int, tool_b_id: int, *,
                  exclude: int | None = None) -> tuple[EarlierPair, ...]:
    """Every comparison of these two tools, in either order, oldest first."""
    rows = session.exec(
        select(Comparison).where(or_(
            and_(Comparison.tool_a_id == tool_a_id, Comparison.tool_b_id == tool_b_id),
            and_(Comparison.tool_a_id == tool_b_id, Comparison.tool_b_id == tool_a_id),
        )).order_by(Comparison.id)
    ).all()
    found = []
    for row in rows:
        if row.id == exclude:
            continue
        issue: Issue | None = issue_of(session, row.id)
        found.append(EarlierPair(row.id, row.title, issue.number if issue else None,
                                 issue.status if issue else None))
    return tuple(found)


def create_comparison(*, session: Session, tool_a: str | int, tool_b: str | int,
                      title: str | None = None, pricing_read: str = "") -> NewPair:
    """Pair two tools (ids or slugs) as A and B of a new comparison.

    Raises NotFoundError for an unknown or hidden tool (not a launch, or hidden by the editor:
    `digest tools keep` shows it again) and ValidationError for a tool paired with
    itself or a bad title. The default title is "A vs B". Earlier comparisons of the same two
    tools do not stop the pair; they come back in `NewPair.earlier` for a warning.
    """
    a = get_tool(session, tool_a, shown_only=True)
    b = get_tool(session, tool_b, shown_only=True)
    if a.id == b.id:
        raise ValidationError(f"a tool cannot be compared with itself ({a.slug} is both A and B)",
                              hint="name two different tools")
    earlier = earlier_pairs(session, a.id, b.id)
    comparison = Comparison(tool_a_id=a.id, tool_b_id=b.id,
                            title=clean_title(title if title is not None else f"{a.name} vs {b.name}"),
                            pricing_read=clean_pricing_read(pricing_read))
    session.add(comparison)
    session.flush()
    return NewPair(comparison=comparison, tool_a=a, tool_b=b, earlier=earlier)


def update_comparison(*, session: Session, comparison: Comparison, title: str | None = None,
                      pricing_read: str | None = None) -> list[str]:
    """Set the title and/or pricing read; returns the names of the fields that changed.

    Raises StateError when the comparison is in a sending or sent issue.
    """
    require_editable_comparison(session, comparison)
    changed = []
    if title is not None:
        value = clean_title(title)
        if value != comparison.title:
            comparison.title = value
            changed.append("title")
    if pricing_read is not None:
        value = clean_pricing_read(pricing_read)
        if value != comparison.pricing_read:
            comparison.pricing_read = value
            changed.append("pricing_read")
    if changed:
        comparison.updated_at = utcnow()
        session.add(comparison)
    return changed


def delete_comparison(*, session: Session, comparison: Comparison) -> None:
    """Delete a comparison with its reviews and votes, and take it out of its (draft) issue.

    Raises StateError when the comparison is in a sending or sent issue.
    """
    from digest.models import IssueComparison, Review, Vote

    require_editable_comparison(session, comparison)
    for model in (Review, Vote, IssueComparison):
        for row in session.exec(select(model).where(model.comparison_id == comparison.id)).all():
            session.delete(row)
    session.flush()
    session.delete(comparison)
    session.flush()
