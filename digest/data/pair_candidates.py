"""Reading the week's catalogue back for `digest suggest`, without the ORM.

Why here: `digest.editorial.suggest` used to read through SQLModel, and importing it and the
models was most of the command's start-up (issue 14 §4); `suggest` is a read an editor runs
every week. The rows are plain `CandidateTool` records, decoded as the ORM decodes them (aware
UTC datetimes), on both backends (sqlite3 on SQLite, SQLAlchemy `text()` on PostgreSQL); the
scoring in `digest.editorial.suggest` works on them alone. tests/golden/suggest.json holds what
the ORM version printed for every option, on both backends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from digest.data.codec import as_datetime
from digest.data.engine import Database

# `digest.models.Tool.shown`: the editor's "keep" wins, "hide" hides, else the launch judgement
_SHOWN = "(override = 'keep' OR (override IS NULL AND launch))"


@dataclass(frozen=True)
class CandidateTool:
    """The tool columns a suggestion reads: its words, its category and how to name it."""

    id: int
    slug: str
    name: str
    tagline: str
    description: str
    category: str | None
    first_seen_at: datetime | None


@dataclass(frozen=True)
class PairCatalogue:
    """What suggestions are made from, before any rule about pairing is applied."""

    since: datetime | None  # the last sent issue's send time; None: every tool counts as new
    tools: list[CandidateTool]  # shown tools first seen after `since`, oldest first (then by id)
    compared: set[frozenset[int]]  # the tool ids of every comparison
    earlier: list[int]  # ids of the shown tools first seen at or before `since`: what --include-older adds


def last_sent_at(db: Database) -> datetime | None:
    """When the last sent issue went out; None when no issue was sent yet."""
    return as_datetime(db.scalar("SELECT max(sent_at) AS sent_at FROM issue WHERE status = 'sent'"))


def read_catalogue(db: Database, *, include_older: bool = False) -> PairCatalogue:
    """The shown tools found since the last sent issue (all of them with `include_older`), the
    pairs already compared, and the shown tools found before it (hidden ones are never
    candidates, so the hint to use --include-older counts only what it would add)."""
    since = None if include_older else last_sent_at(db)
    sql = f"SELECT id, slug, name, tagline, description, category, first_seen_at FROM tool WHERE {_SHOWN}"
    if since is not None:
        sql += " AND first_seen_at > :since"
    rows = db.query(sql + " ORDER BY first_seen_at, id", {"since": since} if since is not None else None)
    tools = [CandidateTool(r["id"], r["slug"], r["name"], r["tagline"], r["description"], r["category"],
                           as_datetime(r["first_seen_at"])) for r in rows]
    compared = {frozenset((r["tool_a_id"], r["tool_b_id"]))
                for r in db.query("SELECT tool_a_id, tool_b_id FROM comparison")}
    earlier = [] if since is None else [
        r["id"] for r in db.query(f"SELECT id FROM tool WHERE {_SHOWN} AND first_seen_at <= :since", {"since": since})]
    return PairCatalogue(since=since, tools=tools, compared=compared, earlier=earlier)
