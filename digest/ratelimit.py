"""Rate limits kept in the database, so they hold across worker processes and restarts.

A sliding window approximated from two fixed windows (the current and the previous one,
weighted by how much of it still overlaps), counted with one upsert per request: cheap, and
without the burst at a fixed window's edge. Keys are hashed by the caller when they hold
personal data (client addresses).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from digest.data.subscribers import count_request

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    retry_after: int  # seconds until a request would be allowed again (0 when allowed)


def hit(connection: Connection, *, key: str, limit: int, window: int, now: float | None = None) -> RateDecision:
    """Count one request under `key` and say whether it is within `limit` per `window` seconds.

    Every request counts, refused ones too, so a client that keeps hammering stays refused.
    A limit of 0 refuses everything.
    """
    now = time.time() if now is None else now
    start = int(now // window) * window
    current, previous = count_request(connection, key=key, window_start=start, window=window)
    overlap = 1.0 - (now - start) / window
    estimate = previous * overlap + current
    if estimate <= limit:
        return RateDecision(True, 0)
    # When would the estimate drop to the limit, if nothing else arrived? The previous window's
    # weight falls linearly; once it is gone only this window's count remains.
    if previous and current <= limit:
        wait = (estimate - limit) / previous * window
    else:
        wait = start + window - now
    return RateDecision(False, max(1, int(wait + 0.999)))
