"""Named leases in the database: compare-and-set with expiry, so twin processes never do one job twice.

A lease is a row (name, holder, expires_at). Taking it is one UPDATE that only succeeds when
the lease is free, expired or already ours, so two processes racing for it cannot both win on
SQLite or PostgreSQL, and a holder that died simply lets it expire. Holders renew long work.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING

from digest.models import Lease, utcnow

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine


def holder_id(role: str = "digest") -> str:
    """An identity unique to this process: host, pid and a random suffix."""
    return f"{role}@{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def acquire(engine: Engine, name: str, holder: str, *, ttl: timedelta) -> bool:
    """Take or renew the lease `name` for `ttl`; True if `holder` now holds it."""
    from sqlalchemy import or_, update

    from digest.db import insert_ignore, write_engine

    now = utcnow()
    with write_engine(engine).begin() as connection:
        insert_ignore(connection, Lease, {"name": name, "holder": "", "expires_at": now - timedelta(seconds=1)},
                      conflict=["name"])
        result = connection.execute(
            update(Lease)
            .where(Lease.name == name, or_(Lease.holder == holder, Lease.expires_at < now))
            .values(holder=holder, expires_at=now + ttl)
        )
        return result.rowcount == 1


def release(engine: Engine, name: str, holder: str) -> bool:
    """Give the lease back early; True if `holder` held it."""
    from sqlalchemy import update

    with engine.begin() as connection:
        result = connection.execute(
            update(Lease).where(Lease.name == name, Lease.holder == holder)
            .values(holder="", expires_at=utcnow() - timedelta(seconds=1))
        )
        return result.rowcount == 1


def current_holder(engine: Engine, name: str) -> str | None:
    """Who holds the lease now, None if it is free or expired."""
    from sqlalchemy import select

    with engine.connect() as connection:
        row = connection.execute(select(Lease.holder, Lease.expires_at).where(Lease.name == name)).first()
    if row is None or not row.holder or row.expires_at <= utcnow():
        return None
    return row.holder
