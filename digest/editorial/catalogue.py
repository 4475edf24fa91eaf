"""Correcting the catalogue: editing a tool's fields, keeping or hiding it whatever the launch
detection decided, and merging twins the deduplication missed.

A field the editor sets is listed in `Tool.edited` and belongs to the editor from then on:
polls never overwrite it (`release` hands it back to the feeds). The slug stays stable when
the name changes, so ids, slugs in scripts and links already sent keep working; `slug=`
changes it explicitly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import update
from sqlmodel import Session, select

from digest.config import check_http_url
from digest.editorial.lookup import get_tool
from digest.editorial.text import control_problem
from digest.errors import ValidationError
from digest.models import Comparison, EntryPrice, Review, Tool, ToolKey

EDITABLE = ("name", "tagline", "description", "category", "price", "vendor", "url")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_LIMITS = {"name": 300, "tagline": 300, "description": 10_000, "category": 100, "vendor": 200}


def _clean(field: str, value: str) -> str | None:
    """A field value as stored; ValidationError naming the field otherwise."""
    problem = control_problem(value)
    if problem is not None:
        raise ValidationError(f"--{field}: contains {problem}; only tabs and line breaks are allowed")
    text = str(value).replace("\r\n", "\n").strip()
    if field != "description":
        text = " ".join(text.split())
    if field == "price":
        try:
            return EntryPrice.parse(text).value
        except ValueError as exc:
            raise ValidationError(f"--price: {exc}") from None
    if field == "url":
        if not text:
            return None
        try:
            return check_http_url(text)
        except ValueError as exc:
            raise ValidationError(f"--url: {exc}") from None
    if len(text) > _LIMITS[field]:
        raise ValidationError(f"--{field}: {len(text):,} characters; the limit is {_LIMITS[field]:,}")
    if field == "name" and not text:
        raise ValidationError("--name: a tool's name cannot be empty")
    if field in ("category", "vendor") and not text:
        return None
    return text


def edit_tool(*, session: Session, tool: Tool, values: dict[str, str | None],
              slug: str | None = None, release: Iterable[str] = ()) -> list[str]:
    """Set the given fields (None means not given) and mark each as the editor's.

    Returns the fields whose stored value changed. Raises ValidationError for a bad value, an
    unknown field to release, or a slug that is malformed or taken; nothing is written then.
    """
    unknown = sorted(set(values) - set(EDITABLE))
    if unknown:
        raise ValidationError(f"{unknown[0]!r} is not an editable field ({', '.join(EDITABLE)})")
    cleaned = {field: _clean(field, value) for field, value in values.items() if value is not None}
    released = []
    for field in release:
        name = str(field).strip().lower()
        if name not in EDITABLE:
            raise ValidationError(f"--release: {field!r} is not an editable field ({', '.join(EDITABLE)})")
        released.append(name)
    if slug is not None:
        slug = slug.strip().lower()
        if not _SLUG.match(slug) or len(slug) > 120:
            raise ValidationError(f"--slug: {slug!r} must be lowercase letters, digits and dashes")
        other = session.exec(select(Tool).where(Tool.slug == slug)).first()
        if other is not None and other.id != tool.id:
            raise ValidationError(f"--slug: {slug!r} is already tool {other.id} ({other.name})")
    if not cleaned and slug is None and not released:
        raise ValidationError("nothing to change", hint="give at least one of --" + ", --".join(EDITABLE))
    changed = [field for field, value in cleaned.items() if getattr(tool, field) != value]
    for field, value in cleaned.items():
        setattr(tool, field, value)
    if slug is not None and slug != tool.slug:
        tool.slug = slug
        changed.append("slug")
    edited = (set(tool.edited) | set(cleaned)) - set(released)
    tool.edited = sorted(edited)  # a new list, so the JSON column is written
    session.add(tool)
    if "name" in changed:
        _add_name_key(session, tool)
    session.flush()
    return changed


def _add_name_key(session: Session, tool: Tool) -> None:
    """Recognise the tool by its corrected name too, so a later feed entry under that name
    finds it instead of becoming a twin (a key already held by another tool is left alone)."""
    from digest.db import insert_ignore
    from digest.normalise import name_key

    key = name_key(tool.name)
    if key:
        session.flush()
        insert_ignore(session.connection(), ToolKey, {"kind": "name", "value": key, "tool_id": tool.id},
                      conflict=["kind", "value"])


@dataclass(frozen=True)
class MergeReport:
    kept: Tool
    duplicate_id: int
    duplicate_slug: str
    keys: int
    comparisons: tuple[int, ...]
    reviews: int
    filled: tuple[str, ...]


def merge_tools(*, session: Session, keep: str | int, duplicate: str | int) -> MergeReport:
    """Fold DUPLICATE into KEEP: its identity keys, comparisons and reviews move, then it goes.

    Fields KEEP lacks (empty tagline, no vendor, unknown price, ...) are filled from the
    duplicate unless the editor owns them; the earlier first-seen time is kept. Refused with
    ValidationError when the two are the same tool or when a comparison pairs them with each
    other (it would compare a tool with itself, and its reviewers would have reviewed both
    twins): delete that comparison first. Run it in one transaction: it is all or nothing.
    """
    kept = get_tool(session, keep)
    dup = get_tool(session, duplicate)
    if kept.id == dup.id:
        raise ValidationError(f"{kept.slug} cannot be merged into itself")
    clash = session.exec(select(Comparison.id).where(
        ((Comparison.tool_a_id == kept.id) & (Comparison.tool_b_id == dup.id))
        | ((Comparison.tool_a_id == dup.id) & (Comparison.tool_b_id == kept.id)))).all()
    if clash:
        ids = ", ".join(str(i) for i in clash)
        raise ValidationError(
            f"comparison {ids} pairs {kept.slug} with {dup.slug}; merged, it would compare a tool with itself",
            hint=f"delete it first with `digest comparison delete {clash[0]}`")

    comparisons = tuple(session.exec(select(Comparison.id).where(
        (Comparison.tool_a_id == dup.id) | (Comparison.tool_b_id == dup.id)).order_by(Comparison.id)).all())
    keys = len(session.exec(select(ToolKey.id).where(ToolKey.tool_id == dup.id)).all())
    reviews = len(session.exec(select(Review.id).where(Review.tool_id == dup.id)).all())

    filled = []
    for field in ("url", "tagline", "description", "category", "vendor", "published_at", "feed_id"):
        if field not in kept.edited and not getattr(kept, field) and getattr(dup, field):
            setattr(kept, field, getattr(dup, field))
            filled.append(field)
    if "price" not in kept.edited and kept.price == EntryPrice.UNKNOWN.value and dup.price != kept.price:
        kept.price = dup.price
        filled.append("price")
    carried = {f for f in dup.edited if f in filled}
    if carried:
        kept.edited = sorted(set(kept.edited) | carried)
    if dup.first_seen_at < kept.first_seen_at:
        kept.first_seen_at = dup.first_seen_at

    session.exec(update(ToolKey).where(ToolKey.tool_id == dup.id).values(tool_id=kept.id))
    session.exec(update(Comparison).where(Comparison.tool_a_id == dup.id).values(tool_a_id=kept.id))
    session.exec(update(Comparison).where(Comparison.tool_b_id == dup.id).values(tool_b_id=kept.id))
    session.exec(update(Review).where(Review.tool_id == dup.id).values(tool_id=kept.id))
    session.add(kept)
    session.flush()
    dup_id, dup_slug = dup.id, dup.slug
    session.expire_all()
    session.delete(session.get(Tool, dup_id))
    session.flush()
    return MergeReport(kept=session.get(Tool, kept.id), duplicate_id=dup_id, duplicate_slug=dup_slug,
                       keys=keys, comparisons=comparisons, reviews=reviews, filled=tuple(filled))


OVERRIDES = ("keep", "hide")


def set_override(*, session: Session, tool: Tool, override: str | None) -> bool:
    """The editor's decision on a tool: "keep" shows it in the default views (tools list,
    suggest, pair) even if it is not judged a launch, "hide" hides it even if it is, None
    hands the decision back to the launch detection. Polls never change it.

    Returns whether the stored override changed; ValidationError for another value.
    """
    if override is not None and override not in OVERRIDES:
        raise ValidationError(f"{override!r} is not an override (keep, hide)")
    if tool.override == override:
        return False
    tool.override = override
    session.add(tool)
    session.flush()
    return True
