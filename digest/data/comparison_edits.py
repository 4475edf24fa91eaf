"""The editor's writes to comparisons, without the ORM: pairing two tools, setting a
comparison's title or pricing read, deleting it.

`digest pair` and `digest comparison set|delete` run these through `digest.editorial.pairing`
inside one write transaction (`Database.transaction(write=True)`: SQLite's write lock taken at
BEGIN), so what they read (earlier comparisons, the issue that locks one) and what they write
go under one lock. On PostgreSQL `comparison_to_edit` locks the comparison's row (FOR UPDATE),
as `digest.data.issue_edits` does before putting it into an issue.
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


def comparison_to_edit(db: Database, comparison_id: int) -> dict[str, Any] | None:
    """The comparison's id, title and pricing read, its row locked for the rest of the
    transaction on PostgreSQL, with the number and status of the issue it is in (None when in
    none); None when there is no such comparison."""
    lock = " FOR UPDATE OF c" if db.dialect == "postgresql" else ""
    return db.one("SELECT c.id, c.title, c.pricing_read, i.number, i.status FROM comparison c "
                  "LEFT JOIN issuecomparison s ON s.comparison_id = c.id LEFT JOIN issue i ON i.id = s.issue_id "
                  f"WHERE c.id = :id{lock}", {"id": comparison_id})


def update_comparison(db: Database, comparison_id: int, changes: dict[str, Any]) -> None:
    """Set the given columns of one comparison (names are the caller's, never user input)."""
    assignments = ", ".join(f"{name} = :{name}" for name in changes)
    db.execute(f"UPDATE comparison SET {assignments} WHERE id = :id", {**changes, "id": comparison_id})


def delete_comparison(db: Database, comparison_id: int) -> None:
    """Delete the comparison with its reviews, votes and issue slot."""
    for table in ("review", "vote", "issuecomparison"):
        db.execute(f"DELETE FROM {table} WHERE comparison_id = :id", {"id": comparison_id})
    db.execute("DELETE FROM comparison WHERE id = :id", {"id": comparison_id})
