"""Reading the audience back for `digest subscribers list` and `export`, without the ORM.

Why here and not in `digest.subscribers` (or `digest.data.subscribers`, whose upserts are built
from the models): those import SQLModel and the models, about as long as the rest of the
command, and listing is a read an editor runs often. The records
are the ones `digest.subscribers.subscriber_record` builds from ORM rows, key for key, on both
backends (sqlite3 on SQLite, SQLAlchemy `text()` on PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from digest.data.codec import as_datetime
from digest.data.engine import Database
from digest.errors import ValidationError
from digest.ids import check_count

# digest.models.SubscriberStatus's values, in its order (tests/test_subscribers.py checks)
STATUSES = ("pending", "active", "unsubscribed", "bounced", "complained")
# the BounceKinds that act on a reader: hard, soft and complaint
ACTING_KINDS = ("hard", "soft", "complaint")
_CHUNK = 500  # ids per IN (...): well under SQLite's variable limit
EXPORT_COLUMNS = ("email", "status", "source", "created_at", "confirmed_at", "unsubscribed_at",
                  "bounce_count")  # what `subscribers import` reads back
_EXPORT_PAGE = 1000  # subscribers read per query: the export streams in bounded memory
_COLUMNS = ("id, email, status, source, created_at, confirmed_at, unsubscribed_at, bounce_count, "
            "last_bounce")


def check_status(status: str | None) -> str | None:
    """A subscriber status as stored, from what the editor typed; ValidationError otherwise."""
    if status is None:
        return None
    cleaned = status.strip().lower()
    if cleaned not in STATUSES:
        raise ValidationError(f"{status!r} is not a subscriber status (one of {', '.join(STATUSES)})")
    return cleaned


def reason_text(status: str, last_bounce: str | None, event: dict[str, Any] | None) -> str | None:
    """Why a subscriber is not mailed: the latest bounce or complaint (kind, status code,
    reason), else the stored last bounce for a bounced one, else the status if it left."""
    if event is not None:
        code = f" {event['status']}" if event["status"] else ""
        return f"{event['kind']}{code}: {event['reason']}" if event["reason"] else f"{event['kind']}{code}"
    if status in ("unsubscribed", "bounced", "complained"):
        return last_bounce if status == "bounced" else status
    return None


def listing(db: Database, *, status: str | None = None,
            limit: int | None = None) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Subscribers by id (of one status, at most `limit`) as records, and the count per status."""
    status = check_status(status)
    limit = check_count(limit, "--limit", minimum=0)
    sql = f"SELECT {_COLUMNS} FROM subscriber" + (" WHERE status = :status" if status else "") + " ORDER BY id"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    rows = db.query(sql, {"status": status} if status else None)
    events = _latest_events(db, [r["id"] for r in rows if r["status"] in ("bounced", "complained")])
    records = [subscriber_record(row, events.get(row["id"])) for row in rows]
    counts = dict.fromkeys(STATUSES, 0)
    for row in db.query("SELECT status, COUNT(*) AS n FROM subscriber GROUP BY status"):
        counts[row["status"]] = int(row["n"])
    return records, counts


def _latest_events(db: Database, ids: list[int]) -> dict[int, dict[str, Any]]:
    found: dict[int, dict[str, Any]] = {}
    kinds = ", ".join(f"'{kind}'" for kind in ACTING_KINDS)
    for start in range(0, len(ids), _CHUNK):
        chunk = ", ".join(str(int(i)) for i in ids[start:start + _CHUNK])
        for event in db.query("SELECT subscriber_id, kind, status, reason, issue_number FROM bounceevent "
                              f"WHERE subscriber_id IN ({chunk}) AND kind IN ({kinds}) ORDER BY created_at, id"):
            found[event["subscriber_id"]] = event  # the latest wins
    return found


def subscriber_record(row: dict[str, Any], event: dict[str, Any] | None = None) -> dict[str, Any]:
    """A subscriber row as `--json` prints it; `event` is the latest bounce or complaint that
    suppressed it (kind, status, reason, issue_number), if any."""
    return {"id": row["id"], "email": row["email"], "status": row["status"], "source": row["source"],
            "created_at": as_datetime(row["created_at"]), "confirmed_at": as_datetime(row["confirmed_at"]),
            "unsubscribed_at": as_datetime(row["unsubscribed_at"]), "bounce_count": row["bounce_count"],
            "last_bounce": row["last_bounce"], "reason": reason_text(row["status"], row["last_bounce"], event),
            "issue": event["issue_number"] if event is not None else None}


def export_rows(db: Database, *, status: str | None = None) -> Iterator[list[str]]:
    """CSV rows (a header first), streamed in id order a page at a time; `import` reads them back.

    The status is checked before the first row is produced, so a bad one writes nothing
    (ValidationError). Run it inside one transaction: the pages are then one snapshot.
    """
    status = check_status(status)
    return _export(db, status)


def _export(db: Database, status: str | None) -> Iterator[list[str]]:
    yield list(EXPORT_COLUMNS)
    sql = ("SELECT id, email, status, source, created_at, confirmed_at, unsubscribed_at, bounce_count FROM subscriber "
           "WHERE id > :after" + (" AND status = :status" if status else "") + f" ORDER BY id LIMIT {_EXPORT_PAGE}")
    after = 0
    while True:
        rows = db.query(sql, {"after": after, **({"status": status} if status else {})})
        for row in rows:
            yield [row["email"], row["status"], row["source"], _iso(row["created_at"]), _iso(row["confirmed_at"]),
                   _iso(row["unsubscribed_at"]), str(row["bounce_count"])]
        if len(rows) < _EXPORT_PAGE:
            return
        after = rows[-1]["id"]


def _iso(value: Any) -> str:
    moment = as_datetime(value)
    return moment.isoformat() if moment is not None else ""
