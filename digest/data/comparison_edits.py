"""The editor's writes to comparisons, without the ORM: pairing two tools.

`digest pair` runs these through `digest.editorial.pairing` inside one write transaction
(`Database.transaction(write=True)`: SQLite's write lock taken at BEGIN), so the earlier
comparisons it warns about and the new row are read and written under one lock.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from digest.data.engine import Database


def tool_to_pair(db: Database, tool_id: int) -> dict[str, Any] | None:
    """The tool's id, slug, name and launch decision (launch, reason, override); None if gone."""
    row = db.one("SELECT id, slug, name, launch, reason, override FROM tool WHERE id = :id", {"id": tool_id})
    if row is not None:
        row["launch"] = bool(row["launch"])
    return row


def earlier_pairs(db: Database, tool_a_id: int, tool_b_id: int) -> list[dict[str, Any]]:
    """Every comparison of these two tools, in either order, oldest first: id, title and the
    number and status of the issue it is in (None when in none)."""
    return db.query(
        "SELECT c.id, c.title, i.number, i.status FROM comparison c "
        "LEFT JOIN issuecomparison s ON s.comparison_id = c.id LEFT JOIN issue i ON i.id = s.issue_id "
        "WHERE (c.tool_a_id = :a AND c.tool_b_id = :b) OR (c.tool_a_id = :b AND c.tool_b_id = :a) "
        "ORDER BY c.id", {"a": tool_a_id, "b": tool_b_id})


def insert_comparison(db: Database, *, tool_a_id: int, tool_b_id: int, title: str, pricing_read: str,
                      now: datetime) -> int:
    """A new comparison of tool A and tool B; its id."""
    return db.insert("INSERT INTO comparison (tool_a_id, tool_b_id, title, pricing_read, created_at, updated_at) "
                     "VALUES (:a, :b, :title, :pricing_read, :now, :now) RETURNING id",
                     {"a": tool_a_id, "b": tool_b_id, "title": title, "pricing_read": pricing_read, "now": now})
