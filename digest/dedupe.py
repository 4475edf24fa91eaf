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

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from digest.data import tools as data
from digest.data.engine import Conflict, Database
from digest.data.tools import DECISION_FIELDS, TOOL_FIELDS
from digest.errors import DatabaseError
from digest.feeds import Entry
from digest.normalise import bounded_key, name_key, slugify, url_key

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
    return data.known_keys(db, keys)


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
    while (also_taken and candidate in also_taken) or data.slug_taken(db, candidate):
        number += 1
        candidate = f"{base}-{number}"
    return candidate


def _allocate_slugs(db: Database, names: Sequence[str]) -> list[str]:
    """Distinct free slugs for several new tools, with one query in the common case."""
    bases = [slugify(name) for name in names]
    taken = data.taken_slugs(db, bases)
    slugs: list[str] = []
    used: set[str] = set()
    for name, base in zip(names, bases):
        slug = base if base not in taken and base not in used else allocate_slug(db, name, also_taken=used)
        used.add(slug)
        slugs.append(slug)
    return slugs


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
        ids_by_slug = data.insert_tools(db, rows)
        ids = [ids_by_slug[row["slug"]] for row in rows]
        data.add_keys(db, [{"kind": kind, "value": value, "tool_id": tool_id}
                           for tool_id, tool_keys in zip(ids, keys) for kind, value in tool_keys])
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
    tools = data.tools_to_match(db, known.values())
    pending = _NewTools()
    extra_keys: list[dict[str, Any]] = []  # new keys of known tools
    updated_ids: set[int] = set()
    for entry, keys in zip(entries, all_keys):
        tool_id = next((known[key] for key in keys if key in known), None)
        if tool_id is None:
            pending.add(entry, keys, feed_id=feed_id, seen_at=seen_at)
            continue
        for key in keys:
            if key not in known:
                known[key] = tool_id
                extra_keys.append({"kind": key[0], "value": key[1], "tool_id": tool_id})
        changed = _refresh(db, tools[tool_id], entry, feed_id=feed_id, trusted=trusted)
        # a tool first seen in this same poll (another feed's launch) is new, not updated
        if changed and tool_id not in updated_ids and tools[tool_id].get("first_seen_at") != seen_at:
            updated_ids.add(tool_id)
            result.updated.append(tool_id)
        elif not changed and tool_id not in updated_ids:
            result.unchanged += 1
    if extra_keys:
        data.add_keys(db, extra_keys, skip_taken=True)  # a key another tool took meanwhile stays its
    if pending.rows:
        try:
            result.new = _insert_tools(db, pending.rows, pending.keys)
        except Conflict:
            # Another writer stored some of these keys first: use its tools, never twins.
            result.new = _insert_one_by_one(db, pending.rows, pending.keys)
        result.new_slugs = [row["slug"] for row in pending.rows if "slug" in row]
    return result


@dataclass
class _NewTools:
    """The new tools of one batch, inserted together at the end; the same launch twice in one
    feed is one new tool, the later entry refining it."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    keys: list[list[tuple[str, str]]] = field(default_factory=list)
    by_key: dict[tuple[str, str], int] = field(default_factory=dict)

    def add(self, entry: Entry, keys: Sequence[tuple[str, str]], *, feed_id: int | None, seen_at: datetime) -> None:
        index = next((self.by_key[key] for key in keys if key in self.by_key), None)
        if index is None:
            index = len(self.rows)
            self.rows.append(_new_row(entry, feed_id=feed_id, seen_at=seen_at))
            self.keys.append([])
        else:
            self.rows[index].update(planned_changes(self.rows[index], entry, from_source_feed=True))
        for key in keys:
            if key not in self.by_key:
                self.by_key[key] = index
                self.keys[index].append(key)


def _refresh(db: Database, tool: dict[str, Any], entry: Entry, *, feed_id: int | None, trusted: bool) -> bool:
    """Write what `entry` changes on the known `tool` (and note it there); whether anything changed."""
    from_source = trusted and (tool.get("feed_id") == feed_id or takes_over(tool, entry))
    changes = planned_changes(tool, entry, from_source_feed=from_source)
    if from_source and tool.get("feed_id") != feed_id:
        changes["feed_id"] = feed_id
    if changes:
        data.update_tool(db, tool["id"], changes)
        tool.update(changes)
    return bool(changes)
