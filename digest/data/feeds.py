"""Feeds' polling state: the Feed rows a poll reads, syncs with feeds.toml and records outcomes on.

A poll holds each feed's state as a `FeedState` while it runs and writes every change through
one of the functions here, inside the caller's transaction; on both backends, through
`digest.data.engine` (no SQLAlchemy import on SQLite, so a poll starts fast).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from digest.data.codec import as_datetime
from digest.data.engine import Database


@dataclass
class FeedState:
    """One Feed row as a poll sees it: where to fetch, the validators for a conditional GET,
    and the failure/backoff state."""

    id: int
    name: str
    configured_url: str
    url: str
    category: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    last_status: int | None = None
    last_polled_at: datetime | None = None
    last_success_at: datetime | None = None
    next_poll_at: datetime | None = None
    error_count: int = 0
    last_error: str | None = None
    disabled: bool = False
    disabled_reason: str | None = None
    created_at: datetime | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> FeedState:
        for key in ("next_poll_at", "last_polled_at", "last_success_at", "created_at"):
            row[key] = as_datetime(row[key])
        row["disabled"] = bool(row["disabled"])
        row["error_count"] = int(row["error_count"] or 0)
        return cls(**row)

    def copy(self) -> FeedState:
        return dataclasses.replace(self)


_FIELDS = ", ".join(field.name for field in dataclasses.fields(FeedState))


def feed_states(db: Database) -> dict[str, FeedState]:
    """Every Feed row, by name."""
    return {row["name"]: FeedState.from_row(row) for row in db.query(f"SELECT {_FIELDS} FROM feed")}


def add_feed(db: Database, *, name: str, url: str, category: str | None, now: datetime) -> None:
    """A new feed of feeds.toml; nothing happens if another poll added it meanwhile."""
    db.execute("INSERT INTO feed (name, configured_url, url, category, error_count, disabled, created_at) "
               "VALUES (:name, :url, :url, :category, 0, :disabled, :now) ON CONFLICT (name) DO NOTHING",
               {"name": name, "url": url, "category": category, "disabled": False, "now": now})


def repoint_feed(db: Database, feed_id: int, *, url: str, category: str | None) -> None:
    """The owner pointed the feed elsewhere in feeds.toml: start afresh at the new address
    (no validators, no failures, enabled)."""
    db.execute("UPDATE feed SET configured_url = :url, url = :url, category = :category, etag = NULL, "
               "last_modified = NULL, error_count = 0, last_error = NULL, next_poll_at = NULL, "
               "disabled = :disabled, disabled_reason = NULL WHERE id = :id",
               {"url": url, "category": category, "disabled": False, "id": feed_id})


def set_feed_category(db: Database, feed_id: int, category: str | None) -> None:
    db.execute("UPDATE feed SET category = :category WHERE id = :id", {"category": category, "id": feed_id})


def record_feed_failure(db: Database, feed: FeedState, *, status: int | None, now: datetime) -> None:
    """Store a failed fetch: `feed` already holds the new error count, error, next poll time
    and disabled state."""
    db.execute("UPDATE feed SET last_status = :status, last_polled_at = :now, error_count = :errors, "
               "last_error = :error, next_poll_at = :next, disabled = :disabled, disabled_reason = :reason "
               "WHERE id = :id",
               {"status": status, "now": now, "errors": feed.error_count, "error": feed.last_error,
                "next": feed.next_poll_at, "disabled": feed.disabled, "reason": feed.disabled_reason,
                "id": feed.id})


def record_feed_success(db: Database, feed: FeedState, *, status: int, now: datetime,
                        validators: tuple[str | None, str | None] | None) -> None:
    """Store a successful fetch: failures cleared, `feed.url` and `feed.next_poll_at` as given;
    the (etag, last_modified) `validators` replace the stored ones unless None (a 304 keeps them)."""
    params = {"status": status, "now": now, "next": feed.next_poll_at, "url": feed.url,
              "disabled": False, "id": feed.id}
    extra = ""
    if validators is not None:
        extra = ", etag = :etag, last_modified = :last_modified"
        params.update(etag=validators[0], last_modified=validators[1])
    db.execute("UPDATE feed SET last_status = :status, last_polled_at = :now, last_success_at = :now, "
               "next_poll_at = :next, error_count = 0, last_error = NULL, url = :url, disabled = :disabled, "
               f"disabled_reason = NULL{extra} WHERE id = :id", params)
