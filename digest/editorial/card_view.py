"""A comparison card's parts and their assembly from rows, without the ORM.

Why apart from `digest.editorial.cards` (which loads the rows through a Session and builds the
card here): `digest comparison list` builds the same cards from the rows
`digest.data.comparison_cards` reads with plain SQL, and must not pay for importing SQLModel
and the models. Rows are read by attribute only, so ORM rows and plain records both serve.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from digest.config import Reviewer
from digest.panel import ComparisonFigures, ReviewFact, ToolFigures, comparison_figures
from digest.prices import price_label

if TYPE_CHECKING:
    from digest.models import Comparison, Issue, Review, Tool

STANCE_WORDS = {"ship-both": "ships both", "skip-both": "skips both",
                "incomplete": "has not reviewed both yet"}


def tool_record(tool: Tool) -> dict[str, Any]:
    """A tool as complete JSON."""
    return {"id": tool.id, "slug": tool.slug, "name": tool.name, "url": tool.url,
            "tagline": tool.tagline, "description": tool.description, "category": tool.category,
            "vendor": tool.vendor, "price": tool.price, "price_label": price_label(tool.price),
            "published_at": tool.published_at, "first_seen_at": tool.first_seen_at,
            "feed_id": tool.feed_id, "edited": list(tool.edited)}


@dataclass(frozen=True)
class ToolCard:
    side: str
    tool: Tool
    figures: ToolFigures


@dataclass(frozen=True)
class ScoreLine:
    """One reviewer's row of the scorecard: their review of A and of B, side by side."""

    reviewer: Reviewer
    a: Review | None
    b: Review | None
    stance: str  # favours-a | favours-b | ship-both | skip-both | incomplete


@dataclass(frozen=True)
class ComparisonCard:
    comparison: Comparison
    a: ToolCard
    b: ToolCard
    figures: ComparisonFigures
    scorecard: tuple[ScoreLine, ...]
    issue: Issue | None

    @property
    def winner(self) -> Tool | None:
        return {"a": self.a.tool, "b": self.b.tool}.get(self.figures.verdict)

    @property
    def verdict_label(self) -> str:
        a, b = self.figures.a, self.figures.b
        if self.figures.verdict == "pending":
            waiting = [card.tool.name for card in (self.a, self.b) if card.figures.reviews == 0]
            return f"pending: no reviews of {' or '.join(waiting)} yet"
        if self.figures.verdict == "split":
            return f"split decision ({a.ship_label} each)"
        winner, loser = (a, b) if self.figures.verdict == "a" else (b, a)
        return f"{self.winner.name} wins ({winner.ship_label} vs {loser.ship_label} panel ship)"

    @property
    def verdict_short(self) -> str:
        """The verdict in a word or two, for tables: the winner's name, split, or pending."""
        if self.winner is not None:
            return f"{self.winner.name} wins"
        return {"split": "split decision"}.get(self.figures.verdict, self.figures.verdict)

    def stance_label(self, line: ScoreLine) -> str:
        if line.stance == "favours-a":
            return f"favours {self.a.tool.name}"
        if line.stance == "favours-b":
            return f"favours {self.b.tool.name}"
        return STANCE_WORDS[line.stance]

    @property
    def split_label(self) -> str:
        split = [line for line in self.scorecard if line.stance in ("favours-a", "favours-b")]
        if not split:
            return "no reviewer is split across the pair"
        return "; ".join(f"{line.reviewer.name} {self.stance_label(line)}" for line in split)

    def to_json(self) -> dict[str, Any]:
        """Everything on the card, machine-readable."""
        def tool(card: ToolCard) -> dict[str, Any]:
            f = card.figures
            return {**tool_record(card.tool), "side": card.side, "ship_pct": f.ship_pct,
                    "ship_label": f.ship_label, "ships": f.ships, "reviews": f.reviews,
                    "community_pct": f.community_pct, "community_label": f.community_label,
                    "votes": f.votes}

        def review(row: Review | None) -> dict[str, Any] | None:
            if row is None:
                return None
            return {"id": row.id, "verdict": row.verdict, "quote": row.quote,
                    "created_at": row.created_at, "updated_at": row.updated_at}

        c = self.comparison
        return {
            "id": c.id, "title": c.title, "pricing_read": c.pricing_read,
            "created_at": c.created_at, "updated_at": c.updated_at,
            "a": tool(self.a), "b": tool(self.b),
            "scorecard": [{"reviewer": line.reviewer.key, "name": line.reviewer.name,
                           "remit": line.reviewer.remit, "a": review(line.a), "b": review(line.b),
                           "stance": line.stance} for line in self.scorecard],
            "verdict": self.figures.verdict,
            "winner": self.winner.slug if self.winner else None,
            "verdict_label": self.verdict_label,
            "split_reviewers": list(self.figures.split_reviewers),
            "split_label": self.split_label,
            "total_votes": self.figures.total_votes,
            "issue": ({"number": self.issue.number, "status": self.issue.status}
                      if self.issue else None),
        }


def build_card(*, comparison: Any, tool_a: Any, tool_b: Any, reviews: Sequence[Any], votes: tuple[int, int],
               issue: Any, panel: Sequence[Reviewer]) -> ComparisonCard:
    """The card from its rows: figures from `digest.panel` on the reviews (in id order) and votes.

    Reviewers who have left the panel but reviewed this comparison still appear, after the
    panel, under their key.
    """
    side_of = {tool_a.id: "a", tool_b.id: "b"}
    votes_a, votes_b = votes
    figures = comparison_figures(
        [ReviewFact(r.reviewer, side_of[r.tool_id], r.verdict) for r in reviews if r.tool_id in side_of],
        votes_a=votes_a, votes_b=votes_b, panel=[p.key for p in panel])
    by_key = {(r.reviewer, side_of.get(r.tool_id)): r for r in reviews}
    people = {p.key: p for p in panel}
    scorecard = tuple(
        ScoreLine(reviewer=people.get(s.reviewer) or Reviewer(s.reviewer, s.reviewer, ""),
                  a=by_key.get((s.reviewer, "a")), b=by_key.get((s.reviewer, "b")), stance=s.stance)
        for s in figures.stances)
    return ComparisonCard(comparison=comparison, a=ToolCard("a", tool_a, figures.a),
                          b=ToolCard("b", tool_b, figures.b), figures=figures, scorecard=scorecard, issue=issue)
