"""Setting a comparison's title and pricing read through the ORM, for the scorecard file and
`digest comparison edit`, which hold a Session.

Pairing, `digest comparison set` and `delete` live in `digest.editorial.pairing` (no ORM), with
the rules this uses.
"""

from __future__ import annotations

from sqlmodel import Session

from digest.editorial.lookup import require_editable_comparison
from digest.editorial.pairing import comparison_changes
from digest.models import Comparison, utcnow


def update_comparison(*, session: Session, comparison: Comparison, title: str | None = None,
                      pricing_read: str | None = None) -> list[str]:
    """Set the title and/or pricing read (the scorecard file, `comparison edit`); returns the
    names of the fields that changed. Raises StateError when the comparison is in a sending or
    sent issue. The rules: `digest.editorial.pairing` (`digest comparison set`'s, without the ORM)."""
    require_editable_comparison(session, comparison)
    changes = comparison_changes({"title": comparison.title, "pricing_read": comparison.pricing_read},
                                 title=title, pricing_read=pricing_read)
    for name, value in changes.items():
        setattr(comparison, name, value)
    if changes:
        comparison.updated_at = utcnow()
        session.add(comparison)
    return list(changes)
