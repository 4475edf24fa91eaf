"""Subscribers' bounce events and the request counts that rate-limit their sign-ups: the
statements that need each backend's own upsert (SQLite's and PostgreSQL's ON CONFLICT are
spelled alike but built by different SQLAlchemy dialect modules)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from digest.models import BounceEvent, RateCount

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

bounce_event = BounceEvent.__table__
rate_count = RateCount.__table__


def _insert(connection: Connection, table: Any) -> Any:
    """An INSERT that can take ON CONFLICT, for the connection's backend."""
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)


def insert_bounce_event_once(connection: Connection, values: dict[str, Any]) -> bool:
    """Insert the event unless one with its `event_key` exists; whether this call inserted.

    RETURNING, not rowcount: psycopg reports -1 for a conflict-skipped insert on PostgreSQL.
    """
    statement = _insert(connection, bounce_event).values(values).on_conflict_do_nothing(index_elements=["event_key"])
    return connection.execute(statement.returning(bounce_event.c.id)).first() is not None


def count_request(connection: Connection, *, key: str, window_start: int, window: int) -> tuple[int, int]:
    """Count one request under `key` in the window starting at `window_start`; (this window's
    count, the previous window's). Windows older than the previous one are deleted on the way."""
    from sqlalchemy import and_, delete, select

    statement = _insert(connection, rate_count).values(key=key, window_start=window_start, count=1)
    statement = statement.on_conflict_do_update(index_elements=["key", "window_start"],
                                                set_={"count": rate_count.c.count + 1}).returning(rate_count.c.count)
    current = connection.execute(statement).scalar_one()
    previous = connection.execute(select(rate_count.c.count).where(
        and_(rate_count.c.key == key, rate_count.c.window_start == window_start - window))).scalar() or 0
    connection.execute(delete(rate_count).where(rate_count.c.window_start < window_start - window))
    return current, previous
