"""The editor's writes to issues, without the ORM: numbers, fields and comparison slots.

`digest issue new|set|add|remove|move|delete` run these through `digest.editorial.assembly`
inside one write transaction (`Database.transaction(write=True)`: SQLite's write lock taken at
BEGIN, so a read-then-write waits for other writers instead of acting on a stale read). On
PostgreSQL `issue_to_edit` and `comparison_title` lock the issue's row and then the
comparison's (FOR UPDATE, always in that order), so two editors reordering the same issue take
turns and its positions stay dense, and a comparison cannot land in two issues at once;
SQLite's lock already covers the whole file.
Issue numbers come from the `issue` counter row, moved by one UPDATE in the same transaction,
so a number is never handed out twice, even after an issue is deleted.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from digest.data.engine import Database

ISSUE_COUNTER = "issue"
_EDITABLE = "id, number, status, subject, preheader, intro"


def issue_to_edit(db: Database, number: int) -> dict[str, Any] | None:
    """The issue numbered `number` (id, number, status, subject, preheader, intro), locked for
    the rest of the transaction on PostgreSQL; None if there is none."""
    lock = " FOR UPDATE" if db.dialect == "postgresql" else ""
    return db.one(f"SELECT {_EDITABLE} FROM issue WHERE number = :number{lock}", {"number": number})


def take_issue_number(db: Database) -> int:
    """The next issue number, taken in the caller's transaction: the counter row is created
    race-free (insert-or-ignore, starting at the highest number in use) and moved by one
    UPDATE, which on PostgreSQL waits for any other transaction moving it."""
    highest = db.scalar("SELECT MAX(number) AS highest FROM issue") or 0
    db.execute("INSERT INTO counter (name, value) VALUES (:name, :value) ON CONFLICT (name) DO NOTHING",
               {"name": ISSUE_COUNTER, "value": highest})
    return int(db.scalar("UPDATE counter SET value = value + 1 WHERE name = :name RETURNING value",
                         {"name": ISSUE_COUNTER}))


def insert_issue(db: Database, *, number: int, subject: str, preheader: str, intro: str, now: datetime) -> int:
    """A new draft issue; its id."""
    return db.insert("INSERT INTO issue (number, subject, preheader, intro, status, created_at, updated_at) "
                     "VALUES (:number, :subject, :preheader, :intro, 'draft', :now, :now) RETURNING id",
                     {"number": number, "subject": subject, "preheader": preheader, "intro": intro, "now": now})


def update_issue(db: Database, issue_id: int, changes: Mapping[str, Any]) -> None:
    """Set the given columns of one issue (names are the caller's, never user input)."""
    assignments = ", ".join(f"{name} = :{name}" for name in changes)
    db.execute(f"UPDATE issue SET {assignments} WHERE id = :id", {**changes, "id": issue_id})


def comparison_title(db: Database, comparison_id: int) -> str | None:
    """The comparison's title, its row locked for the rest of the transaction on PostgreSQL (so
    of two editors putting it into two issues at once, the second sees the first's slot and is
    refused); None when there is no such comparison."""
    lock = " FOR UPDATE" if db.dialect == "postgresql" else ""
    row = db.one(f"SELECT title FROM comparison WHERE id = :id{lock}", {"id": comparison_id})
    return None if row is None else row["title"]


def issue_holding(db: Database, comparison_id: int) -> dict[str, Any] | None:
    """The issue (id, number, status) a comparison is in, if any: it is in one at most."""
    return db.one("SELECT i.id, i.number, i.status FROM issue i JOIN issuecomparison s ON s.issue_id = i.id "
                  "WHERE s.comparison_id = :id", {"id": comparison_id})


def slots(db: Database, issue_id: int) -> list[dict[str, Any]]:
    """The issue's comparison slots (id, comparison_id, position) in reading order."""
    return db.query("SELECT id, comparison_id, position FROM issuecomparison WHERE issue_id = :id "
                    "ORDER BY position, id", {"id": issue_id})


def add_slot(db: Database, *, issue_id: int, comparison_id: int, position: int) -> int:
    """Put the comparison into the issue at `position`; the slot's id."""
    return db.insert("INSERT INTO issuecomparison (issue_id, comparison_id, position) "
                     "VALUES (:issue_id, :comparison_id, :position) RETURNING id",
                     {"issue_id": issue_id, "comparison_id": comparison_id, "position": position})


def set_positions(db: Database, positions: Mapping[int, int]) -> None:
    """Give slots (by id) new positions."""
    db.executemany("UPDATE issuecomparison SET position = :position WHERE id = :id",
                   [{"id": slot_id, "position": position} for slot_id, position in positions.items()], plain=True)


def delete_slot(db: Database, slot_id: int) -> None:
    db.execute("DELETE FROM issuecomparison WHERE id = :id", {"id": slot_id})


def delete_issue(db: Database, issue_id: int) -> None:
    """Delete the issue and its slots (the comparisons stay)."""
    db.execute("DELETE FROM issuecomparison WHERE issue_id = :id", {"id": issue_id})
    db.execute("DELETE FROM issue WHERE id = :id", {"id": issue_id})


def move_status(db: Database, number: int, *, source: str, target: str, values: Mapping[str, Any]) -> bool:
    """UPDATE issue N to `target` only while it is `source`, setting `values` too (column names
    are the caller's): True when it did. The WHERE on the status, not a prior read, is what
    makes one of two writers lose (`digest.issue_state.move_in` is the one caller)."""
    assignments = "".join(f", {name} = :{name}" for name in values)
    return db.execute(f"UPDATE issue SET status = :target{assignments} WHERE number = :number AND status = :source",
                      {**values, "target": target, "number": number, "source": source}) == 1


def weekly_numbers(db: Database) -> list[int]:
    """The numbers of the issues waiting for the weekly send (scheduled, no one-off time), newest first."""
    return [int(row["number"]) for row in db.query(
        "SELECT number FROM issue WHERE status = 'scheduled' AND scheduled_at IS NULL ORDER BY number DESC")]


def scheduled_issue(db: Database, number: int) -> dict[str, Any] | None:
    """Issue `number` as `issue schedule --json` reports it: id, number, status, subject, scheduled_at."""
    return db.one("SELECT id, number, status, subject, scheduled_at FROM issue WHERE number = :number",
                  {"number": number})
