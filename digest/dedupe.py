"""Store: normalised entries -> tools, deduplicated across feeds and polls.

A tool is known by its ToolKey rows: the feed's guid for the entry (scoped by feed name,
since guids are only unique within a feed), the canonical URL, and the normalised name. An
entry whose keys are already known updates (or leaves alone) that tool and adds its missing
keys; an entry with no known key becomes a new tool.

The unique (kind, value) constraint on ToolKey is the guarantee against twins: on SQLite the
whole batch runs under the write lock, and on PostgreSQL a writer that loses a race gets a
Conflict inside its savepoint, rolls back just that tool, re-reads the keys and uses the tool
the other writer created.

Fields named in `Tool.edited` belong to the editor: nothing here ever writes them. Fields a
tool's own source feed reports are refreshed when they change; other feeds only fill gaps,
unless one describes the tool more fully, in which case it becomes the source. The launch
decision (`launch`, `reason`) follows the source feed too, and any feed that judges the tool a
launch makes it one; the editor's `override` (keep or hide) is never written here.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from digest.errors import DatabaseError
from digest.feeds import Entry
from digest.normalise import bounded_key, name_key, slugify, url_key
from digest.data.codec import as_datetime, as_json
from digest.data.engine import Conflict, Database

TOOL_FIELDS = ("name", "url", "tagline", "description", "category", "vendor", "price", "published_at")
DECISION_FIELDS = ("launch", "reason")
_CHUNK = 400
_ATTEMPTS = 5


@dataclass
class StoreResult:
    new: list[int] = field(default_factory=list)  # ids of tools created
    new_slugs: list[str] = field(default_factory=list)  # their slugs, in the same order
    updated: list[int] = field(default_factory=list)  # ids of tools whose fields changed
    unchanged: int = 0  # entries that matched a tool and changed nothing


def entry_keys(entry: Entry, feed_name: str) -> list[tuple[str, str]]:
    """The identity keys of an entry, strongest first."""
    keys: list[tuple[str, str]] = []
    if entry.guid:
        keys.append(("guid", bounded_key(f"{feed_name}|{entry.guid}")))
    by_url = entry.url_key or url_key(entry.url)
    if by_url:
        keys.append(("url", by_url))
    by_name = entry.name_key or name_key(entry.name)
    if by_name:
        keys.append(("name", by_name))
    return keys


def lookup_keys(db: Database, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """Which of `keys` are known, and the tool each belongs to."""
    by_kind: dict[str, list[str]] = {}
    for kind, value in set(keys):
        by_kind.setdefault(kind, []).append(value)
    known: dict[tuple[str, str], int] = {}
    for kind, values in by_kind.items():
        for start in range(0, len(values), _CHUNK):
            chunk = values[start:start + _CHUNK]
            names = {f"v{i}": v for i, v in enumerate(chunk)}
            placeholders = ", ".join(f":{n}" for n in names)
            rows = db.query(f"SELECT value, tool_id FROM toolkey WHERE kind = :kind AND value IN ({placeholders})",
                            {"kind": kind, **names})
            known.update({(kind, row["value"]): int(row["tool_id"]) for row in rows})
    return known


def _load_tools(db: Database, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    ids = sorted(set(ids))
    tools: dict[int, dict[str, Any]] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        names = {f"i{i}": v for i, v in enumerate(chunk)}
        rows = db.query(f"SELECT id, {', '.join(TOOL_FIELDS + DECISION_FIELDS)}, feed_id, edited, first_seen_at FROM tool "
                        f"WHERE id IN ({', '.join(':' + n for n in names)})", names)
        for row in rows:
            row["published_at"] = as_datetime(row["published_at"])
            row["first_seen_at"] = as_datetime(row["first_seen_at"])
            row["edited"] = as_json(row["edited"]) or []
            row["launch"] = bool(row["launch"])
            tools[int(row["id"])] = row
    return tools


def planned_changes(tool: dict[str, Any], entry: Entry, *, from_source_feed: bool) -> dict[str, Any]:
    """The fields an entry may change on a known tool (never an edited one)."""
    edited = set(tool.get("edited") or [])
    changes: dict[str, Any] = {}
    for name in TOOL_FIELDS:
        if name in edited:
            continue
        new = getattr(entry, name)
        if new is None or new == "" or (name == "price" and new == "unknown"):
            continue
        old = tool.get(name)
        if old == new:
            continue
        empty = old is None or old == "" or (name == "price" and old == "unknown")
        if from_source_feed or empty:
            changes[name] = new
    if entry.reason and tool.get("reason") != entry.reason and \
            (from_source_feed or (entry.launch and not tool.get("launch"))):
        changes["launch"], changes["reason"] = entry.launch, entry.reason
    return changes


def takes_over(tool: dict[str, Any], entry: Entry) -> bool:
    """Whether another feed's entry should become the tool's source: it describes the tool
    more fully. The fullest description wins whatever order feeds arrive in, and a later poll
    of the shorter feed changes nothing, so the tool never flips between sources."""
    if "description" in (tool.get("edited") or []):
        return False
    return len(entry.description) > len(tool.get("description") or "")


def allocate_slug(db: Database, name: str, *, also_taken: set[str] | None = None) -> str:
    """A slug from `name` that no tool has yet: `patchwise`, else `patchwise-2`, `-3`, ..."""
    base = slugify(name)
    candidate, number = base, 1
    while (also_taken and candidate in also_taken) or \
            db.scalar("SELECT 1 AS taken FROM tool WHERE slug = :slug", {"slug": candidate}):
        number += 1
        candidate = f"{base}-{number}"
    return candidate


def _allocate_slugs(db: Database, names: Sequence[str]) -> list[str]:
    """Distinct free slugs for several new tools, with one query in the common case."""
    bases = [slugify(name) for name in names]
    taken: set[str] = set()
    unique = sorted(set(bases))
    for start in range(0, len(unique), _CHUNK):
        chunk = {f"s{i}": v for i, v in enumerate(unique[start:start + _CHUNK])}
        rows = db.query(f"SELECT slug FROM tool WHERE slug IN ({', '.join(':' + k for k in chunk)})", chunk)
        taken.update(row["slug"] for row in rows)
    slugs: list[str] = []
    used: set[str] = set()
    for name, base in zip(names, bases):
        slug = base if base not in taken and base not in used else allocate_slug(db, name, also_taken=used)
        used.add(slug)
        slugs.append(slug)
    return slugs


_TOOL_COLUMNS = ("slug", "name", "url", "tagline", "description", "category", "vendor", "price",
                 "published_at", "first_seen_at", "feed_id", "edited", "launch", "reason")
_INSERT_ROWS = 150
_row_values = operator.itemgetter(*_TOOL_COLUMNS)


@functools.cache
def _param_names(number: int) -> tuple[str, ...]:
    return tuple(f"{column}_{number}" for column in _TOOL_COLUMNS)


@functools.cache
def _insert_sql(rows: int) -> str:
    values = ", ".join("(" + ", ".join(":" + name for name in _param_names(n)) + ")" for n in range(rows))
    return f"INSERT INTO tool ({', '.join(_TOOL_COLUMNS)}) VALUES {values} RETURNING id, slug"


def _new_row(entry: Entry, *, feed_id: int | None, seen_at: datetime) -> dict[str, Any]:
    return {**{name: getattr(entry, name) for name in TOOL_FIELDS + DECISION_FIELDS},
            "first_seen_at": seen_at, "feed_id": feed_id, "edited": []}


def _insert_tools(db: Database, rows: Sequence[dict[str, Any]],
                  keys: Sequence[Sequence[tuple[str, str]]]) -> list[int]:
    """Insert new tools and their keys in a few statements; Conflict (and nothing written) if
    any key or slug is already taken."""
    with db.savepoint("new_tools"):
        for row, slug in zip(rows, _allocate_slugs(db, [row["name"] for row in rows])):
            row["slug"] = slug
        ids_by_slug: dict[str, int] = {}
        for start in range(0, len(rows), _INSERT_ROWS):
            chunk = rows[start:start + _INSERT_ROWS]
            params: dict[str, Any] = {}
            for number, row in enumerate(chunk):
                params.update(zip(_param_names(number), _row_values(row)))
            returned = db.query(_insert_sql(len(chunk)), params)
            ids_by_slug.update({r["slug"]: int(r["id"]) for r in returned})
        ids = [ids_by_slug[row["slug"]] for row in rows]
        db.executemany("INSERT INTO toolkey (kind, value, tool_id) VALUES (:kind, :value, :tool_id)",
                       [{"kind": kind, "value": value, "tool_id": tool_id}
                        for tool_id, tool_keys in zip(ids, keys) for kind, value in tool_keys], plain=True)
    return ids


def _insert_one_by_one(db: Database, rows: Sequence[dict[str, Any]],
                       keys: Sequence[Sequence[tuple[str, str]]]) -> list[int]:
    """The slow path after a conflict: each tool on its own, its keys re-read first, so that a
    tool another writer created meanwhile is used rather than twinned."""
    created: list[int] = []
    for row, tool_keys in zip(rows, keys):
        row.pop("slug", None)
        for attempt in range(1, _ATTEMPTS + 1):
            if lookup_keys(db, tool_keys):
                break
            try:
                created += _insert_tools(db, [row], [tool_keys])
                break
            except Conflict:
                if attempt == _ATTEMPTS:
                    raise DatabaseError(f"could not store the tool {row['name']!r}: its keys kept "
                                        "conflicting with concurrent writers") from None
    return created


def store_entries(db: Database, *, feed_id: int | None, feed_name: str, entries: Sequence[Entry],
                  seen_at: datetime, trusted: bool = True) -> StoreResult:
    """Create or update the tools of `entries`; call inside a write transaction.

    `seen_at` is the poll's start: the first-seen time of new tools, the same for every feed of
    one poll, so a launch two feeds carry counts once as new and not also as updated.
    `trusted=False` (an ill-formed feed) only adds tools and fills empty fields: a garbled
    parse never overwrites what a good one stored.

    Guarantees: no two tools share a key (so no twins, even with concurrent polls), and no
    field listed in a tool's `edited` is written. Raises DatabaseError if new tools cannot be
    stored after repeated conflicts with concurrent writers.
    """
    result = StoreResult()
    all_keys = [entry_keys(entry, feed_name) for entry in entries]
    known = lookup_keys(db, (key for keys in all_keys for key in keys))
    tools = _load_tools(db, known.values())
    updated_ids: set[int] = set()
    pending: list[dict[str, Any]] = []  # new tools, inserted together at the end
    pending_keys: list[list[tuple[str, str]]] = []
    pending_by_key: dict[tuple[str, str], int] = {}
    extra_keys: list[dict[str, Any]] = []  # new keys of known tools
    for entry, keys in zip(entries, all_keys):
        tool_id = next((known[key] for key in keys if key in known), None)
        if tool_id is None:
            index = next((pending_by_key[key] for key in keys if key in pending_by_key), None)
            if index is None:  # a new tool
                index = len(pending)
                pending.append(_new_row(entry, feed_id=feed_id, seen_at=seen_at))
                pending_keys.append([])
            else:  # the same launch twice in one feed: the later entry refines it
                pending[index].update(planned_changes(pending[index], entry, from_source_feed=True))
            for key in keys:
                if key not in pending_by_key:
                    pending_by_key[key] = index
                    pending_keys[index].append(key)
            continue
        tool = tools[tool_id]
        for key in keys:
            if key not in known:
                known[key] = tool_id
                extra_keys.append({"kind": key[0], "value": key[1], "tool_id": tool_id})
        from_source = trusted and (tool.get("feed_id") == feed_id or takes_over(tool, entry))
        changes = planned_changes(tool, entry, from_source_feed=from_source)
        if from_source and tool.get("feed_id") != feed_id:
            changes["feed_id"] = feed_id
        if changes:
            assignments = ", ".join(f"{name} = :{name}" for name in changes)
            db.execute(f"UPDATE tool SET {assignments} WHERE id = :id", {**changes, "id": tool_id})
            tool.update(changes)
            # a tool first seen in this same poll (another feed's launch) is new, not updated
            if tool_id not in updated_ids and tool.get("first_seen_at") != seen_at:
                updated_ids.add(tool_id)
                result.updated.append(tool_id)
        elif tool_id not in updated_ids:
            result.unchanged += 1
    if extra_keys:
        # a key another tool took meanwhile is left to that tool
        db.executemany("INSERT INTO toolkey (kind, value, tool_id) VALUES (:kind, :value, :tool_id) "
                       "ON CONFLICT (kind, value) DO NOTHING", extra_keys, plain=True)
    if pending:
        try:
            result.new = _insert_tools(db, pending, pending_keys)
        except Conflict:
            # Another writer stored some of these keys first: use its tools, never twins.
            result.new = _insert_one_by_one(db, pending, pending_keys)
        result.new_slugs = [row["slug"] for row in pending if "slug" in row]
    return result
