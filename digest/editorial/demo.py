"""The editorial stages of `digest demo`: from the polled sample tools to an assembled issue.

Each stage takes the demo's shared run (`run.settings`, `run.say`) and goes through the library
as an editor would through the CLI: ask for suggestions, pair the top one, record a bundled
sample scorecard (`digest/samples/scorecard-N.toml`, our own invented quotes), and assemble a
ready issue. `assemble_sample_issue` is the reusable step; a later stage builds issue 2 from
`scorecard-2.toml` the same way.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Any

from digest.errors import StateError
from digest.wording import count

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
    return resources.files("digest").joinpath("samples", name).read_text(encoding="utf-8")


def scorecard_tools(text: str) -> tuple[str, str]:
    """The slugs of tools A and B of a sample scorecard (its [a] and [b] tables)."""
    data = tomllib.loads(text)
    return str(data["a"]["tool"]), str(data["b"]["tool"])


def assemble_sample_issue(run: Any, *, scorecard: str, subject: str, preheader: str,
                          intro: str, include_older: bool = False) -> SampleIssue:
    """Pair the suggested pair the sample scorecard reviews, record it, assemble a ready issue.

    `include_older` looks among tools found before the last sent issue too (issue 2 of the demo
    is made from tools polled before issue 1 went out).

    Raises StateError when the suggestions do not offer that pair (the sample feeds changed)
    or when the issue is not ready afterwards. Prints each step with `run.say`.
    """
    from digest.db import open_database, session_scope
    from digest.editorial import (create_comparison, create_issue, readiness, record_scorecard,
                                  suggest_pairs)

    settings = run.settings
    text = sample_scorecard(scorecard)
    wanted = scorecard_tools(text)
    engine = open_database(settings)
    try:
        with session_scope(engine, write=True) as session:
            report = suggest_pairs(session=session, include_older=include_older)
            if not report.suggestions:
                raise StateError("the demo found no pair to suggest among the polled tools")
            ranked = [(s.tool_a.slug, s.tool_b.slug) for s in report.suggestions]
            top = report.suggestions[0]
            run.say(f"digest suggest: {count(len(ranked), 'pair')} among {count(report.candidates, 'unpaired tool')}; top: "
                    f"{top.tool_a.slug} vs {top.tool_b.slug} ({top.reason})")
            chosen = next((s for s in report.suggestions if {s.tool_a.slug, s.tool_b.slug} == set(wanted)), None)
            if chosen is None:
                raise StateError(f"the sample scorecard {scorecard} reviews {' and '.join(wanted)}, "
                                 f"but the suggestions are {ranked[:5]}")
            if chosen is not top:
                run.say(f"  (the sample scorecard is for {chosen.tool_a.slug} vs {chosen.tool_b.slug}, "
                        f"suggestion {report.suggestions.index(chosen) + 1})")
            made = create_comparison(session=session, tool_a=wanted[0], tool_b=wanted[1])
            comparison = made.comparison
            run.say(f"digest pair {made.tool_a.slug} {made.tool_b.slug}: comparison {comparison.id}, "
                    f"\"{comparison.title}\"")
            changes = record_scorecard(session=session, comparison=comparison, text=text, filename=scorecard,
                                       panel=settings.panel)
            recorded = sum(1 for change in changes if change.startswith("recorded "))
            run.say(f"digest review {comparison.id} --file {scorecard}: {count(recorded, 'review')} and the pricing read")
            issue = create_issue(session=session, subject=subject, comparisons=[comparison.id],
                                 preheader=preheader, intro=intro)
            state = readiness(session=session, issue=issue, panel=settings.panel)
            if not state.ready:
                raise StateError(f"demo issue {issue.number} is not ready: {state.missing[0].message}")
            result = SampleIssue(comparison.id, issue.number, made.tool_a.slug, made.tool_b.slug)
        with session_scope(engine) as session:
            from digest.editorial import comparison_card, get_comparison

            card = comparison_card(session=session, comparison=get_comparison(session, result.comparison_id),
                                   panel=settings.panel)
            run.say(f"  panel ship: {card.a.tool.name} {card.figures.a.ship_label}, "
                    f"{card.b.tool.name} {card.figures.b.ship_label}; verdict: {card.verdict_label}; "
                    f"split: {card.split_label}")
        run.say(f"digest issue new --subject \"{subject}\" --comparison {result.comparison_id}: "
                f"issue {result.issue_number}, ready")
        return result
    finally:
        engine.dispose()


def stage_first_issue(run: Any) -> None:
    """Demo stage: pair the top suggestion, record scorecard-1, assemble issue 1."""
    made = assemble_sample_issue(run, **ISSUE_1)
    _remember(run, made)


def stage_second_issue(run: Any) -> None:
    """Demo stage (for after issue 1 is sent): the same for scorecard-2 and issue 2."""
    made = assemble_sample_issue(run, **ISSUE_2, include_older=True)
    _remember(run, made)


def _remember(run: Any, made: SampleIssue) -> None:
    for name, value in (("comparisons", made.comparison_id), ("issues", made.issue_number)):
        if not isinstance(getattr(run, name, None), list):
            setattr(run, name, [])
        getattr(run, name).append(value)
