"""Correcting the catalogue: merging twins the deduplication missed.

Editing a tool's fields and keeping or hiding it live in `digest.editorial.corrections`, on
digest.data without the ORM; a merge moves rows of four tables and stays on the session.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import update
from sqlmodel import Session, select

from digest.editorial.lookup import get_tool
from digest.errors import ValidationError
from digest.models import Comparison, EntryPrice, Review, Tool, ToolKey


@dataclass(frozen=True)
class MergeReport:
    kept: Tool
    duplicate_id: int
    duplicate_slug: str
    keys: int
    comparisons: tuple[int, ...]
    reviews: int
    filled: tuple[str, ...]


def merge_tools(*, session: Session, keep: str | int, duplicate: str | int) -> MergeReport:
    """Fold DUPLICATE into KEEP: its identity keys, comparisons and reviews move, then it goes.

    Fields KEEP lacks (empty tagline, no vendor, unknown price, ...) are filled from the
    duplicate unless the editor owns them; the earlier first-seen time is kept. Refused with
    ValidationError when the two are the same tool or when a comparison pairs them with each
    other (it would compare a tool with itself, and its reviewers would have reviewed both
    twins): delete that comparison first. Run it in one transaction: it is all or nothing.
    """
    kept = get_tool(session, keep)
    dup = get_tool(session, duplicate)
    if kept.id == dup.id:
        raise ValidationError(f"{kept.slug} cannot be merged into itself")
    clash = session.exec(select(Comparison.id).where(
        ((Comparison.tool_a_id == kept.id) & (Comparison.tool_b_id == dup.id))
        | ((Comparison.tool_a_id == dup.id) & (Comparison.tool_b_id == kept.id)))).all()
    if clash:
        ids = ", ".join(str(i) for i in clash)
        raise ValidationError(
            f"comparison {ids} pairs {kept.slug} with {dup.slug}; merged, it would compare a tool with itself",
            hint=f"delete it first with `digest comparison delete {clash[0]}`")

    comparisons = tuple(session.exec(select(Comparison.id).where(
        (Comparison.tool_a_id == dup.id) | (Comparison.tool_b_id == dup.id)).order_by(Comparison.id)).all())
    keys = len(session.exec(select(ToolKey.id).where(ToolKey.tool_id == dup.id)).all())
    reviews = len(session.exec(select(Review.id).where(Review.tool_id == dup.id)).all())

    filled = []
    for field in ("url", "tagline", "description", "category", "vendor", "published_at", "feed_id"):
        if field not in kept.edited and not getattr(kept, field) and getattr(dup, field):
            setattr(kept, field, getattr(dup, field))
            filled.append(field)
    if "price" not in kept.edited and kept.price == EntryPrice.UNKNOWN.value and dup.price != kept.price:
        kept.price = dup.price
        filled.append("price")
    carried = {f for f in dup.edited if f in filled}
    if carried:
        kept.edited = sorted(set(kept.edited) | carried)
    if dup.first_seen_at < kept.first_seen_at:
        kept.first_seen_at = dup.first_seen_at

    session.exec(update(ToolKey).where(ToolKey.tool_id == dup.id).values(tool_id=kept.id))
    session.exec(update(Comparison).where(Comparison.tool_a_id == dup.id).values(tool_a_id=kept.id))
    session.exec(update(Comparison).where(Comparison.tool_b_id == dup.id).values(tool_b_id=kept.id))
    session.exec(update(Review).where(Review.tool_id == dup.id).values(tool_id=kept.id))
    session.add(kept)
    session.flush()
    dup_id, dup_slug = dup.id, dup.slug
    session.expire_all()
    session.delete(session.get(Tool, dup_id))
    session.flush()
    return MergeReport(kept=session.get(Tool, kept.id), duplicate_id=dup_id, duplicate_slug=dup_slug,
                       keys=keys, comparisons=comparisons, reviews=reviews, filled=tuple(filled))
