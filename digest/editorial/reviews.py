"""Reviews: one panel member's ship/skip verdict and quote on one tool of a comparison.

A review is recorded or replaced (one per comparison, tool and reviewer, which the schema
enforces). The rules live here and nowhere else: the reviewer must be on the configured panel,
the tool one of the comparison's two, the verdict ship or skip, the quote 1 to 1,200
characters. Scorecard files and the comparison editor go through `check_review` too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session, select

from digest.config import Reviewer
from digest.editorial.lookup import get_tool, require_editable_comparison
from digest.editorial.text import plain
from digest.errors import NotFoundError, ValidationError
from digest.models import Comparison, Review, Tool, Verdict, utcnow

MAX_QUOTE = 1200


@dataclass(frozen=True)
class ReviewInput:
    """A review as the editor gave it, checked: reviewer key, tool id, verdict, quote."""

    reviewer: str
    tool_id: int
    verdict: str
    quote: str


def check_reviewer(key: str, panel: Sequence[Reviewer]) -> str:
    """The reviewer key if it is on the panel; ValidationError listing the panel otherwise."""
    text = str(key).strip().lower()
    if not any(r.key == text for r in panel):
        raise ValidationError(f"unknown reviewer {key!r}; the panel is {', '.join(r.key for r in panel)}",
                              hint="the panel is configured with [[panel]] tables in digest.toml")
    return text


def check_verdict(value: str) -> str:
    """'ship' or 'skip' (any case); ValidationError otherwise."""
    text = str(value).strip().lower()
    if text not in (Verdict.SHIP.value, Verdict.SKIP.value):
        raise ValidationError(f"verdict {value!r} is not ship or skip")
    return text


def check_quote(value: str) -> str:
    """The quote trimmed, 1 to 1,200 characters; ValidationError otherwise."""
    text = plain(value, "quote").replace("\r\n", "\n").strip()
    if not text:
        raise ValidationError("the quote is empty")
    if len(text) > MAX_QUOTE:
        raise ValidationError(f"the quote is {len(text):,} characters; the limit is {MAX_QUOTE:,}")
    return text


def tool_of_comparison(session: Session, comparison: Comparison, ref: str | int) -> Tool:
    """The tool named by `ref` if it is A or B of the comparison; ValidationError otherwise."""
    try:
        tool = get_tool(session, ref)
    except NotFoundError:
        tool = None
    if tool is None or tool.id not in (comparison.tool_a_id, comparison.tool_b_id):
        a, b = session.get(Tool, comparison.tool_a_id), session.get(Tool, comparison.tool_b_id)
        raise ValidationError(f"tool {str(ref)!r} is not in comparison {comparison.id} "
                              f"(A is {a.slug}, B is {b.slug})")
    return tool


def check_review(session: Session, comparison: Comparison, *, tool: str | int, reviewer: str,
                 verdict: str, quote: str, panel: Sequence[Reviewer]) -> ReviewInput:
    """Every rule for one review, checked in the order a user fixes them."""
    return ReviewInput(reviewer=check_reviewer(reviewer, panel),
                       tool_id=tool_of_comparison(session, comparison, tool).id,
                       verdict=check_verdict(verdict), quote=check_quote(quote))


def reviews_of(session: Session, comparison_id: int) -> list[Review]:
    return list(session.exec(select(Review).where(Review.comparison_id == comparison_id)
                             .order_by(Review.id)).all())


def upsert_review(session: Session, comparison: Comparison, review: ReviewInput) -> tuple[Review, bool]:
    """Record or replace one checked review; returns the row and whether it was new."""
    row = session.exec(select(Review).where(Review.comparison_id == comparison.id,
                                            Review.tool_id == review.tool_id,
                                            Review.reviewer == review.reviewer)).first()
    created = row is None
    if row is None:
        row = Review(comparison_id=comparison.id, tool_id=review.tool_id, reviewer=review.reviewer,
                     verdict=review.verdict, quote=review.quote)
    elif (row.verdict, row.quote) != (review.verdict, review.quote):
        row.verdict, row.quote, row.updated_at = review.verdict, review.quote, utcnow()
    session.add(row)
    return row, created


def record_review(*, session: Session, comparison: Comparison, tool: str | int, reviewer: str,
                  verdict: str, quote: str, panel: Sequence[Reviewer]) -> tuple[Review, bool]:
    """Record or replace one reviewer's verdict on one tool of the comparison.

    Returns the review and True when it is new (False when it replaced an earlier one).
    Raises ValidationError for an unknown reviewer, a tool not in the comparison, a verdict
    other than ship/skip or an empty or over-long quote, and StateError when the comparison
    is in a sending or sent issue. Nothing is written when it raises.
    """
    require_editable_comparison(session, comparison)
    checked = check_review(session, comparison, tool=tool, reviewer=reviewer, verdict=verdict,
                           quote=quote, panel=panel)
    row, created = upsert_review(session, comparison, checked)
    session.flush()
    return row, created
