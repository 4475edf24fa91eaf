"""`digest tools ...`: browse and correct the catalogue of tools found in the feeds."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from digest.cli.params import LIMIT, json_option
from digest.cli.context import app_context
from digest.cli.output import print_json, say
from digest.cli.tools_listing import decision_text
from digest.wording import count

tools_app = typer.Typer(help="Browse and correct the catalogue of tools found in the feeds.",
                        no_args_is_help=True)


# --- browsing: list, show -------------------------------------------------------------------

@tools_app.command("list")
def list_tools(
    ctx: typer.Context,
    new: Annotated[bool, typer.Option("--new", help="Only tools not yet in any comparison.")] = False,
    category: Annotated[Optional[str], typer.Option("--category", metavar="C", help="Only tools in this category (any case).")] = None,
    limit: Annotated[Optional[int], typer.Option("--limit", metavar="N", click_type=LIMIT, help="At most N tools (default: all).")] = None,
    show_all: Annotated[bool, typer.Option("--all", help="Hidden entries too (not launches, or hidden by the editor), with the reason.")] = False,
    json_output: json_option("Print every field as JSON.") = False,
) -> None:
    """List the AI tool launches found in the feeds, newest first.

    Entries that are not AI tool launches (questions, job posts, funding news, ...) are kept
    but hidden; --all lists them too, each with the reason (see docs/launches.md).

    Example: digest tools list --new --category "code review"
    """
    from digest.cli.tools_listing import list_tools as run

    run(app_context(ctx), new=new, category=category, limit=limit, show_all=show_all, json_output=json_output)


@tools_app.command("show")
def show_tool(
    ctx: typer.Context,
    tool: Annotated[str, typer.Argument(metavar="TOOL", help="The tool's id or slug.")],
    json_output: json_option("Print every field as JSON.") = False,
) -> None:
    """Show one tool: every field, where it was found and how it is recognised.

    Example: digest tools show patchwise
    """
    from digest.catalogue import get_tool
    from digest.data.engine import connect

    state = app_context(ctx)
    with connect(state.settings) as db:
        record = get_tool(db, tool)
    if json_output:
        print_json(record)
        return
    _print_tool(record)


def _print_tool(t: dict) -> None:
    import textwrap

    typer.echo(f"{t['name']}  (id {t['id']}, slug {t['slug']})")
    fields = [("tagline", t["tagline"]), ("url", t["url"]), ("category", t["category"]),
              ("vendor", t["vendor"]), ("price", t["price"]), ("decision", decision_text(t)),
              ("published", f"{t['published_at']:%Y-%m-%d %H:%M} UTC" if t["published_at"] else None),
              ("first seen", f"{t['first_seen_at']:%Y-%m-%d %H:%M} UTC" if t["first_seen_at"] else None),
              ("feed", t["feed"]), ("comparisons", str(t["comparisons"])),
              ("edited", ", ".join(t["edited"]) or None),
              ("pricing page", (t["page"] or {}).get("pricing_url")),
              ("keys", "; ".join(f"{k['kind']} {k['value']}" for k in t["keys"]))]
    for label, value in fields:
        typer.echo(f"  {label + ':':<13}{value if value not in (None, '') else '-'}")
    if t["description"]:
        typer.echo("")
        for paragraph in t["description"].split("\n\n"):
            typer.echo(textwrap.fill(paragraph, width=88, initial_indent="  ", subsequent_indent="  "))


# --- correcting: edit, merge (added by the editorial stage below) ------------------------------
# --- correcting the catalogue (editorial) ---------------------------------------------------

@tools_app.command("edit")
def tools_edit(
    ctx: typer.Context,
    tool: Annotated[str, typer.Argument(help="The tool: id or slug.", show_default=False)],
    name: Annotated[Optional[str], typer.Option("--name", help="The tool's name (the slug stays; see --slug).")] = None,
    tagline: Annotated[Optional[str], typer.Option("--tagline", help="One line under the name.")] = None,
    description: Annotated[Optional[str], typer.Option("--description", help="The card's paragraph.")] = None,
    category: Annotated[Optional[str], typer.Option("--category", help="e.g. 'code review' ('' clears it).")] = None,
    price: Annotated[Optional[str], typer.Option("--price", help="Entry price: free, freemium, paid, open-source or unknown.")] = None,
    vendor: Annotated[Optional[str], typer.Option("--vendor", help="Who makes it ('' clears it).")] = None,
    url: Annotated[Optional[str], typer.Option("--url", help="Its http(s) address ('' clears it).")] = None,
    slug: Annotated[Optional[str], typer.Option("--slug", help="A new slug (lowercase letters, digits, dashes).")] = None,
    release: Annotated[Optional[list[str]], typer.Option("--release", help="Hand a field back to the feeds (repeatable).")] = None,
) -> None:
    """Correct a tool's fields; each field set here is the editor's, and polls never overwrite it.

    The slug stays stable when the name changes, so ids, slugs and links already sent keep
    working; change it explicitly with --slug. --release FIELD lets polls update a field again.

    Example: digest tools edit patchwise --price "Open source" --vendor "Patchwise Labs"
    """
    from digest.data.engine import connect
    from digest.editorial.corrections import edit_tool

    state = app_context(ctx)
    values = {"name": name, "tagline": tagline, "description": description, "category": category,
              "price": price, "vendor": vendor, "url": url}
    with connect(state.database) as db, db.transaction(write=True):  # no ORM: see digest.editorial.corrections
        found = edit_tool(db, tool=tool, values=values, slug=slug, release=release or [])
    changed, owned = found["changed"], found["edited"]
    say(ctx, f"{found['slug']}: " + (f"changed {', '.join(changed)}" if changed else "no value changed")
        + f"; the editor owns {', '.join(owned) if owned else 'no field'}", note=True)


@tools_app.command("merge")
def tools_merge(
    ctx: typer.Context,
    keep: Annotated[str, typer.Argument(help="The tool to keep: id or slug.", show_default=False)],
    duplicate: Annotated[str, typer.Argument(help="Its twin, merged into KEEP and deleted.", show_default=False)],
) -> None:
    """Merge a twin the deduplication missed into the tool to keep, in one transaction.

    The duplicate's feed identities, comparisons and reviews move to KEEP, blank fields of
    KEEP are filled from it, and it is deleted. Refused when a comparison pairs the two.

    Example: digest tools merge patchwise patch-wise
    """
    from digest.db import session_scope
    from digest.editorial import merge_tools

    state = app_context(ctx)
    with session_scope(state.engine, write=True) as session:
        report = merge_tools(session=session, keep=keep, duplicate=duplicate)
    moved = ", ".join(str(c) for c in report.comparisons) or "none"
    filled = f"; filled {', '.join(report.filled)}" if report.filled else ""
    say(ctx, f"merged {report.duplicate_slug} into {report.kept.slug}: {count(report.keys, 'identity key')}, "
             f"comparisons {moved}, {count(report.reviews, 'review')} moved{filled}", note=True)


@tools_app.command("keep")
def tools_keep(
    ctx: typer.Context,
    tools: Annotated[list[str], typer.Argument(metavar="TOOL...", help="Tools: ids or slugs.", show_default=False)],
    release: Annotated[bool, typer.Option("--release", help="Forget the editor's keep or hide: the launch detection decides again.")] = False,
) -> None:
    """Show tools in tools list, suggest and pair even if they were not judged AI tool launches.

    The editor's decision survives later polls. --release hands it back to the launch detection.

    Example: digest tools keep ask-hn-best-ai-tool-for-meeting-notes
    """
    _override(ctx, tools, None if release else "keep")


@tools_app.command("hide")
def tools_hide(
    ctx: typer.Context,
    tools: Annotated[list[str], typer.Argument(metavar="TOOL...", help="Tools: ids or slugs.", show_default=False)],
    release: Annotated[bool, typer.Option("--release", help="Forget the editor's keep or hide: the launch detection decides again.")] = False,
) -> None:
    """Hide tools from tools list, suggest and pair even if they were judged AI tool launches.

    The editor's decision survives later polls; `digest tools list --all` still lists them.

    Example: digest tools hide weekend-cat-herder
    """
    _override(ctx, tools, None if release else "hide")


@tools_app.command("enrich")
def tools_enrich(
    ctx: typer.Context,
    tools: Annotated[Optional[list[str]], typer.Argument(metavar="[TOOL...]", help="Tools: ids or slugs (default: shown tools not read yet).", show_default=False)] = None,
    limit: Annotated[int, typer.Option("--limit", metavar="N", min=1, max=10_000, help="At most N pages.")] = 50,
) -> None:
    """Read tools' landing pages (title, meta description, pricing link) to fill an empty
    tagline and an unknown price; never a field the editor set.

    Uses the feeds' politeness and caps and stops after [poll] enrich_seconds. Polls do this
    by themselves when [poll] enrich = true in digest.toml (off by default).

    Example: digest tools enrich scribbly
    """
    from digest.db import session_scope
    from digest.editorial import get_tool
    from digest.enrich import enrich_tools
    from digest.data.engine import connect

    state = app_context(ctx)
    slugs = None
    if tools:
        with session_scope(state.engine) as session:
            slugs = [get_tool(session, ref).slug for ref in tools]
    with connect(state.settings) as db:
        report = enrich_tools(state.settings, db, slugs=slugs, limit=limit)
    say(ctx, report.summary() + (f": {', '.join(report.updated)}" if report.updated else ""), note=True)


def _override(ctx: typer.Context, refs: list[str], override: str | None) -> None:
    from digest.data.engine import connect
    from digest.editorial.corrections import set_override

    state = app_context(ctx)
    lines = []
    with connect(state.database) as db, db.transaction(write=True):  # all or none of the tools
        for ref in refs:
            found = set_override(db, tool=ref, override=override)
            how = {"keep": "kept by the editor", "hide": "hidden by the editor"}.get(
                override or "", f"as judged: {found['reason'] or 'launch'}")
            lines.append(f"{found['slug']}: {'shown' if found['shown'] else 'hidden'}, {how}"
                         + ("" if found["changed"] else " (unchanged)"))
    for line in lines:
        say(ctx, line, note=True)


def register(app: typer.Typer) -> None:
    app.add_typer(tools_app, name="tools")
