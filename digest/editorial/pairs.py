"""Comparisons through the ORM: retitling and deleting them.

Pairing two tools lives in `digest.editorial.pairing` (no ORM), with the title and
pricing-read rules these use.
"""

from __future__ import annotations

from sqlmodel import Session, select

from digest.editorial.lookup import require_editable_comparison
from digest.editorial.pairing import clean_pricing_read, clean_title
from digest.models import Comparison, utcnow


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
