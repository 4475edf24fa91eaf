"""The editor's writes to the audience, without the ORM: subscribers and suppressions by key.

`digest subscribers add|remove` run these through `digest.audience` inside one write
transaction (`Database.transaction(write=True)`: SQLite's write lock taken at BEGIN, so the
read-then-write waits for other writers instead of acting on a stale read). On PostgreSQL the
subscribers read for an edit are locked (FOR UPDATE) for the rest of the transaction; a
concurrent first insert of one address is refused by the unique `email_key` (`Conflict`, a
one-line error) rather than creating twins. Values are stored as the ORM stores them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from digest.data.engine import Database

_CHUNK = 500  # keys per IN (...) lookup: well under SQLite's variable limit
SUBSCRIBER_COLUMNS = ("id, email, email_key, status, source, created_at, confirmed_at, unsubscribed_at, "
                      "bounce_count, last_bounce")


def _by_key(db: Database, sql: str, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start:start + _CHUNK]
        names = {f"k{i}": key for i, key in enumerate(chunk)}
        for row in db.query(sql.format(keys=", ".join(f":{name}" for name in names)), names):
            found[row["email_key"]] = row
    return found


def subscribers_by_key(db: Database, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The subscribers with these keys (lowercased addresses), by key; locked on PostgreSQL."""
    lock = " FOR UPDATE" if db.dialect == "postgresql" else ""
    return _by_key(db, f"SELECT {SUBSCRIBER_COLUMNS} FROM subscriber WHERE email_key IN ({{keys}}){lock}", keys)


def suppressions_by_key(db: Database, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The suppressions of these keys, by key (email_key, reason)."""
    return _by_key(db, "SELECT email_key, reason FROM suppression WHERE email_key IN ({keys})", keys)


def insert_subscriber(db: Database, *, email: str, key: str, status: str, source: str, now: datetime,
                      confirmed_at: datetime | None) -> int:
    """A new subscriber; its id."""
    return db.insert("INSERT INTO subscriber (email, email_key, status, source, created_at, confirmed_at, "
                     "bounce_count) VALUES (:email, :key, :status, :source, :now, :confirmed_at, 0) RETURNING id",
                     {"email": email, "key": key, "status": status, "source": source, "now": now,
                      "confirmed_at": confirmed_at})


def update_subscriber(db: Database, subscriber_id: int, changes: Mapping[str, Any]) -> None:
    """Set the given columns of one subscriber (names are the caller's, never user input)."""
    assignments = ", ".join(f"{name} = :{name}" for name in changes)
    db.execute(f"UPDATE subscriber SET {assignments} WHERE id = :id", {**changes, "id": subscriber_id})


def delete_suppression(db: Database, key: str) -> None:
    db.execute("DELETE FROM suppression WHERE email_key = :key", {"key": key})


def suppress(db: Database, key: str, *, reason: str, now: datetime) -> None:
    """Suppress the address unless it already is (an existing suppression keeps its reason)."""
    db.execute("INSERT INTO suppression (email_key, reason, created_at) VALUES (:key, :reason, :now) "
               "ON CONFLICT (email_key) DO NOTHING", {"key": key, "reason": reason, "now": now})
