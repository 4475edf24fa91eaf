"""Correcting a tool: editing its fields (then the editor's) and keeping or hiding it whatever
the launch detection decided.

A field the editor sets is listed in the tool's `edited` and belongs to the editor from then
on: polls never overwrite it (`release` hands it back to the feeds). The slug stays stable when
the name changes, so ids, slugs in scripts and links already sent keep working; `slug=`
changes it explicitly.

These run on a `digest.data.engine.Database` inside the caller's write transaction (no ORM:
`digest tools edit|keep|hide` start as fast as the reads); a refused call raises before it
writes, and the caller's rollback undoes earlier tools of the same command.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from digest.data import tools as data
from digest.data.engine import Database
from digest.editorial.text import control_problem
from digest.errors import ValidationError

EDITABLE = ("name", "tagline", "description", "category", "price", "vendor", "url")
OVERRIDES = ("keep", "hide")
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
        from digest.prices import EntryPrice

        try:
            return EntryPrice.parse(text).value
        except ValueError as exc:
            raise ValidationError(f"--price: {exc}") from None
    if field == "url":
        if not text:
            return None
        from digest.config_values import check_http_url

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


def _released(release: Iterable[str]) -> list[str]:
    names = []
    for field in release:
        name = str(field).strip().lower()
        if name not in EDITABLE:
            raise ValidationError(f"--release: {field!r} is not an editable field ({', '.join(EDITABLE)})")
        names.append(name)
    return names


def _new_slug(db: Database, tool: Mapping[str, Any], slug: str) -> str:
    slug = slug.strip().lower()
    if not _SLUG.match(slug) or len(slug) > 120:
        raise ValidationError(f"--slug: {slug!r} must be lowercase letters, digits and dashes")
    other = data.slug_holder(db, slug)
    if other is not None and other["id"] != tool["id"]:
        raise ValidationError(f"--slug: {slug!r} is already tool {other['id']} ({other['name']})")
    return slug


def edit_tool(db: Database, *, tool: str | int, values: Mapping[str, str | None], slug: str | None = None,
              release: Iterable[str] = ()) -> dict[str, Any]:
    """Set the given fields of the tool `tool` names (None means not given) and mark each as
    the editor's.

    Returns the tool as stored afterwards with `changed`, the fields whose stored value
    changed. Raises NotFoundError for an unknown tool, ValidationError for a bad value, an
    unknown field to release, or a slug that is malformed or taken; nothing is written then.
    """
    found = data.editable_tool(db, data.resolve_tool(db, tool))
    unknown = sorted(set(values) - set(EDITABLE))
    if unknown:
        raise ValidationError(f"{unknown[0]!r} is not an editable field ({', '.join(EDITABLE)})")
    cleaned = {field: _clean(field, value) for field, value in values.items() if value is not None}
    released = _released(release)
    if slug is not None:
        slug = _new_slug(db, found, slug)
    if not cleaned and slug is None and not released:
        raise ValidationError("nothing to change", hint="give at least one of --" + ", --".join(EDITABLE))
    changed = [field for field, value in cleaned.items() if found[field] != value]
    changes: dict[str, Any] = dict(cleaned)
    if slug is not None and slug != found["slug"]:
        changes["slug"] = slug
        changed.append("slug")
    changes["edited"] = sorted((set(found["edited"]) | set(cleaned)) - set(released))
    data.update_tool(db, found["id"], changes)
    found.update(changes)
    if "name" in changed:
        _add_name_key(db, found)
    return {**found, "changed": changed}


def _add_name_key(db: Database, tool: Mapping[str, Any]) -> None:
    """Recognise the tool by its corrected name too, so a later feed entry under that name
    finds it instead of becoming a twin (a key already held by another tool is left alone)."""
    from digest.normalise import name_key

    key = name_key(tool["name"])
    if key:
        data.add_keys(db, [{"kind": "name", "value": key, "tool_id": tool["id"]}], skip_taken=True)


def set_override(db: Database, *, tool: str | int, override: str | None) -> dict[str, Any]:
    """The editor's decision on the tool `tool` names: "keep" shows it in the default views
    (tools list, suggest, pair) even if it is not judged a launch, "hide" hides it even if it
    is, None hands the decision back to the launch detection. Polls never change it.

    Returns the tool as stored afterwards (`shown`, `reason`, ...) with `changed`, whether the
    stored override changed; NotFoundError for an unknown tool, ValidationError for another value.
    """
    if override is not None and override not in OVERRIDES:
        raise ValidationError(f"{override!r} is not an override (keep, hide)")
    found = data.editable_tool(db, data.resolve_tool(db, tool))
    changed = found["override"] != override
    if changed:
        data.update_tool(db, found["id"], {"override": override})
        found["override"] = override
        found["shown"] = data.is_shown(override, found["launch"])
    return {**found, "changed": changed}
