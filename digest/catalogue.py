"""The catalogue: reading tools back (`digest tools list` / `show`).

Queries run through `digest.data` (sqlite3 on SQLite), so browsing the catalogue starts fast.
Records are plain dicts ready for JSON: every one carries `id`, `slug`, `name` and the rest of
the tool's fields, `feed` (the source feed's name) and `comparisons` (how many comparisons it
is in; `--new` lists the tools in none), and the launch decision: `launch`, `reason`,
`override` (the editor's keep or hide) and `shown` (whether the default views show it).
Only shown tools are listed unless `include_hidden` (`digest tools list --all`).
"""

from __future__ import annotations

from typing import Any

from digest.errors import NotFoundError
from digest.ids import check_count, is_id
from digest.data.codec import as_datetime, as_json
from digest.data.engine import Database

_COLUMNS = (
    "t.id, t.slug, t.name, t.url, t.tagline, t.description, t.category, t.vendor, t.price, "
    "t.published_at, t.first_seen_at, t.edited, t.launch, t.reason, t.override, t.page, f.name AS feed, "
    "(SELECT COUNT(*) FROM comparison c WHERE c.tool_a_id = t.id OR c.tool_b_id = t.id) AS comparisons"
)
_FROM = "FROM tool t LEFT JOIN feed f ON f.id = t.feed_id"
_NEWEST_FIRST = ("ORDER BY t.first_seen_at DESC, CASE WHEN t.published_at IS NULL THEN 1 ELSE 0 END, "
                 "t.published_at DESC, t.id DESC")


def _record(row: dict[str, Any]) -> dict[str, Any]:
    row["published_at"] = as_datetime(row["published_at"])
    row["first_seen_at"] = as_datetime(row["first_seen_at"])
    row["edited"] = as_json(row["edited"]) or []
    row["comparisons"] = int(row["comparisons"] or 0)
    row["launch"] = bool(row["launch"])
    row["shown"] = row["override"] == "keep" if row["override"] else row["launch"]
    row["page"] = as_json(row["page"])
    return row


# what the editor's default views show: the tool is a launch, or the editor kept it
SHOWN = "(t.override = 'keep' OR (t.override IS NULL AND t.launch = :true_))"


_BRIEF = "t.id, t.slug, t.name, t.tagline, t.category, t.price, t.first_seen_at, t.launch, t.reason, t.override"


def list_tools(db: Database, *, new: bool = False, category: str | None = None,
               limit: int | None = None, brief: bool = False,
               include_hidden: bool = False) -> list[dict[str, Any]]:
    """Shown tools, newest first; `new`: only those in no comparison yet; `category`:
    case-insensitive; `include_hidden`: the entries that are not launches too.

    `brief` reads only what a table shows (id, slug, name, tagline, category, price,
    first_seen_at, the decision), which keeps listing thousands of tools fast.
    """
    where: list[str] = []
    params: dict[str, Any] = {}
    if not include_hidden:
        where.append(SHOWN)
        params["true_"] = True
    if new:
        where.append("NOT EXISTS (SELECT 1 FROM comparison c WHERE c.tool_a_id = t.id OR c.tool_b_id = t.id)")
    if category is not None:
        where.append("LOWER(t.category) = LOWER(:category)")
        params["category"] = category.strip()
    sql = f"SELECT {_BRIEF} FROM tool t" if brief else f"SELECT {_COLUMNS} {_FROM}"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " " + _NEWEST_FIRST
    if check_count(limit, "--limit") is not None:
        sql += " LIMIT :limit"
        params["limit"] = limit
    rows = db.query(sql, params)
    if brief:
        for row in rows:
            row["first_seen_at"] = as_datetime(row["first_seen_at"])
            row["launch"] = bool(row["launch"])
            row["shown"] = row["override"] == "keep" if row["override"] else row["launch"]
        return rows
    return [_record(row) for row in rows]


def get_tool(db: Database, ref: str) -> dict[str, Any]:
    """The tool whose id or slug is `ref`, with its identity keys; NotFoundError otherwise."""
    ref = ref.strip()
    row = None
    if is_id(ref):
        row = db.one(f"SELECT {_COLUMNS} {_FROM} WHERE t.id = :id", {"id": int(ref)})
    if row is None:
        row = db.one(f"SELECT {_COLUMNS} {_FROM} WHERE t.slug = :slug", {"slug": ref.lower()})
    if row is None:
        raise NotFoundError(f"no tool with id or slug {ref!r}", hint="see `digest tools list`")
    record = _record(row)
    record["keys"] = db.query("SELECT kind, value FROM toolkey WHERE tool_id = :id ORDER BY kind, value",
                              {"id": record["id"]})
    return record


def categories(db: Database) -> list[str]:
    """The categories tools have, for hints when a --category filter matches nothing."""
    rows = db.query("SELECT DISTINCT category FROM tool WHERE category IS NOT NULL ORDER BY category")
    return [row["category"] for row in rows]
