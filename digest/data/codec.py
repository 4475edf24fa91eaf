"""The one datetime codec (and JSON's): what each backend stores, and aware UTC back.

SQLite has no datetime type: SQLAlchemy stores a datetime there as naive UTC text,
"2026-11-30 12:00:00.000000" (always six digits of microseconds, so text order is time order);
PostgreSQL stores `timestamp` and hands back datetime objects. Raw SQL on SQLite (the fast
paths that skip SQLAlchemy) must write exactly that text, or the ORM, the comparisons in SQL
(`until > :now`) and the sort order disagree with it. Every such conversion goes through here.

A naive datetime is taken to be UTC, in both directions: digest never stores local time.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

SQLITE_TIME_FORMAT = "%Y-%m-%d %H:%M:%S.%f"  # for reference; `sqlite_text` writes it


def sqlite_text(moment: datetime) -> str:
    """`moment` as SQLite stores a datetime: naive UTC text with microseconds."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(" ", "microseconds")


def as_datetime(value: Any) -> datetime | None:
    """An aware UTC datetime from what either backend returns (text on SQLite), or None."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        value = datetime.fromisoformat(str(value))
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def as_json(value: Any) -> Any:
    """A JSON column's value (text on SQLite, already decoded on PostgreSQL)."""
    if isinstance(value, (str, bytes)):
        return json.loads(value)
    return value
