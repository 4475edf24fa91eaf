"""`digest tools list`'s work, free of typer: the full CLI's command and `digest.cli.fast` both
run it, so the listing a script reads is the same whichever of them parsed the arguments."""

from __future__ import annotations

from typing import TYPE_CHECKING

from digest.cli.output import echo, print_json

if TYPE_CHECKING:
    from digest.cli.context import AppContext


def list_tools(state: AppContext, *, new: bool, category: str | None, limit: int | None, show_all: bool,
               json_output: bool) -> None:
    """Print the catalogue's tools, newest first: a table, or every field as JSON; on stderr
    why the list is empty (the known categories when `category` names none of them)."""
    from digest.catalogue import categories, list_tools as query
    from digest.data.engine import connect

    with connect(state.database) as db:
        tools = query(db, new=new, category=category, limit=limit, brief=not json_output, include_hidden=show_all)
        known = categories(db) if category and not tools else []
    if json_output:
        print_json(tools)
        return
    if not tools:
        if category and known and category.lower() not in (k.lower() for k in known):
            echo(f"no tools in category {category!r} (categories: {', '.join(known)})", err=True)
        elif not state.quiet:
            echo("no tools" + (" match" if new or category else " yet: run `digest poll`"), err=True)
        return
    _print_table(tools, reasons=show_all)


def decision_text(t: dict) -> str:
    """`shown` or `hidden`, and why: the launch detection's reason or the editor's override."""
    if t["override"] == "keep":
        return "shown: kept by the editor" + (f" (was: {t['reason']})" if not t["launch"] and t["reason"] else "")
    if t["override"] == "hide":
        return "hidden by the editor"
    return ("shown: " if t["launch"] else "hidden: ") + (t["reason"] or ("launch" if t["launch"] else "-"))


def _print_table(tools: list[dict], *, reasons: bool = False) -> None:
    import shutil
    import sys

    width = shutil.get_terminal_size((120, 24)).columns
    headers = ("ID", "SLUG", "CATEGORY", "PRICE", "SEEN", *(("DECISION",) if reasons else ()), "NAME / TAGLINE")
    rows = [(str(t["id"]), t["slug"], t["category"] or "-", t["price"],
             t["first_seen_at"].date().isoformat() if t["first_seen_at"] else "-",
             *((decision_text(t),) if reasons else ()),
             t["name"] + (f" - {t['tagline']}" if t["tagline"] else "")) for t in tools]
    caps = (8, 32, 20, 11, 10, *((40,) if reasons else ()))
    widths = [min(max(len(row[i]) for row in [headers, *rows]), cap) for i, cap in enumerate(caps)]
    last = max(20, width - sum(widths) - 2 * len(widths))
    lines = ["  ".join([*(_fit(cell, w).ljust(w) for cell, w in zip(row, widths)), _fit(row[-1], last)])
             for row in [headers, *rows]]
    sys.stdout.write("\n".join(lines) + "\n")


def _fit(text: str, width: int) -> str:
    from digest.wording import shorten

    return shorten(text, width)
