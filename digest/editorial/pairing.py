"""Pairing two tools in a new comparison, and setting or deleting a comparison, without the
ORM (`digest pair`, `digest comparison set|delete`).

A tool is never compared with itself (the schema refuses it too), and a tool the launch
detection or the editor hid cannot be paired, so noise never slips into a comparison unnoticed.
Pairing two tools that were compared before is allowed, since a re-match months later is a fair
story, but the caller gets the earlier comparisons back so it can warn the editor.

A comparison in an issue that is sending or sent is part of what readers received: setting or
deleting it is refused with StateError (`require_editable_comparison`).

Runs on a `digest.data.engine.Database` inside the caller's write transaction and raises before
it writes when it refuses. The title and pricing-read rules live here for every comparison
write (`digest comparison set`, the scorecard file, `comparison edit`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from digest.data import comparison_edits as data
from digest.data.engine import Database
from digest.data.tools import is_shown, resolve_tool
from digest.editorial.text import block, one_line
from digest.errors import NotFoundError, StateError, ValidationError
from digest.ids import parse_id
from digest.issue_state import GONE_OUT

MAX_TITLE = 300
MAX_PRICING_READ = 2000


@dataclass(frozen=True)
class EarlierPair:
    """A previous comparison of the same two tools, and the issue it went out in (if any)."""

    comparison_id: int
    title: str
    issue_number: int | None
    issue_status: str | None

    def describe(self) -> str:
        where = (f"issue {self.issue_number}, {self.issue_status}" if self.issue_number is not None
                 else "in no issue yet")
        return f"comparison {self.comparison_id} ({where})"


@dataclass(frozen=True)
class NewPair:
    """The comparison just made: its id and title, its tools' slugs, the earlier pairs."""

    comparison_id: int
    title: str
    slug_a: str
    slug_b: str
    earlier: tuple[EarlierPair, ...]


def clean_title(title: str) -> str:
    """A title on one line, 1 to 300 characters; ValidationError otherwise."""
    return one_line(title, "title", MAX_TITLE)


def clean_pricing_read(text: str) -> str:
    """The pricing read, trimmed, at most 2,000 characters (empty is allowed: not written yet)."""
    return block(text, "pricing read", MAX_PRICING_READ)


def pairable_tool(db: Database, ref: str | int) -> dict[str, Any]:
    """The tool `ref` names (id, slug, name, ...), if the editor's views show it: NotFoundError
    for an unknown tool, or a hidden one with its reason and how to keep it."""
    tool = data.tool_to_pair(db, resolve_tool(db, ref))
    if tool is None:  # deleted since it was resolved
        raise NotFoundError(f"no tool {str(ref).strip()!r}", hint="`digest tools list` shows ids and slugs")
    if not is_shown(tool["override"], tool["launch"]):
        why = ("hidden by the editor" if tool["override"] == "hide"
               else f"not an AI tool launch ({tool['reason'] or 'no reason'})")
        raise NotFoundError(f"{tool['slug']} is hidden: {why}",
                            hint=f"`digest tools keep {tool['slug']}` shows it again")
    return tool


def earlier_pairs(db: Database, tool_a_id: int, tool_b_id: int) -> tuple[EarlierPair, ...]:
    """Every comparison of these two tools, in either order, oldest first."""
    return tuple(EarlierPair(row["id"], row["title"], row["number"], row["status"])
                 for row in data.earlier_pairs(db, tool_a_id, tool_b_id))


def pair_tools(db: Database, *, tool_a: str | int, tool_b: str | int, title: str | None = None,
               pricing_read: str = "") -> NewPair:
    """Pair two tools (ids or slugs) as A and B of a new comparison.

    Raises NotFoundError for an unknown or hidden tool (`digest tools keep` shows it again) and
    ValidationError for a tool paired with itself or a bad title. The default title is
    "A vs B". Earlier comparisons of the same two tools come back in `NewPair.earlier`.
    """
    a = pairable_tool(db, tool_a)
    b = pairable_tool(db, tool_b)
    if a["id"] == b["id"]:
        raise ValidationError(f"a tool cannot be compared with itself ({a['slug']} is both A and B)",
                              hint="name two different tools")
    earlier = earlier_pairs(db, a["id"], b["id"])
    clean = clean_title(title if title is not None else f"{a['name']} vs {b['name']}")
    comparison_id = data.insert_comparison(db, tool_a_id=a["id"], tool_b_id=b["id"], title=clean,
                                           pricing_read=clean_pricing_read(pricing_read), now=datetime.now(UTC))
    return NewPair(comparison_id, clean, a["slug"], b["slug"], earlier)


def require_editable_comparison(comparison_id: int, issue_number: int | None, issue_status: str | None) -> None:
    """StateError when the comparison is in an issue that is sending or sent."""
    if issue_number is not None and issue_status in GONE_OUT:
        raise StateError(f"comparison {comparison_id} is in issue {issue_number}, which is {issue_status}; "
                         "its scorecard is part of what readers received and cannot be changed",
                         hint="pair the tools again with `digest pair` for a new comparison")


def comparison_changes(current: dict[str, str], *, title: str | None = None,
                       pricing_read: str | None = None) -> dict[str, str]:
    """The cleaned fields (title, pricing_read) that differ from `current`'s, in that order;
    ValidationError for a bad value."""
    changes = {}
    if title is not None and (value := clean_title(title)) != current["title"]:
        changes["title"] = value
    if pricing_read is not None and (value := clean_pricing_read(pricing_read)) != current["pricing_read"]:
        changes["pricing_read"] = value
    return changes


def editable_comparison(db: Database, ref: str | int) -> dict[str, Any]:
    """The comparison `ref` names (id, title, pricing_read, its issue's number and status),
    locked for the transaction; ValidationError for a malformed id, NotFoundError when there is
    none, StateError when its issue went out."""
    comparison = data.comparison_to_edit(db, parse_id(ref, "comparison"))
    if comparison is None:
        raise NotFoundError(f"no comparison {ref}", hint="`digest issue list` and `digest suggest` help find one")
    require_editable_comparison(comparison["id"], comparison["number"], comparison["status"])
    return comparison


def set_comparison(db: Database, ref: str | int, *, title: str | None = None,
                   pricing_read: str | None = None) -> tuple[int, list[str]]:
    """Set the title and/or pricing read: the comparison's id and the names of the fields that
    changed (updated_at moves only when one did)."""
    comparison = editable_comparison(db, ref)
    changes = comparison_changes(comparison, title=title, pricing_read=pricing_read)
    if changes:
        data.update_comparison(db, comparison["id"], {**changes, "updated_at": datetime.now(UTC)})
    return comparison["id"], list(changes)


def delete_comparison(db: Database, ref: str | int) -> dict[str, Any]:
    """Delete the comparison with its reviews and votes and take it out of its (draft or
    scheduled) issue; the comparison as it was (id, title)."""
    comparison = editable_comparison(db, ref)
    data.delete_comparison(db, comparison["id"])
    return comparison
