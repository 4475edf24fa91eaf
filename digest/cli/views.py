"""Rich renderings of editorial records for people: the comparison card, the issue, lists.

Only presentation: every figure comes from the library's cards (and so from `digest.panel`).
Imported inside command functions, since rich costs start-up time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from digest.editorial.cards import ComparisonCard, ToolCard
    from digest.data.issue_list import IssueListing
    from digest.editorial.issues import IssueDetail
    from digest.editorial.suggest import SuggestionReport

VERDICT_STYLE = {"ship": "bold green", "skip": "bold red"}


def _tool_panel(card: ToolCard) -> Panel:
    tool, figures = card.tool, card.figures
    from digest.editorial.card_view import price_label

    stats = Table.grid(padding=(0, 2))
    for _ in range(3):
        stats.add_column()
    stats.add_row(Text(figures.ship_label, style="bold"), Text(figures.community_label, style="bold"),
                  Text(price_label(tool.price), style="bold"))
    stats.add_row(Text("Panel ship", style="dim"), Text("Community", style="dim"), Text("Entry", style="dim"))
    parts = [Text(tool.category or "uncategorised", style="dim"), Text(tool.name, style="bold"),
             Text(tool.tagline or "", style="italic"), Text(""), stats]
    if tool.description:
        parts += [Text(""), Text(tool.description)]
    detail = f"{tool.slug} · id {tool.id}" + (f" · {tool.url}" if tool.url else "")
    parts += [Text(""), Text(detail, style="dim")]
    return Panel(Group(*parts), title=f"{card.side.upper()}", title_align="left")


def _verdict_cell(review) -> Text:  # noqa: ANN001
    if review is None:
        return Text("not reviewed", style="dim italic")
    text = Text(review.verdict.upper(), style=VERDICT_STYLE.get(review.verdict, "bold"))
    text.append(f"\n“{review.quote}”")
    return text


def comparison_renderable(card: ComparisonCard) -> Group:
    """The whole card: header, both tools, the scorecard, pricing read, verdict and split."""
    c = card.comparison
    where = f"issue {card.issue.number} ({card.issue.status})" if card.issue else "in no issue"
    header = Text(f"Comparison {c.id} · {c.title}", style="bold")
    header.append(f"   {where}", style="dim")
    tools = Table.grid(expand=True, padding=(0, 1))
    tools.add_column(ratio=1)
    tools.add_column(ratio=1)
    tools.add_row(_tool_panel(card.a), _tool_panel(card.b))

    scorecard = Table(title="Reviewer scorecard", title_justify="left", expand=True, show_lines=True)
    scorecard.add_column("Reviewer", width=14, no_wrap=False)
    scorecard.add_column(f"A · {card.a.tool.name}", ratio=3)
    scorecard.add_column(f"B · {card.b.tool.name}", ratio=3)
    for line in card.scorecard:
        who = Text(line.reviewer.name, style="bold")
        who.append(f"\n{line.reviewer.key}", style="dim")
        scorecard.add_row(who, _verdict_cell(line.a), _verdict_cell(line.b))

    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column()
    facts.add_row("Pricing read", c.pricing_read or Text("not written yet", style="dim italic"))
    facts.add_row("Verdict", card.verdict_label)
    facts.add_row("Reviewer split", card.split_label)
    facts.add_row("Community", f"{card.figures.total_votes} vote{'s' if card.figures.total_votes != 1 else ''}")
    return Group(header, tools, scorecard, facts)


def issue_renderable(view: IssueDetail) -> Group:
    i = view.issue
    state = "ready" if view.readiness.ready else "not ready"
    header = Text(f"Issue {i.number} · {i.status} · {state}",
                  style="bold green" if view.readiness.ready else "bold yellow")
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column()
    facts.add_row("Subject", i.subject)
    facts.add_row("Preheader", i.preheader or Text("none", style="dim italic"))
    facts.add_row("Intro", i.intro or Text("none", style="dim italic"))
    if i.scheduled_at:
        facts.add_row("Scheduled", i.scheduled_at.isoformat(timespec="minutes"))
    if i.sent_at:
        facts.add_row("Sent", i.sent_at.isoformat(timespec="minutes"))
    parts = [header, facts]
    if view.cards:
        table = Table(title="Comparisons", title_justify="left", expand=True)
        for column in ("#", "id", "title", "A ship", "B ship", "verdict"):
            table.add_column(column)
        for position, card in enumerate(view.cards, start=1):
            table.add_row(str(position), str(card.comparison.id), card.comparison.title,
                          f"{card.a.tool.slug} {card.figures.a.ship_label}",
                          f"{card.b.tool.slug} {card.figures.b.ship_label}", card.verdict_short)
        parts.append(table)
    if view.readiness.missing:
        parts.append(Text("Missing before it is ready:", style="bold"))
        parts += [Text(f"  - {m.message}") for m in view.readiness.missing]
    if view.readiness.notes:
        parts.append(Text("Notes:", style="bold"))
        parts += [Text(f"  - {note}", style="dim") for note in view.readiness.notes]
    return Group(*parts)


def issues_table(summaries: list[IssueListing]) -> Table:
    table = Table(expand=False)
    for column in ("number", "status", "ready", "comparison ids", "subject"):
        table.add_column(column)
    for s in summaries:
        ready = "yes" if s.ready else f"no ({s.missing} missing)"
        table.add_row(str(s.issue.number), s.issue.status, ready,
                      ", ".join(str(c) for c in s.comparisons) or "-", s.issue.subject)
    return table


def suggestions_table(report: SuggestionReport) -> Table:
    table = Table(expand=True)
    for column in ("#", "A", "B", "score", "why"):
        table.add_column(column)
    for rank, s in enumerate(report.suggestions, start=1):
        table.add_row(str(rank), s.tool_a.slug, s.tool_b.slug, f"{s.score:.0f}", s.reason)
    return table
