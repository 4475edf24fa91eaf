"""A comparison as readers see it: both tool cards, the scorecard, the figures, the verdict.

`comparison_card` loads the rows and asks `digest.panel.comparison_figures` for every number,
so the CLI card, its JSON and (later) the email and web page all show the same figures.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, select

from digest.config import Reviewer
from digest.editorial.card_view import (  # noqa: F401 (names this module has always offered)
    STANCE_WORDS, ComparisonCard, ScoreLine, ToolCard, build_card, price_label, tool_record)
from digest.editorial.lookup import issue_of
from digest.editorial.reviews import reviews_of
from digest.models import Comparison, Tool


def vote_counts(session: Session, comparison_id: int) -> tuple[int, int]:
    """Votes for (A, B), counted by `digest.data.votes` like everywhere else."""
    from digest.data.votes import community_counts

    return community_counts(session.connection(), [comparison_id])[comparison_id]


def comparison_card(*, session: Session, comparison: Comparison,
                    panel: Sequence[Reviewer]) -> ComparisonCard:
    """The comparison's card, figures from `digest.panel` on the stored reviews and votes.

    Reviewers who have left the panel but reviewed this comparison still appear, after the
    panel, under their key.
    """
    tool_a = session.get(Tool, comparison.tool_a_id)
    tool_b = session.get(Tool, comparison.tool_b_id)
    return build_card(comparison=comparison, tool_a=tool_a, tool_b=tool_b, reviews=reviews_of(session, comparison.id),
                      votes=vote_counts(session, comparison.id), issue=issue_of(session, comparison.id), panel=panel)


def list_cards(*, session: Session, panel: Sequence[Reviewer], unassigned: bool = False) -> list[ComparisonCard]:
    """Every comparison's card, newest first; `unassigned` keeps those in no issue."""
    from digest.models import IssueComparison

    query = select(Comparison).order_by(Comparison.id.desc())
    if unassigned:
        query = query.where(Comparison.id.not_in(select(IssueComparison.comparison_id)))
    return [comparison_card(session=session, comparison=c, panel=panel) for c in session.exec(query).all()]
