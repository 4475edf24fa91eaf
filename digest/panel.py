"""Panel math: the derived figures of a comparison, computed in this one place.

Everything the CLI card, the email, the text part and the web page show as a number comes
from `comparison_figures`, so that the four can never disagree. The functions are pure (plain
values in, frozen dataclasses out); `digest.editorial` loads the rows and calls them.

Rules:
- a tool's panel ship % is ship verdicts / reviews of that tool, rounded half up; no reviews
  gives None (shown as "—");
- community vote % is the share of votes for each tool; no votes gives None;
- the overall verdict goes to the higher ship %; equal percentages are a split decision; a
  comparison where either tool has no review yet is pending;
- the reviewer split says, per panel member, whether they favour A, favour B, ship both or
  skip both (or have not reviewed both tools yet).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

NONE_SHOWN = "—"


@dataclass(frozen=True)
class ReviewFact:
    """One review reduced to what the math needs."""

    reviewer: str
    side: str  # "a" or "b"
    verdict: str  # "ship" or "skip"


@dataclass(frozen=True)
class ToolFigures:
    ships: int
    reviews: int
    ship_pct: int | None
    votes: int
    community_pct: int | None

    @property
    def ship_label(self) -> str:
        return NONE_SHOWN if self.ship_pct is None else f"{self.ship_pct}%"

    @property
    def community_label(self) -> str:
        return NONE_SHOWN if self.community_pct is None else f"{self.community_pct}%"


@dataclass(frozen=True)
class ReviewerStance:
    reviewer: str
    a: str | None  # verdict on tool A, None if not reviewed
    b: str | None
    stance: str  # favours-a | favours-b | ship-both | skip-both | incomplete

    @property
    def disagrees(self) -> bool:
        """True when the reviewer ships one tool and skips the other."""
        return self.stance in ("favours-a", "favours-b")


@dataclass(frozen=True)
class ComparisonFigures:
    a: ToolFigures
    b: ToolFigures
    verdict: str  # a | b | split | pending
    stances: tuple[ReviewerStance, ...]
    total_votes: int

    @property
    def split_reviewers(self) -> tuple[str, ...]:
        """Reviewers who disagree across the pair (ship one, skip the other)."""
        return tuple(s.reviewer for s in self.stances if s.disagrees)


def percent(part: int, whole: int) -> int | None:
    """part/whole as a whole percentage rounded half up; None when whole is 0."""
    if whole <= 0:
        return None
    return (200 * part + whole) // (2 * whole)


def community_split(votes_a: int, votes_b: int) -> tuple[int | None, int | None]:
    """Each side's share of the votes, summing to exactly 100 when there are any."""
    total = votes_a + votes_b
    if total == 0:
        return None, None
    share_a = percent(votes_a, total)
    return share_a, 100 - share_a


def _stance(a: str | None, b: str | None) -> str:
    if a is None or b is None:
        return "incomplete"
    if a == b:
        return "ship-both" if a == "ship" else "skip-both"
    return "favours-a" if a == "ship" else "favours-b"


def comparison_figures(reviews: Iterable[ReviewFact], *, votes_a: int = 0, votes_b: int = 0,
                       panel: Sequence[str] = ()) -> ComparisonFigures:
    """The figures of one comparison from its reviews and vote counts.

    `panel` orders the reviewer stances (panel order first, then any other reviewer keys
    found in the reviews, alphabetically) and lists panel members who have not reviewed yet.
    """
    verdicts: dict[tuple[str, str], str] = {}
    for fact in reviews:
        verdicts[(fact.reviewer, fact.side)] = fact.verdict
    community_a, community_b = community_split(votes_a, votes_b)

    def tool(side: str, community: int | None, votes: int) -> ToolFigures:
        mine = [v for (_, s), v in verdicts.items() if s == side]
        ships = sum(1 for v in mine if v == "ship")
        return ToolFigures(ships=ships, reviews=len(mine), ship_pct=percent(ships, len(mine)),
                           votes=votes, community_pct=community)

    figures_a = tool("a", community_a, votes_a)
    figures_b = tool("b", community_b, votes_b)
    if figures_a.ship_pct is None or figures_b.ship_pct is None:
        verdict = "pending"
    elif figures_a.ship_pct == figures_b.ship_pct:
        verdict = "split"
    else:
        verdict = "a" if figures_a.ship_pct > figures_b.ship_pct else "b"

    seen = {reviewer for reviewer, _ in verdicts}
    order = list(panel) + sorted(seen - set(panel))
    stances = tuple(
        ReviewerStance(reviewer=key, a=verdicts.get((key, "a")), b=verdicts.get((key, "b")),
                       stance=_stance(verdicts.get((key, "a")), verdicts.get((key, "b"))))
        for key in order
    )
    return ComparisonFigures(a=figures_a, b=figures_b, verdict=verdict, stances=stances,
                             total_votes=votes_a + votes_b)
