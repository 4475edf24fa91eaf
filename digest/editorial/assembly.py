"""Assembling issues: numbered editions that gather comparisons in order, without the ORM.

The rules: numbers come from the `issue` counter in the same transaction as the insert, so a
number is never handed out twice, even after an issue is deleted; a comparison belongs to at
most one issue (its votes are that issue's); an issue's positions run 1, 2, 3, ... with no gap;
an issue that is sending or sent is the record of what readers got, and every change to it is
refused with StateError (`digest.issue_state.require_editable`).

Each function runs on a `digest.data.engine.Database` inside the caller's write transaction
(`digest.data.issue_edits` says how it is locked) and raises before it is done when it refuses,
so the caller's rollback leaves nothing written. Readiness and the views of an issue live in
`digest.editorial.issues` and `digest.editorial.issue_view`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from digest.data import issue_edits as data
from digest.data.engine import Database
from digest.editorial.text import block, one_line
from digest.errors import NotFoundError, StateError, ValidationError
from digest.ids import parse_id
from digest.issue_state import DRAFT, require_editable

MAX_SUBJECT = 300
MAX_PREHEADER = 300
MAX_INTRO = 5000

_NOT_ONE_LINE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\x85\u2028\u2029]")  # any control but tab


def _line(value: str, what: str, limit: int, *, required: bool) -> str:
    """One line of text for a field that ends up in a mail header (the subject) or beside it
    (the preheader): a line break is refused rather than folded away, so what the editor typed
    is what readers get."""
    if _NOT_ONE_LINE.search(str(value)):
        raise ValidationError(f"the {what} contains a line break or control character; it must be one line")
    return one_line(value, what, limit, required=required)


def clean_intro(value: str) -> str:
    return block(value, "intro", MAX_INTRO)


def _now() -> datetime:
    return datetime.now(UTC)


def editable_issue(db: Database, ref: str | int) -> dict[str, Any]:
    """The issue numbered `ref` (id, number, status, subject, preheader, intro), locked for the
    transaction; ValidationError for a malformed number, NotFoundError when there is no such
    issue, StateError when it is sending or sent."""
    number = parse_id(ref, "issue")
    issue = data.issue_to_edit(db, number)
    if issue is None:
        raise NotFoundError(f"no issue {number}", hint="`digest issue list` shows the issues")
    require_editable(issue["number"], issue["status"])
    return issue


def _comparison(db: Database, ref: str | int) -> tuple[int, str]:
    """The id and title of the comparison `ref` names; NotFoundError otherwise."""
    comparison_id = parse_id(ref, "comparison")
    title = data.comparison_title(db, comparison_id)
    if title is None:
        raise NotFoundError(f"no comparison {ref}", hint="`digest issue list` and `digest suggest` help find one")
    return comparison_id, title


def _check_position(position: int, count: int) -> None:
    if position < 1 or position > count:
        raise ValidationError(f"position {position} is out of range: the issue has "
                              f"{count} comparison{'s' if count != 1 else ''} (positions 1 to {count})")


def _renumber(db: Database, issue: dict[str, Any], slots: list[dict[str, Any]]) -> None:
    """Positions 1..n in the order of `slots`, and the issue's updated_at moved on."""
    data.set_positions(db, {s["id"]: n for n, s in enumerate(slots, start=1) if s["position"] != n})
    data.update_issue(db, issue["id"], {"updated_at": _now()})


def add_comparison(db: Database, *, issue: str | int, comparison: str | int,
                   position: int | None = None) -> tuple[int, int, str]:
    """Put a comparison into issue number `issue`, last or at `position` (1 = first); the
    issue's number and the comparison's id and title.

    Raises what `editable_issue` raises, NotFoundError for an unknown comparison,
    ValidationError when it is already in this or another issue or the position is out of range.
    """
    found = editable_issue(db, issue)
    return (found["number"], *_place(db, issue=found, comparison=comparison, position=position))


def _place(db: Database, *, issue: dict[str, Any], comparison: str | int,
           position: int | None = None) -> tuple[int, str]:
    comparison_id, title = _comparison(db, comparison)
    current = data.issue_holding(db, comparison_id)
    if current is not None:
        here = current["id"] == issue["id"]
        where = "this issue" if here else f"issue {current['number']}"
        raise ValidationError(f"comparison {comparison_id} is already in {where}", hint=None if here else
                              f"remove it there first: digest issue remove {current['number']} {comparison_id}")
    slots = data.slots(db, issue["id"])
    if position is not None:
        _check_position(position, len(slots) + 1)
    else:
        position = len(slots) + 1
    slot_id = data.add_slot(db, issue_id=issue["id"], comparison_id=comparison_id, position=len(slots) + 1)
    slots.insert(position - 1, {"id": slot_id, "comparison_id": comparison_id, "position": len(slots) + 1})
    _renumber(db, issue, slots)
    return comparison_id, title


def create_issue(db: Database, *, subject: str, comparisons: Sequence[str | int] = (),
                 preheader: str = "", intro: str = "") -> int:
    """A new draft issue with the next number and the given comparisons in order; its number.

    Raises ValidationError for an empty or over-long subject, preheader or intro, and for a
    comparison given twice or already in an issue, NotFoundError for one that does not exist.
    """
    fields = {"subject": _line(subject, "subject", MAX_SUBJECT, required=True),
              "preheader": _line(preheader, "preheader", MAX_PREHEADER, required=False),
              "intro": clean_intro(intro)}
    number = data.take_issue_number(db)
    issue = {"id": data.insert_issue(db, number=number, now=_now(), **fields), "number": number}
    seen = set()
    for ref in comparisons:
        if str(ref) in seen:
            raise ValidationError(f"comparison {ref} is given twice")
        seen.add(str(ref))
        _place(db, issue=issue, comparison=ref)
    return number


def set_issue(db: Database, *, issue: str | int, subject: str | None = None, preheader: str | None = None,
              intro: str | None = None) -> tuple[int, list[str]]:
    """Change the subject, preheader and/or intro of issue number `issue`; its number and the
    fields that changed (updated_at moves only when one did)."""
    found = editable_issue(db, issue)
    values = {}
    if subject is not None:
        values["subject"] = _line(subject, "subject", MAX_SUBJECT, required=True)
    if preheader is not None:
        values["preheader"] = _line(preheader, "preheader", MAX_PREHEADER, required=False)
    if intro is not None:
        values["intro"] = clean_intro(intro)
    if not values:
        raise ValidationError("nothing to change", hint="give --subject, --preheader or --intro")
    changed = [name for name, value in values.items() if found[name] != value]
    if changed:
        data.update_issue(db, found["id"], {**values, "updated_at": _now()})
    return found["number"], changed


def _slot(db: Database, issue: dict[str, Any], comparison: str | int) -> tuple[list[dict[str, Any]], int]:
    """The issue's slots in order and the index of the comparison's; ValidationError when the
    comparison is not in the issue."""
    comparison_id, _ = _comparison(db, comparison)
    slots = data.slots(db, issue["id"])
    for index, slot in enumerate(slots):
        if slot["comparison_id"] == comparison_id:
            return slots, index
    raise ValidationError(f"comparison {comparison_id} is not in issue {issue['number']}")


def remove_comparison(db: Database, *, issue: str | int, comparison: str | int) -> int:
    """Take a comparison out of issue number `issue` (the comparison itself stays); the number."""
    found = editable_issue(db, issue)
    slots, index = _slot(db, found, comparison)
    data.delete_slot(db, slots.pop(index)["id"])
    _renumber(db, found, slots)
    return found["number"]


def move_comparison(db: Database, *, issue: str | int, comparison: str | int, position: int) -> int:
    """Move a comparison of issue number `issue` to `position` (1 = first); the others keep
    their order. The issue's number."""
    found = editable_issue(db, issue)
    slots, index = _slot(db, found, comparison)
    _check_position(position, len(slots))
    slots.insert(position - 1, slots.pop(index))
    _renumber(db, found, slots)
    return found["number"]


def delete_issue(db: Database, *, issue: str | int) -> int:
    """Delete issue number `issue`, a draft that was never sent; its comparisons stay and its
    number is not reused (the counter keeps it). StateError for any other status."""
    found = editable_issue(db, issue)
    if found["status"] != DRAFT:
        raise StateError(f"issue {found['number']} is {found['status']}", hint="only a draft can be deleted")
    data.delete_issue(db, found["id"])
    return found["number"]
