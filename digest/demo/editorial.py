"""The editorial stages of `digest demo`: from the polled sample tools to an assembled issue.

Each stage takes the demo's `DemoContext` and goes through the library as an editor would
through the CLI: ask for suggestions, pair the top one, record a bundled sample scorecard
(`digest/demo/samples/scorecard-N.toml`, our own invented quotes), and assemble a ready issue.
`assemble_sample_issue` is the reusable step; a later stage builds issue 2 from
`scorecard-2.toml` the same way.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING

from digest.demo.context import DemoContext
from digest.errors import StateError
from digest.wording import count

if TYPE_CHECKING:
    from sqlmodel import Session

    from digest.config import Settings
    from digest.editorial import Suggestion

ISSUE_1 = {
    "scorecard": "scorecard-1.toml",
    "subject": "Two robot reviewers, one pull request",
    "preheader": "Patchwise writes the missing tests; Lintern explains every finding. The panel picks one.",
    "intro": ("Code review bots arrived in force this week. We put the two most talked-about in front of "
              "the panel: one that answers a review with tests, one that answers it with explanations. "
              "Four reviewers, two verdicts each, and a pricing read before you install either."),
}
ISSUE_2 = {
    "scorecard": "scorecard-2.toml",
    "subject": "After the meeting: notes that act, logs that remember",
    "preheader": "Minutely drafts your follow-ups; Recapper keeps a log of every decision.",
    "intro": ("Two tools promise that nothing said on a call gets lost. One turns action items into "
              "follow-up emails the moment the call ends; the other turns months of recordings into a "
              "searchable record of decisions. The panel tried both."),
}


@dataclass(frozen=True)
class SampleIssue:
    comparison_id: int
    issue_number: int
    tool_a: str
    tool_b: str


def sample_scorecard(name: str) -> str:
    """The text of a bundled sample scorecard."""
    return resources.files("digest.demo").joinpath("samples", name).read_text(encoding="utf-8")


def scorecard_tools(text: str) -> tuple[str, str]:
    """The slugs of tools A and B of a sample scorecard (its [a] and [b] tables)."""
    data = tomllib.loads(text)
    return str(data["a"]["tool"]), str(data["b"]["tool"])


def assemble_sample_issue(ctx: DemoContext, *, scorecard: str, subject: str, preheader: str,
                          intro: str, include_older: bool = False) -> SampleIssue:
    """Pair the suggested pair the sample scorecard reviews, record it, assemble a ready issue.

    `include_older` looks among tools found before the last sent issue too (issue 2 of the demo
    is made from tools polled before issue 1 went out).

    Raises StateError when the suggestions do not offer that pair (the sample feeds changed)
    or when the issue is not ready afterwards. Prints each step with `ctx.say`.
    """
    from digest.data.engine import connect
    from digest.db import open_database, session_scope
    from digest.editorial.assembly import create_issue
    from digest.editorial.issue_view import read_issue_detail

    settings = ctx.need_settings()
    text = sample_scorecard(scorecard)
    _pick_suggestion(ctx, settings, wanted=scorecard_tools(text), scorecard=scorecard, include_older=include_older)
    engine = open_database(settings)
    try:
        comparison_id, tool_a, tool_b = _pair(ctx, settings, text)
        with session_scope(engine, write=True) as session:
            _review(ctx, session, settings, comparison_id, text=text, scorecard=scorecard)
        with connect(settings) as db, db.transaction(write=True):  # as `digest issue new` makes it
            number = create_issue(db, subject=subject, comparisons=[comparison_id], preheader=preheader, intro=intro)
            state = read_issue_detail(db, number, panel=settings.panel).readiness
            if not state.ready:
                raise StateError(f"demo issue {number} is not ready: {state.missing[0].message}")
        result = SampleIssue(comparison_id, number, tool_a, tool_b)
        with session_scope(engine) as session:
            _say_card(ctx, session, settings, result.comparison_id)
        ctx.say(f"digest issue new --subject \"{subject}\" --comparison {result.comparison_id}: "
                f"issue {result.issue_number}, ready")
        return result
    finally:
        engine.dispose()


def _pick_suggestion(ctx: DemoContext, settings: Settings, *, wanted: tuple[str, str], scorecard: str,
                     include_older: bool) -> Suggestion:
    """`digest suggest`: the suggestion for the pair the scorecard reviews (StateError if none)."""
    from digest.data.engine import connect
    from digest.data.pair_candidates import read_catalogue
    from digest.editorial import suggest_pairs

    with connect(settings) as db, db.transaction():
        catalogue = read_catalogue(db, include_older=include_older)
    report = suggest_pairs(catalogue)
    if not report.suggestions:
        raise StateError("the demo found no pair to suggest among the polled tools")
    ranked = [(s.tool_a.slug, s.tool_b.slug) for s in report.suggestions]
    top = report.suggestions[0]
    ctx.say(f"digest suggest: {count(len(ranked), 'pair')} among {count(report.candidates, 'unpaired tool')}; top: "
            f"{top.tool_a.slug} vs {top.tool_b.slug} ({top.reason})")
    chosen = next((s for s in report.suggestions if {s.tool_a.slug, s.tool_b.slug} == set(wanted)), None)
    if chosen is None:
        raise StateError(f"the sample scorecard {scorecard} reviews {' and '.join(wanted)}, "
                         f"but the suggestions are {ranked[:5]}")
    if chosen is not top:
        ctx.say(f"  (the sample scorecard is for {chosen.tool_a.slug} vs {chosen.tool_b.slug}, "
                f"suggestion {report.suggestions.index(chosen) + 1})")
    return chosen


def _pair(ctx: DemoContext, settings: Settings, text: str) -> tuple[int, str, str]:
    """`digest pair` for the tools the sample scorecard names: the comparison's id and the slugs."""
    from digest.data.engine import connect
    from digest.editorial.pairing import pair_tools

    tool_a, tool_b = scorecard_tools(text)
    with connect(settings) as db, db.transaction(write=True):  # as `digest pair` makes it
        made = pair_tools(db, tool_a=tool_a, tool_b=tool_b)
    ctx.say(f"digest pair {made.slug_a} {made.slug_b}: comparison {made.comparison_id}, \"{made.title}\"")
    return made.comparison_id, made.slug_a, made.slug_b


def _review(ctx: DemoContext, session: Session, settings: Settings, comparison_id: int, *, text: str,
            scorecard: str) -> None:
    """`digest review --file`: the sample scorecard's reviews and pricing read."""
    from digest.editorial import get_comparison, record_scorecard

    comparison = get_comparison(session, comparison_id)
    changes = record_scorecard(session=session, comparison=comparison, text=text, filename=scorecard,
                               panel=settings.panel)
    recorded = sum(1 for change in changes if change.startswith("recorded "))
    ctx.say(f"digest review {comparison.id} --file {scorecard}: {count(recorded, 'review')} and the pricing read")


def _say_card(ctx: DemoContext, session: Session, settings: Settings, comparison_id: int) -> None:
    """The panel's figures for the comparison, as its card shows them."""
    from digest.editorial import comparison_card, get_comparison

    card = comparison_card(session=session, comparison=get_comparison(session, comparison_id), panel=settings.panel)
    ctx.say(f"  panel ship: {card.a.tool.name} {card.figures.a.ship_label}, "
            f"{card.b.tool.name} {card.figures.b.ship_label}; verdict: {card.verdict_label}; "
            f"split: {card.split_label}")


def first_issue(ctx: DemoContext) -> None:
    """Suggest, pair the top pair, record the sample scorecard-1, assemble issue 1."""
    _remember(ctx, assemble_sample_issue(ctx, **ISSUE_1))


def second_issue(ctx: DemoContext) -> None:
    """For after issue 1 is sent: the same for scorecard-2 and issue 2, from the tools left."""
    _remember(ctx, assemble_sample_issue(ctx, **ISSUE_2, include_older=True))


def _remember(ctx: DemoContext, made: SampleIssue) -> None:
    ctx.comparisons.append(made.comparison_id)
    ctx.issues.append(made.issue_number)
