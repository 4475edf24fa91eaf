"""Entry prices: the fixed list a tool card shows, and how the editor may name one.

Apart from `digest.models` (which re-exports it) so that `digest tools edit` can read a price
without importing SQLModel.
"""

from __future__ import annotations

import enum


class EntryPrice(enum.StrEnum):
    """The fixed list of entry prices a tool card shows."""

    FREE = "free"
    FREEMIUM = "freemium"
    PAID = "paid"
    OPEN_SOURCE = "open-source"
    UNKNOWN = "unknown"

    @property
    def label(self) -> str:
        return {"free": "Free", "freemium": "Freemium", "paid": "Paid",
                "open-source": "Open source", "unknown": "Unknown"}[self.value]

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
