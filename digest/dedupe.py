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
unless one describes the tool more fully, in which case it becomes the source.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from digest.errors import DatabaseError
from digest.feeds import Entry
from digest.normalise import bounded_key, name_key, slugify, url_key
from digest.sql import Conflict, Database, as_datetime, as_json

TOOL_FIELDS = ("name", "url", "tagline", "description", "category", "vendor", "price", "published_at")
_CHUNK = 400
_ATTEMPTS = 5


@dataclass
class StoreResult:
    new: list[int] = field(default_factory=list)  # ids of tools created
    updated: list[int] = field(default_factory=list)  # ids of tools whose fields changed
    unchanged: int = 0  # entries that matched a tool and changed nothing


def entry_keys(entry: Entry, feed_name: str) -> list[tuple[str, str]]:
    """The identity keys of an entry, strongest first."""
    keys: list[tuple[str, str]] = []
    if entry.guid:
        keys.append(("guid", bounded_key(f"{feed_name}|{entry.guid}")))
    by_url = url_key(entry.url)
    if by_url:
        keys.append(("url", by_url))
    by_name = name_key(entry.name)
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
        rows = db.query(f"SELECT id, {', '.join(TOOL_FIELDS)}, feed_id, edited FROM tool "
                        f"WHERE id IN ({', '.join(':' + n for n in names)})", names)
        for row in rows:
            row["published_at"] = as_datetime(row["published_at"])
            row["edited"] = as_json(row["edited"]) or []
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
    return changes


def takes_over(tool: dict[str, Any], entry: Entry) -> bool:
    """Whether another feed's entry should become the tool's source: it describes the tool
    more fully. The fullest description wins whatever order feeds arrive in, and a later poll
    of the shorter feed changes nothing, so the tool never flips between sources."""
    if "description" in (tool.get("edited") or []):
        return False
    return len(entry.description) > len(tool.get("description") or "")


def allocate_slug(db: Database, name: str) -> str:
    """A slug from `name` that no tool has yet: `patchwise`, else `patchwise-2`, `-3`, ..."""
    base = slugify(name)
    candidate, number = base, 1
    while db.scalar("SELECT 1 AS taken FROM tool WHERE slug = :slug", {"slug": candidate}):
        number += 1
        candidate = f"{base}-{number}"
    return candidate


def _insert_keys(db: Database, tool_id: int, keys: Sequence[tuple[str, str]], *, ignore_taken: bool) -> None:
    if not keys:
        return
    sql = "INSERT INTO toolkey (kind, value, tool_id) VALUES (:kind, :value, :tool_id)"
    if ignore_taken:
        sql += " ON CONFLICT (kind, value) DO NOTHING"
    db.executemany(sql, [{"kind": k, "value": v, "tool_id": tool_id} for k, v in keys])


def _create_tool(db: Database, entry: Entry, keys: Sequence[tuple[str, str]], *, feed_id: int | None,
                 seen_at: datetime) -> int:
    with db.savepoint("new_tool"):
        tool_id = db.insert(
            "INSERT INTO tool (slug, name, url, tagline, description, category, vendor, price, "
            "published_at, first_seen_at, feed_id, edited) VALUES (:slug, :name, :url, :tagline, "
            ":description, :category, :vendor, :price, :published_at, :first_seen_at, :feed_id, :edited) "
            "RETURNING id",
            {"slug": allocate_slug(db, entry.name), "name": entry.name, "url": entry.url,
             "tagline": entry.tagline, "description": entry.description, "category": entry.category,
             "vendor": entry.vendor, "price": entry.price, "published_at": entry.published_at,
             "first_seen_at": seen_at, "feed_id": feed_id, "edited": []})
        _insert_keys(db, tool_id, keys, ignore_taken=False)
    return tool_id


def store_entries(db: Database, *, feed_id: int | None, feed_name: str, entries: Sequence[Entry],
                  seen_at: datetime) -> StoreResult:
    """Create or update the tools of `entries`; call inside a write transaction.

    Guarantees: no two tools share a key (so no twins, even with concurrent polls), and no
    field listed in a tool's `edited` is written. Raises DatabaseError if a tool cannot be
    stored after repeated conflicts.
    """
    result = StoreResult()
    all_keys = [entry_keys(entry, feed_name) for entry in entries]
    known = lookup_keys(db, (key for keys in all_keys for key in keys))
    tools = _load_tools(db, known.values())
    new_ids: set[int] = set()
    updated_ids: set[int] = set()
    for entry, keys in zip(entries, all_keys):
        tool_id = next((known[key] for key in keys if key in known), None)
        created = False
        attempts = 0
        while tool_id is None:
            attempts += 1
            try:
                tool_id = _create_tool(db, entry, keys, feed_id=feed_id, seen_at=seen_at)
                created = True
            except Conflict:
                # Another writer stored one of these keys first: use its tool, never a twin.
                if attempts >= _ATTEMPTS:
                    raise DatabaseError(f"could not store the tool {entry.name!r}: its keys kept "
                                        "conflicting with concurrent writers") from None
                found = lookup_keys(db, keys)
                known.update(found)
                tool_id = next((found[key] for key in keys if key in found), None)
                if tool_id is not None and tool_id not in tools:
                    tools.update(_load_tools(db, [tool_id]))
        if created:
            new_ids.add(tool_id)
            result.new.append(tool_id)
            tools[tool_id] = {"id": tool_id, **{name: getattr(entry, name) for name in TOOL_FIELDS},
                              "feed_id": feed_id, "edited": []}
            known.update({key: tool_id for key in keys})
            continue
        tool = tools[tool_id]
        missing = [key for key in keys if key not in known]
        if missing:
            _insert_keys(db, tool_id, missing, ignore_taken=True)
            known.update({key: tool_id for key in missing})
        from_source = tool.get("feed_id") == feed_id
        if not from_source and takes_over(tool, entry):
            from_source = True
        changes = planned_changes(tool, entry, from_source_feed=from_source)
        if from_source and tool.get("feed_id") != feed_id:
            changes["feed_id"] = feed_id
        if changes:
            assignments = ", ".join(f"{name} = :{name}" for name in changes)
            db.execute(f"UPDATE tool SET {assignments} WHERE id = :id", {**changes, "id": tool_id})
            tool.update(changes)
            if tool_id not in new_ids and tool_id not in updated_ids:
                updated_ids.add(tool_id)
                result.updated.append(tool_id)
        elif tool_id not in new_ids and tool_id not in updated_ids:
            result.unchanged += 1
    return result
