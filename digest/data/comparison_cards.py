"""Reading comparisons back for `digest comparison list`, `digest comparison show` and
`digest issue show`, without the ORM.

Why: the ORM path (`digest.editorial.cards.list_cards`) imports SQLModel and the models, longer
than the rest of the command, and listing comparisons is a read an editor runs often. The rows
carry the columns a card reads, as attributes, decoded as the ORM decodes them (aware UTC
datetimes, JSON lists), on both backends (sqlite3 on SQLite, SQLAlchemy `text()` on
PostgreSQL); `digest.editorial.card_view.build_card` turns them into the same cards.
`digest issue render` reads its issue (and the previous one that went out) here too, for the
same reason: see `digest.view.read_issue_data`.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from digest.data.codec import as_datetime, as_json
from digest.data.engine import Database
from digest.issue_state import GONE_OUT

_TOOL = ("id, slug, name, url, tagline, description, category, vendor, price, published_at, first_seen_at, "
         "feed_id, edited")
_TIMES = ("created_at", "updated_at", "published_at", "first_seen_at", "scheduled_at", "queued_at", "sent_at")
_COMPARISON = "c.id, c.title, c.pricing_read, c.created_at, c.updated_at, c.tool_a_id, c.tool_b_id"


@dataclass(frozen=True)
class CardRows:
    """What one comparison's card is built from."""

    comparison: Any
    tool_a: Any
    tool_b: Any
    reviews: list[Any]
    votes: tuple[int, int]
    issue: Any


def _record(row: dict[str, Any]) -> SimpleNamespace:
    values = {key: as_datetime(value) if key in _TIMES else value for key, value in row.items()}
    if "edited" in values:
        values["edited"] = as_json(values["edited"])
    return SimpleNamespace(**values)


def comparison_rows(db: Database, *, unassigned: bool = False) -> list[CardRows]:
    """Every comparison (in no issue, with `unassigned`), newest first, with its tools, reviews
    in id order, votes for A and B, and its issue."""
    sql = f"SELECT {_COMPARISON} FROM comparison c"
    if unassigned:
        sql += " WHERE c.id NOT IN (SELECT comparison_id FROM issuecomparison)"
    return _card_rows(db, db.query(sql + " ORDER BY c.id DESC"))


def one_comparison_rows(db: Database, comparison_id: int) -> CardRows | None:
    """The comparison with this id, with its tools, reviews, votes and issue; None if there is none."""
    found = db.query(f"SELECT {_COMPARISON} FROM comparison c WHERE c.id = :id", {"id": comparison_id})
    return _card_rows(db, found, _ONE, {"id": comparison_id})[0] if found else None


def issue_rows(db: Database, number: int) -> tuple[SimpleNamespace | None, list[CardRows]]:
    """The issue numbered `number` (None if there is none) and its comparisons in reading order."""
    found = db.one("SELECT id, number, status, subject, preheader, intro, scheduled_at, queued_at, sent_at, "
                   "created_at, updated_at FROM issue WHERE number = :number", {"number": number})
    if found is None:
        return None, []
    comparisons = db.query(f"SELECT {_COMPARISON} FROM issuecomparison ic JOIN comparison c "
                           "ON c.id = ic.comparison_id WHERE ic.issue_id = :id ORDER BY ic.position, ic.id",
                           {"id": found["id"]})
    return _record(found), _card_rows(db, comparisons, _IN_ISSUE, {"id": found["id"]})


def previous_sent_number(db: Database, number: int) -> int | None:
    """The number of the latest issue before `number` that has gone out (sending or sent), if
    any: the one whose community votes the next issue reports (as `previous_sent_issue` in
    `digest.editorial.issues` finds it)."""
    gone_out = {f"s{i}": status for i, status in enumerate(sorted(GONE_OUT))}
    return db.scalar(f"SELECT number FROM issue WHERE number < :number AND status IN "
                     f"({', '.join(':' + key for key in gone_out)}) ORDER BY number DESC LIMIT 1",
                     {"number": number, **gone_out})


_EVERY = "SELECT id FROM comparison"
_ONE = "SELECT id FROM comparison WHERE id = :id"
_IN_ISSUE = "SELECT comparison_id FROM issuecomparison WHERE issue_id = :id"


def _card_rows(db: Database, comparisons: list[dict[str, Any]], scope: str = _EVERY,
               params: dict[str, Any] | None = None) -> list[CardRows]:
    """The cards' rows of `comparisons`; the tools, reviews, votes and issues are read for the
    comparison ids `scope` selects (every comparison, or one issue's: its votes alone may be
    most of the vote table's rows, never all of them)."""
    params = params or {}
    tools = {row["id"]: _record(row) for row in db.query(
        f"SELECT {_TOOL} FROM tool WHERE id IN (SELECT tool_a_id FROM comparison WHERE id IN ({scope}) UNION "
        f"SELECT tool_b_id FROM comparison WHERE id IN ({scope}))", params)}
    reviews: dict[int, list[Any]] = {}
    for row in db.query("SELECT id, comparison_id, tool_id, reviewer, verdict, quote, created_at, updated_at "
                        f"FROM review WHERE comparison_id IN ({scope}) ORDER BY id", params):
        reviews.setdefault(row["comparison_id"], []).append(_record(row))
    votes: dict[tuple[int, str], int] = {}
    for row in db.query(f"SELECT comparison_id, choice, count(*) AS n FROM vote WHERE comparison_id IN ({scope}) "
                        "GROUP BY comparison_id, choice", params):
        votes[(row["comparison_id"], row["choice"])] = int(row["n"])
    issues = {row["comparison_id"]: SimpleNamespace(number=row["number"], status=row["status"]) for row in db.query(
        "SELECT ic.comparison_id, i.number, i.status FROM issuecomparison ic JOIN issue i ON i.id = ic.issue_id "
        f"WHERE ic.comparison_id IN ({scope})", params)}
    return [CardRows(_record(c), tools[c["tool_a_id"]], tools[c["tool_b_id"]], reviews.get(c["id"], []),
                     (votes.get((c["id"], "a"), 0), votes.get((c["id"], "b"), 0)), issues.get(c["id"]))
            for c in comparisons]
