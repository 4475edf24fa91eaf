"""The catalogue: reading tools back (`digest tools list` / `show`).

Queries run through `digest.data.tools` (sqlite3 on SQLite), so browsing the catalogue starts
fast. Records are plain dicts ready for JSON: every one carries `id`, `slug`, `name` and the
rest of the tool's fields, `feed` (the source feed's name) and `comparisons` (how many
comparisons it is in; `--new` lists the tools in none), and the launch decision: `launch`,
`reason`, `override` (the editor's keep or hide) and `shown` (whether the default views show it).
Only shown tools are listed unless `include_hidden` (`digest tools list --all`).
"""

from __future__ import annotations

from typing import Any

from digest.data import tools as data
from digest.data.engine import Database


def list_tools(db: Database, *, new: bool = False, category: str | None = None,
               limit: int | None = None, brief: bool = False,
               include_hidden: bool = False) -> list[dict[str, Any]]:
    """Shown tools, newest first; `new`: only those in no comparison yet; `category`:
    case-insensitive; `include_hidden`: the entries that are not launches too.

    `brief` reads only what a table shows (id, slug, name, tagline, category, price,
    first_seen_at, the decision), which keeps listing thousands of tools fast.
    """
    return data.catalogue_rows(db, new=new, category=category, limit=limit, brief=brief,
                               include_hidden=include_hidden)


def get_tool(db: Database, ref: str) -> dict[str, Any]:
    """The tool `ref` names (see `digest.data.tools.resolve_tool` for the rule), with its
    identity keys; NotFoundError otherwise."""
    return data.catalogue_record(db, data.resolve_tool(db, ref))


def categories(db: Database) -> list[str]:
    """The categories tools have, for hints when a --category filter matches nothing."""
    return data.categories(db)
