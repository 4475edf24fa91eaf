"""The scheduler's stored jobs: APScheduler keeps them in its own table (`SQLAlchemyJobStore`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection


def stored_next_runs(connection: Connection, table: str) -> dict[str, datetime | None]:
    """Job id -> next run time as APScheduler stored it in `table` (seconds since the epoch);
    empty when no scheduler ever ran (the table does not exist yet)."""
    from sqlalchemy import inspect, text

    if not inspect(connection).has_table(table):
        return {}
    rows = connection.execute(text(f"SELECT id, next_run_time FROM {table}")).all()  # noqa: S608 - our constant
    return {row[0]: (datetime.fromtimestamp(row[1], UTC) if row[1] is not None else None) for row in rows}
