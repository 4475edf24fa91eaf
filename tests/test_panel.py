"""Panel math on the edge cases a reader would notice: no reviews, ties, a reviewer missing."""

from __future__ import annotations

import pytest

from digest.panel import ReviewFact, comparison_figures, community_split, percent

PANEL = ("builder", "skeptic", "buyer", "futurist")


def facts(a: str, b: str) -> list[ReviewFact]:
    """Reviews from a compact form: 'SSKS' means builder ship, skeptic ship, buyer skip, ..."""
    out = []
    for side, verdicts in (("a", a), ("b", b)):
        for reviewer, letter in zip(PANEL, verdicts):
            if letter != "-":
                out.append(ReviewFact(reviewer, side, "ship" if letter == "S" else "skip"))
    return out


def test_no_reviews_is_pending_with_dashes() -> None:
    figures = comparison_figures([], panel=PANEL)
    assert figures.verdict == "pending"
    assert figures.a.ship_label == "—" and figures.b.community_label == "—"
    assert [s.stance for s in figures.stances] == ["incomplete"] * 4


def test_higher_ship_percentage_wins() -> None:
    figures = comparison_figures(facts("SSSS", "SSSK"), panel=PANEL)
    assert (figures.a.ship_pct, figures.b.ship_pct, figures.verdict) == (100, 75, "a")
    assert figures.split_reviewers == ("futurist",)


def test_equal_percentages_are_a_split_decision() -> None:
    figures = comparison_figures(facts("SKSK", "KSKS"), panel=PANEL)
    assert figures.verdict == "split"
    assert figures.split_reviewers == PANEL


def test_one_reviewer_missing_counts_only_given_reviews() -> None:
    figures = comparison_figures(facts("SSS-", "SKKK"), panel=PANEL)
    assert figures.a.reviews == 3 and figures.a.ship_pct == 100
    assert figures.b.ship_pct == 25
    assert figures.stances[3].stance == "incomplete"


def test_rounding_and_community_shares_sum_to_100() -> None:
    assert percent(1, 3) == 33 and percent(2, 3) == 67 and percent(1, 8) == 13
    assert community_split(1, 2) == (33, 67)
    assert community_split(0, 0) == (None, None)
    figures = comparison_figures(facts("SSSS", "KKKK"), votes_a=2, votes_b=5, panel=PANEL)
    assert (figures.a.community_pct, figures.b.community_pct, figures.total_votes) == (29, 71, 7)


@pytest.mark.parametrize(("a", "b", "stance"), [("S", "S", "ship-both"), ("K", "K", "skip-both"),
                                               ("S", "K", "favours-a"), ("K", "S", "favours-b")])
def test_stances(a: str, b: str, stance: str) -> None:
    assert comparison_figures(facts(a, b), panel=PANEL).stances[0].stance == stance
