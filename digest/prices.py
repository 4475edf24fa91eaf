"""Entry prices: the fixed list a tool card shows, and how the editor may name one.

Apart from `digest.models` (which re-exports it) so that `digest tools edit` can read a price
without importing SQLModel.
"""

from __future__ import annotations

import enum

# What a card shows for each entry price (EntryPrice's values)
LABELS = {"free": "Free", "freemium": "Freemium", "paid": "Paid", "open-source": "Open source", "unknown": "Unknown"}


class EntryPrice(enum.StrEnum):
    """The fixed list of entry prices a tool card shows."""

    FREE = "free"
    FREEMIUM = "freemium"
    PAID = "paid"
    OPEN_SOURCE = "open-source"
    UNKNOWN = "unknown"

    @property
    def label(self) -> str:
        return LABELS[self.value]

    @classmethod
    def parse(cls, text: str) -> EntryPrice:
        """The entry price named by a value or a label, case-insensitively ("Open source",
        "open-source", "open_source"); ValueError naming the accepted values otherwise."""
        key = "-".join(str(text).strip().lower().replace("_", " ").replace("-", " ").split())
        for price in cls:
            if key == price.value:
                return price
        choices = ", ".join(p.value for p in cls)
        raise ValueError(f"{text!r} is not an entry price (one of {choices})")


def price_label(value: str) -> str:
    """The label of the entry price `value` names as EntryPrice.parse reads it, else `value`
    itself (a price stored before the list was fixed is shown as written)."""
    try:
        return EntryPrice.parse(value).label
    except ValueError:
        return value
