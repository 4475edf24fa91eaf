"""`digest pair`, `digest review`, `digest suggest` and `digest comparison ...`: the editor's desk.

Each command parses, calls one function of `digest.editorial` inside one transaction, and
prints; a refused command raises before the commit, so it writes nothing.
"""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

from digest.cli.context import app_context
from digest.cli.output import console, print_json, say, warn
from digest.cli.params import LIMIT, ComparisonArg, JsonOption
from digest.wording import count

comparison_app = typer.Typer(help="Show, edit and delete comparisons (pairs of tools and their scorecards).",
                             no_args_is_help=True)

def pair(
    ctx: typer.Context,
    tool_a: Annotated[str, typer.Argument(help="Tool A: id or slug.", show_default=False)],
    tool_b: Annotated[str, typer.Argument(help="Tool B: id or slug.", show_default=False)],
    title: Annotated[Optional[str], typer.Option("--title", help='The comparison\'s title (default "A vs B").')] = None,
    json_output: JsonOption = False,
) -> None:
    """Pair two tools in a new comparison and print its id.

    A tool cannot be paired with itself. Two tools compared before can be paired again; a
    warning names the earlier comparison and its issue.

    Example: digest pair patchwise lintern --title "Two robot reviewers, one pull request"
    """
    from digest.data.engine import connect
    from digest.editorial.pairing import pair_tools

    state = app_context(ctx)
    with connect(state.settings) as db, db.transaction(write=True):  # no ORM: see digest.editorial.pairing
        made = pair_tools(db, tool_a=tool_a, tool_b=tool_b, title=title)
    record = {"id": made.comparison_id, "title": made.title, "a": made.slug_a, "b": made.slug_b,
              "earlier": [e.comparison_id for e in made.earlier]}
    for earlier in made.earlier:
        warn(f"{made.slug_a} and {made.slug_b} were compared before: {earlier.describe()}")
    if json_output:
        print_json(record)
        return
    typer.echo(record["id"])
    say(ctx, f"comparison {record['id']}: {record['title']} (A {record['a']}, B {record['b']})", note=True)


def review(
    ctx: typer.Context,
    comparison: ComparisonArg,
    tool: Annotated[Optional[str], typer.Option("--tool", help="The reviewed tool: id or slug (A or B of the comparison).")] = None,
    reviewer: Annotated[Optional[str], typer.Option("--reviewer", help="The panel member's key (see digest.toml [[panel]]).")] = None,
    verdict: Annotated[Optional[str], typer.Option("--verdict", help="ship or skip.")] = None,
    quote: Annotated[Optional[str], typer.Option("--quote", help="The reviewer's quote, 1 to 1,200 characters; - reads it from stdin.")] = None,
    file: Annotated[Optional[str], typer.Option("--file", help="A REVIEWS.toml scorecard: all its reviews at once, checked as a whole.")] = None,
) -> None:
    """Record or replace one reviewer's verdict on one tool, or a whole scorecard from a file.

    Example: digest review 3 --tool patchwise --reviewer skeptic --verdict skip --quote "..."

    Example: digest review 3 --file REVIEWS.toml

    A REVIEWS.toml holds [[reviews]] tables with reviewer, tool, verdict and quote, and may
    set pricing_read, title, and [a] / [b] price. Nothing is written unless all of it is valid.
    """
    from digest.db import session_scope
    from digest.editorial import get_comparison, record_review
    from digest.editorial.scorecard import read_scorecard_file, record_scorecard
    from digest.errors import UsageError

    state = app_context(ctx)
    single = {"--tool": tool, "--reviewer": reviewer, "--verdict": verdict, "--quote": quote}
    if file is not None:
        given = [name for name, value in single.items() if value is not None]
        if given:
            raise UsageError(f"--file records a whole scorecard; leave out {', '.join(given)}")
        text, name = read_scorecard_file(file)
        with session_scope(state.engine, write=True) as session:
            found = get_comparison(session, comparison)
            changes = record_scorecard(session=session, comparison=found, text=text, filename=name,
                                       panel=state.settings.panel)
        say(ctx, f"comparison {found.id}: " + ("; ".join(changes) if changes else "no changes"), note=True)
        return
    missing = [name for name, value in single.items() if value is None]
    if missing:
        raise UsageError(f"missing {', '.join(missing)}", hint="or give --file REVIEWS.toml")
    if quote == "-":
        quote = sys.stdin.read()
    with session_scope(state.engine, write=True) as session:
        found = get_comparison(session, comparison)
        row, created = record_review(session=session, comparison=found, tool=tool, reviewer=reviewer,
                                     verdict=verdict, quote=quote, panel=state.settings.panel)
        from digest.models import Tool

        slug = session.get(Tool, row.tool_id).slug
    say(ctx, f"comparison {found.id}: {'recorded' if created else 'replaced'} "
             f"{row.reviewer}'s {row.verdict} on {slug}", note=True)


def suggest(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("--limit", click_type=LIMIT, help="Show at most this many pairs.")] = 10,
    include_paired: Annotated[bool, typer.Option("--include-paired", help="Also consider tools already in a comparison.")] = False,
    include_older: Annotated[bool, typer.Option("--include-older", help="Also consider tools found before the last sent issue.")] = False,
    json_output: JsonOption = False,
) -> None:
    """Suggest pairs among the tools found since the last sent issue, ranked, with reasons.

    A pair needs the same or a related category (or close descriptions when one has none)
    and is ranked by how similar the descriptions are; pairs compared before never appear.

    Example: digest suggest --limit 5
    """
    from digest.data.engine import connect
    from digest.data.pair_candidates import read_catalogue
    from digest.editorial.suggest import suggest_pairs

    state = app_context(ctx)
    with connect(state.settings) as db, db.transaction():  # no ORM: see digest.data.pair_candidates
        catalogue = read_catalogue(db, include_older=include_older)
    report = suggest_pairs(catalogue, limit=limit, include_paired=include_paired)
    if json_output:
        print_json({"since": report.since, "candidates": report.candidates,
                    "pairs_scored": report.pairs_scored, "older": report.older,
                    "suggestions": [s.to_json() for s in report.suggestions]})
        return
    if report.since:
        since = f"found since the last sent issue ({report.since:%Y-%m-%d %H:%M})"
    else:
        since = "(all of them)" if include_older else "(no issue sent yet)"
    kind = "tool" if include_paired else "unpaired tool"
    if not report.suggestions:
        typer.echo(f"no pairs to suggest among {count(report.candidates, kind)} {since}")
        if report.older:
            typer.echo(f"{count(report.older, 'older ' + kind)} found before it: "
                       "digest suggest --include-older")
        return
    from digest.cli.views import suggestions_table

    typer.echo(f"{count(len(report.suggestions), 'suggestion')} among {count(report.candidates, kind)} {since}")
    console().print(suggestions_table(report))
    first = report.suggestions[0]
    typer.echo(f"pair the first with: digest pair {first.tool_a.slug} {first.tool_b.slug}")


def panel(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """List the panel: each reviewer's key (what reviews name), display name and remit.

    The panel is configured with [[panel]] tables in digest.toml; by default the builder,
    the skeptic, the buyer and the futurist.

    Example: digest panel --json
    """
    state = app_context(ctx)
    reviewers = [{"key": r.key, "name": r.name, "remit": r.remit} for r in state.settings.panel]
    if json_output:
        print_json(reviewers)
        return
    width = max(len(r["key"]) for r in reviewers)
    for r in reviewers:
        typer.echo(f"{r['key']:<{width}}  {r['name']}: {r['remit']}")


# --- digest comparison ----------------------------------------------------------------------

@comparison_app.command("show")
def comparison_show(
    ctx: typer.Context,
    comparison: ComparisonArg,
    json_output: JsonOption = False,
) -> None:
    """Show a comparison as a card: both tools, the scorecard, pricing read, verdict and split.

    Example: digest comparison show 3 --json
    """
    from digest.data.comparison_cards import one_comparison_rows
    from digest.data.engine import connect
    from digest.editorial.card_view import build_card
    from digest.errors import NotFoundError
    from digest.ids import parse_id

    number = parse_id(comparison, "comparison")
    state = app_context(ctx)
    with connect(state.settings) as db, db.transaction():  # no ORM: see digest.data.comparison_cards
        rows = one_comparison_rows(db, number)
    if rows is None:
        raise NotFoundError(f"no comparison {comparison}", hint="`digest issue list` and `digest suggest` help find one")
    card = build_card(comparison=rows.comparison, tool_a=rows.tool_a, tool_b=rows.tool_b, reviews=rows.reviews,
                      votes=rows.votes, issue=rows.issue, panel=state.settings.panel)
    if json_output:
        print_json(card.to_json())
        return
    from digest.cli import views

    console().print(views.comparison_renderable(card))


@comparison_app.command("list")
def comparison_list(
    ctx: typer.Context,
    unassigned: Annotated[bool, typer.Option("--unassigned", help="Only comparisons in no issue.")] = False,
    json_output: JsonOption = False,
) -> None:
    """List comparisons, newest first, with their verdict and issue.

    Example: digest comparison list --unassigned
    """
    from digest.data.comparison_cards import comparison_rows
    from digest.data.engine import connect
    from digest.editorial.card_view import build_card

    state = app_context(ctx)
    with connect(state.settings) as db, db.transaction():  # no ORM: see digest.data.comparison_cards
        rows = comparison_rows(db, unassigned=unassigned)
    cards = [build_card(comparison=r.comparison, tool_a=r.tool_a, tool_b=r.tool_b, reviews=r.reviews,
                        votes=r.votes, issue=r.issue, panel=state.settings.panel) for r in rows]
    data = [card.to_json() for card in cards]
    if json_output:
        print_json(data)
        return
    if not cards:
        typer.echo("no comparisons")
        return
    from rich.table import Table

    table = Table()
    for column in ("id", "title", "A", "B", "verdict", "issue"):
        table.add_column(column)
    for card in cards:
        issue = f"{card.issue.number} ({card.issue.status})" if card.issue else "-"
        table.add_row(str(card.comparison.id), card.comparison.title,
                      f"{card.a.tool.slug} {card.figures.a.ship_label}",
                      f"{card.b.tool.slug} {card.figures.b.ship_label}", card.verdict_short, issue)
    console().print(table)


@comparison_app.command("edit")
def comparison_edit(
    ctx: typer.Context,
    comparison: ComparisonArg,
) -> None:
    """Open $EDITOR on the comparison as TOML: title, pricing read, entry prices, scorecard.

    Save to apply. Quit without saving, or empty the file, to change nothing. A mistake
    re-opens the editor with the problem marked at the top.

    Example: EDITOR=nano digest comparison edit 3
    """
    from digest.editorial.editing import edit_comparison

    state = app_context(ctx)
    result = edit_comparison(engine=state.engine, comparison=comparison, panel=state.settings.panel)
    if result.aborted == "empty":
        say(ctx, f"comparison {result.comparison_id}: the file was emptied; nothing changed", note=True)
    elif result.aborted or not result.changes:
        say(ctx, f"comparison {result.comparison_id}: no changes", note=True)
    else:
        say(ctx, f"comparison {result.comparison_id}: " + "; ".join(result.changes), note=True)


@comparison_app.command("set")
def comparison_set(
    ctx: typer.Context,
    comparison: ComparisonArg,
    title: Annotated[Optional[str], typer.Option("--title", help="A new title.")] = None,
    pricing_read: Annotated[Optional[str], typer.Option("--pricing-read", help="The editor's short read on the two tools' pricing; - reads it from stdin.")] = None,
) -> None:
    """Set a comparison's title or pricing read without opening an editor.

    Example: digest comparison set 3 --pricing-read "Both start free; only one charges per seat."
    """
    from digest.data.engine import connect
    from digest.editorial.pairing import set_comparison
    from digest.errors import UsageError

    if title is None and pricing_read is None:
        raise UsageError("nothing to change", hint="give --title or --pricing-read")
    if pricing_read == "-":
        pricing_read = sys.stdin.read()
    state = app_context(ctx)
    with connect(state.settings) as db, db.transaction(write=True):  # no ORM: see digest.editorial.pairing
        comparison_id, changed = set_comparison(db, comparison, title=title, pricing_read=pricing_read)
    say(ctx, f"comparison {comparison_id}: " + (", ".join(f"changed {c.replace('_', ' ')}" for c in changed)
                                               if changed else "no changes"), note=True)


@comparison_app.command("delete")
def comparison_delete(
    ctx: typer.Context,
    comparison: ComparisonArg,
) -> None:
    """Delete a comparison with its reviews and votes (refused once its issue is sending or sent).

    Example: digest comparison delete 3
    """
    from digest.data.engine import connect
    from digest.editorial.pairing import delete_comparison

    state = app_context(ctx)
    with connect(state.settings) as db, db.transaction(write=True):  # no ORM: see digest.editorial.pairing
        deleted = delete_comparison(db, comparison)
    say(ctx, f"deleted comparison {comparison}: {deleted['title']}", note=True)


def register(app: typer.Typer) -> None:
    app.command("pair")(pair)
    app.command("review")(review)
    app.command("suggest")(suggest)
    app.command("panel")(panel)
    app.add_typer(comparison_app, name="comparison")
