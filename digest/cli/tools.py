"""`digest tools ...`: browse and correct the catalogue of tools found in the feeds."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from digest.cli.context import app_context
from digest.cli.output import print_json

tools_app = typer.Typer(help="Browse and correct the catalogue of tools found in the feeds.",
                        no_args_is_help=True)


# --- browsing: list, show -------------------------------------------------------------------

@tools_app.command("list")
def list_tools(
    ctx: typer.Context,
    new: Annotated[bool, typer.Option("--new", help="Only tools not yet in any comparison.")] = False,
    category: Annotated[Optional[str], typer.Option("--category", metavar="C", help="Only tools in this category (any case).")] = None,
    limit: Annotated[Optional[int], typer.Option("--limit", metavar="N", min=1, help="At most N tools (default: all).")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print every field as JSON.")] = False,
) -> None:
    """List the tools found in the feeds, newest first.

    Example: digest tools list --new --category "code review"
    """
    from digest.catalogue import categories, list_tools as query
    from digest.sql import connect

    state = app_context(ctx)
    with connect(state.settings) as db:
        tools = query(db, new=new, category=category, limit=limit, brief=not json_output)
        known = categories(db) if category and not tools else []
    if json_output:
        print_json(tools)
        return
    if not tools:
        if category and known and category.lower() not in (k.lower() for k in known):
            typer.echo(f"no tools in category {category!r} (categories: {', '.join(known)})", err=True)
        elif not state.quiet:
            typer.echo("no tools" + (" match" if new or category else " yet: run `digest poll`"), err=True)
        return
    _print_table(tools)


@tools_app.command("show")
def show_tool(
    ctx: typer.Context,
    tool: Annotated[str, typer.Argument(metavar="TOOL", help="The tool's id or slug.")],
    json_output: Annotated[bool, typer.Option("--json", help="Print every field as JSON.")] = False,
) -> None:
    """Show one tool: every field, where it was found and how it is recognised.

    Example: digest tools show patchwise
    """
    from digest.catalogue import get_tool
    from digest.sql import connect

    state = app_context(ctx)
    with connect(state.settings) as db:
        record = get_tool(db, tool)
    if json_output:
        print_json(record)
        return
    _print_tool(record)


def _print_table(tools: list[dict]) -> None:
    import shutil
    import sys

    width = shutil.get_terminal_size((120, 24)).columns
    headers = ("ID", "SLUG", "CATEGORY", "PRICE", "SEEN", "NAME / TAGLINE")
    rows = [(str(t["id"]), t["slug"], t["category"] or "-", t["price"],
             t["first_seen_at"].date().isoformat() if t["first_seen_at"] else "-",
             t["name"] + (f" - {t['tagline']}" if t["tagline"] else "")) for t in tools]
    widths = [min(max(len(row[i]) for row in [headers, *rows]), cap)
              for i, cap in enumerate((8, 32, 20, 11, 10))]
    last = max(20, width - sum(widths) - 2 * len(widths))
    lines = ["  ".join([*(_fit(cell, w).ljust(w) for cell, w in zip(row, widths)), _fit(row[-1], last)])
             for row in [headers, *rows]]
    sys.stdout.write("\n".join(lines) + "\n")


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(1, width - 1)] + "…"


def _print_tool(t: dict) -> None:
    import textwrap

    typer.echo(f"{t['name']}  (id {t['id']}, slug {t['slug']})")
    fields = [("tagline", t["tagline"]), ("url", t["url"]), ("category", t["category"]),
              ("vendor", t["vendor"]), ("price", t["price"]),
              ("published", f"{t['published_at']:%Y-%m-%d %H:%M} UTC" if t["published_at"] else None),
              ("first seen", f"{t['first_seen_at']:%Y-%m-%d %H:%M} UTC" if t["first_seen_at"] else None),
              ("feed", t["feed"]), ("comparisons", str(t["comparisons"])),
              ("edited", ", ".join(t["edited"]) or None),
              ("keys", "; ".join(f"{k['kind']} {k['value']}" for k in t["keys"]))]
    for label, value in fields:
        typer.echo(f"  {label + ':':<13}{value if value not in (None, '') else '-'}")
    if t["description"]:
        typer.echo("")
        for paragraph in t["description"].split("\n\n"):
            typer.echo(textwrap.fill(paragraph, width=88, initial_indent="  ", subsequent_indent="  "))


# --- correcting: edit, merge (added by the editorial stage below) ------------------------------


def register(app: typer.Typer) -> None:
    app.add_typer(tools_app, name="tools")
