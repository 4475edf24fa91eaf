"""Tools and their identity keys: naming a tool, reading the catalogue, the dedupe's writes,
the landing-page facts.

Every function takes a `digest.data.engine.Database` (no SQLAlchemy import on SQLite: polling
and `digest tools list` must start fast) and works on both backends; `resolve_tool` also takes
an ORM Session, so the editorial commands name tools by exactly the same rule.
Values come back decoded: aware UTC datetimes, JSON as Python values, booleans as bool.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from digest.data.codec import as_datetime, as_json
from digest.data.engine import Database
from digest.errors import NotFoundError, ValidationError
from digest.ids import check_count, is_id, parse_id

if TYPE_CHECKING:
    from datetime import datetime

    from sqlmodel import Session

CHUNK = 400  # values per IN (...) list: well under SQLite's 999-parameter limit of old builds
INSERT_ROWS = 150  # tools per multi-row INSERT (14 columns each)
TOOL_FIELDS = ("name", "url", "tagline", "description", "category", "vendor", "price", "published_at")
DECISION_FIELDS = ("launch", "reason")
NEW_TOOL_COLUMNS = ("slug", "name", "url", "tagline", "description", "category", "vendor", "price",
                    "published_at", "first_seen_at", "feed_id", "edited", "launch", "reason")


_new_tool_values = operator.itemgetter(*NEW_TOOL_COLUMNS)


def _in_list(prefix: str, values: Sequence[Any]) -> tuple[str, dict[str, Any]]:
    params = {f"{prefix}{i}": v for i, v in enumerate(values)}
    return ", ".join(":" + name for name in params), params


# --- naming a tool ----------------------------------------------------------------------------

_RESOLVE = ("SELECT id, 0 AS rank FROM tool WHERE slug = :slug "
            "UNION ALL SELECT id, 1 AS rank FROM tool WHERE id = :id ORDER BY rank LIMIT 1")


def resolve_tool(db: Database | Session, ref: str | int) -> int:
    """The id of the tool `ref` names, by the one rule every command uses (tools show, edit,
    merge, keep, hide, enrich; pair; review):

    * `#12` is always the tool with id 12;
    * otherwise a tool whose slug equals `ref` (in any case) wins;
    * a bare number names the tool with that id only when no slug equals it (slugs may be all
      digits: a tool called "1984" has the slug `1984`, and `1984` names it, not tool #1984).

    Raises ValidationError for an empty reference or a malformed `#id`, NotFoundError when no
    tool matches.
    """
    text = str(ref).strip()
    if not text:
        raise ValidationError("a tool is named by its id or slug; got an empty value")
    if text.startswith("#"):
        params = {"slug": None, "id": parse_id(text, "tool id")}
    else:
        params = {"slug": text.lower(), "id": int(text) if is_id(text) else None}
    if isinstance(db, Database):
        row = db.one(_RESOLVE, params)
    else:  # an ORM Session (the editorial commands)
        from sqlalchemy import text as sql_text

        db.flush()  # what the ORM would do before a query: a slug just changed is found
        row = db.connection().execute(sql_text(_RESOLVE), params).mappings().first()
    if row is None:
        raise NotFoundError(f"no tool {text!r}", hint="`digest tools list` shows ids and slugs")
    return int(row["id"])


# --- the catalogue (`digest tools list` / `show`) ---------------------------------------------

_COLUMNS = (
    "t.id, t.slug, t.name, t.url, t.tagline, t.description, t.category, t.vendor, t.price, "
    "t.published_at, t.first_seen_at, t.edited, t.launch, t.reason, t.override, t.page, f.name AS feed, "
    "(SELECT COUNT(*) FROM comparison c WHERE c.tool_a_id = t.id OR c.tool_b_id = t.id) AS comparisons"
)
_FROM = "FROM tool t LEFT JOIN feed f ON f.id = t.feed_id"
_BRIEF = "t.id, t.slug, t.name, t.tagline, t.category, t.price, t.first_seen_at, t.launch, t.reason, t.override"
_NEWEST_FIRST = ("ORDER BY t.first_seen_at DESC, CASE WHEN t.published_at IS NULL THEN 1 ELSE 0 END, "
                 "t.published_at DESC, t.id DESC")
# what the editor's default views show: the tool is a launch, or the editor kept it
_SHOWN = "(t.override = 'keep' OR (t.override IS NULL AND t.launch = :true_))"


def is_shown(override: str | None, launch: bool) -> bool:
    """Whether the editor's default views show a tool: the editor's keep or hide, else the
    launch detection's decision (the rule `_SHOWN` says in SQL)."""
    return override == "keep" if override else bool(launch)


def _decided(row: dict[str, Any]) -> dict[str, Any]:
    row["launch"] = bool(row["launch"])
    row["shown"] = is_shown(row["override"], row["launch"])
    return row


def _shown(row: dict[str, Any]) -> dict[str, Any]:
    row["first_seen_at"] = as_datetime(row["first_seen_at"])
    return _decided(row)


def _record(row: dict[str, Any]) -> dict[str, Any]:
    row["published_at"] = as_datetime(row["published_at"])
    row["edited"] = as_json(row["edited"]) or []
    row["comparisons"] = int(row["comparisons"] or 0)
    row["page"] = as_json(row["page"])
    return _shown(row)


def catalogue_rows(db: Database, *, new: bool = False, category: str | None = None, limit: int | None = None,
                   brief: bool = False, include_hidden: bool = False) -> list[dict[str, Any]]:
    """Tools newest first, as `digest.catalogue.list_tools` documents them."""
    where: list[str] = []
    params: dict[str, Any] = {}
    if not include_hidden:
        where.append(_SHOWN)
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
    return [_shown(row) for row in rows] if brief else [_record(row) for row in rows]


def catalogue_record(db: Database, tool_id: int) -> dict[str, Any]:
    """One tool with every field, its feed's name, its comparison count and its identity keys."""
    row = db.one(f"SELECT {_COLUMNS} {_FROM} WHERE t.id = :id", {"id": tool_id})
    if row is None:
        raise NotFoundError(f"no tool #{tool_id}", hint="`digest tools list` shows ids and slugs")
    record = _record(row)
    record["keys"] = db.query("SELECT kind, value FROM toolkey WHERE tool_id = :id ORDER BY kind, value",
                              {"id": tool_id})
    return record


def categories(db: Database) -> list[str]:
    """The categories tools have."""
    rows = db.query("SELECT DISTINCT category FROM tool WHERE category IS NOT NULL ORDER BY category")
    return [row["category"] for row in rows]


# --- the editor's corrections (`digest tools edit|keep|hide`) ---------------------------------

_EDITABLE_COLUMNS = "id, slug, name, tagline, description, category, price, vendor, url, edited, launch, reason, override"


def editable_tool(db: Database, tool_id: int) -> dict[str, Any]:
    """The fields the editor corrects, `edited` (a list), the launch decision and `shown`;
    NotFoundError when the tool is gone."""
    row = db.one(f"SELECT {_EDITABLE_COLUMNS} FROM tool t WHERE t.id = :id", {"id": tool_id})
    if row is None:
        raise NotFoundError(f"no tool #{tool_id}", hint="`digest tools list` shows ids and slugs")
    row["edited"] = as_json(row["edited"]) or []
    return _decided(row)


def slug_holder(db: Database, slug: str) -> dict[str, Any] | None:
    """The id and name of the tool with this slug, if any."""
    return db.one("SELECT id, name FROM tool WHERE slug = :slug", {"slug": slug})


# --- identity keys and the dedupe's writes ----------------------------------------------------

def known_keys(db: Database, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """Which of the (kind, value) `keys` are known, and the tool each belongs to."""
    by_kind: dict[str, list[str]] = {}
    for kind, value in set(keys):
        by_kind.setdefault(kind, []).append(value)
    known: dict[tuple[str, str], int] = {}
    for kind, values in by_kind.items():
        for start in range(0, len(values), CHUNK):
            placeholders, params = _in_list("v", values[start:start + CHUNK])
            rows = db.query(f"SELECT value, tool_id FROM toolkey WHERE kind = :kind AND value IN ({placeholders})",
                            {"kind": kind, **params})
            known.update({(kind, row["value"]): int(row["tool_id"]) for row in rows})
    return known


def tools_to_match(db: Database, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """What the dedupe compares an entry with, for each tool of `ids`: the feed fields, the
    launch decision, `feed_id`, `edited` and `first_seen_at`; by id."""
    ids = sorted(set(ids))
    tools: dict[int, dict[str, Any]] = {}
    for start in range(0, len(ids), CHUNK):
        placeholders, params = _in_list("i", ids[start:start + CHUNK])
        rows = db.query(f"SELECT id, {', '.join(TOOL_FIELDS + DECISION_FIELDS)}, feed_id, edited, first_seen_at "
                        f"FROM tool WHERE id IN ({placeholders})", params)
        for row in rows:
            row["published_at"] = as_datetime(row["published_at"])
            row["first_seen_at"] = as_datetime(row["first_seen_at"])
            row["edited"] = as_json(row["edited"]) or []
            row["launch"] = bool(row["launch"])
            tools[int(row["id"])] = row
    return tools


def slug_taken(db: Database, slug: str) -> bool:
    return bool(db.scalar("SELECT 1 AS taken FROM tool WHERE slug = :slug", {"slug": slug}))


def taken_slugs(db: Database, slugs: Iterable[str]) -> set[str]:
    """Which of `slugs` some tool has."""
    unique = sorted(set(slugs))
    taken: set[str] = set()
    for start in range(0, len(unique), CHUNK):
        placeholders, params = _in_list("s", unique[start:start + CHUNK])
        taken.update(row["slug"] for row in db.query(f"SELECT slug FROM tool WHERE slug IN ({placeholders})", params))
    return taken


@functools.cache
def _param_names(number: int) -> tuple[str, ...]:
    return tuple(f"{column}_{number}" for column in NEW_TOOL_COLUMNS)


@functools.cache
def _insert_sql(rows: int) -> str:
    values = ", ".join("(" + ", ".join(":" + name for name in _param_names(n)) + ")" for n in range(rows))
    return f"INSERT INTO tool ({', '.join(NEW_TOOL_COLUMNS)}) VALUES {values} RETURNING id, slug"


def insert_tools(db: Database, rows: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """Insert new tools (each row holds every NEW_TOOL_COLUMNS value) in a few statements;
    their ids by slug. Conflict if a slug is taken."""
    ids_by_slug: dict[str, int] = {}
    for start in range(0, len(rows), INSERT_ROWS):
        chunk = rows[start:start + INSERT_ROWS]
        params: dict[str, Any] = {}
        for number, row in enumerate(chunk):
            params.update(zip(_param_names(number), _new_tool_values(row)))
        ids_by_slug.update({r["slug"]: int(r["id"]) for r in db.query(_insert_sql(len(chunk)), params)})
    return ids_by_slug


def add_keys(db: Database, keys: Iterable[Mapping[str, Any]], *, skip_taken: bool = False) -> None:
    """Insert identity keys (`kind`, `value`, `tool_id`; plain str/int values). Conflict when a
    key is already held, unless `skip_taken`: then a key another tool holds stays with it."""
    sql = "INSERT INTO toolkey (kind, value, tool_id) VALUES (:kind, :value, :tool_id)"
    if skip_taken:
        sql += " ON CONFLICT (kind, value) DO NOTHING"
    db.executemany(sql, keys, plain=True)


def update_tool(db: Database, tool_id: int, changes: Mapping[str, Any]) -> None:
    """Set the given columns of one tool (names are the caller's, never user input)."""
    assignments = ", ".join(f"{name} = :{name}" for name in changes)
    db.execute(f"UPDATE tool SET {assignments} WHERE id = :id", {**changes, "id": tool_id})


# --- landing pages (digest/enrich.py) ---------------------------------------------------------

_PAGE_COLUMNS = "id, slug, url, tagline, price, edited"


def tools_by_slugs(db: Database, slugs: Sequence[str]) -> list[dict[str, Any]]:
    """The enrich fields (id, slug, url, tagline, price, edited) of the tools named by `slugs`."""
    placeholders, params = _in_list("s", slugs)
    return db.query(f"SELECT {_PAGE_COLUMNS} FROM tool WHERE slug IN ({placeholders})", params)


def tools_to_enrich(db: Database, *, limit: int) -> list[dict[str, Any]]:
    """Shown tools with a URL whose page has not been read yet, newest first, at most `limit`."""
    return db.query(f"SELECT {_PAGE_COLUMNS} FROM tool t WHERE t.enriched_at IS NULL AND t.url IS NOT NULL "
                    f"AND {_SHOWN} ORDER BY t.first_seen_at DESC, t.id DESC LIMIT :limit",
                    {"true_": True, "limit": limit})


def store_page(db: Database, tool_id: int, *, page: dict[str, Any], now: datetime,
               changes: Mapping[str, Any]) -> None:
    """Keep what a tool's landing page says (and the fields it fills) and when it was read."""
    assignments = "".join(f", {name} = :{name}" for name in changes)
    db.execute(f"UPDATE tool SET page = :page, enriched_at = :now{assignments} WHERE id = :id",
               {"page": page, "now": now, **changes, "id": tool_id})
