"""An issue as `digest issue show` shows it, and its readiness, from rows without the ORM.

Why apart from `digest.editorial.issues` (which loads the rows through a Session): `issue show`
reads them with plain SQL (`digest.data.comparison_cards`) and must not pay for importing
SQLModel and the models. Rows are read by attribute only, so ORM rows and plain records both serve.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from digest.config import Reviewer

if TYPE_CHECKING:
    from digest.data.engine import Database
    from digest.editorial.card_view import ComparisonCard
    from digest.models import Issue


@dataclass(frozen=True)
class Missing:
    """A reviewer who has not reviewed some tools of one comparison (or an empty issue)."""

    message: str
    comparison_id: int | None = None
    reviewer: str | None = None
    tools: tuple[str, ...] = ()


@dataclass(frozen=True)
class Readiness:
    missing: tuple[Missing, ...]
    notes: tuple[str, ...] = ()  # worth a look, but not blocking

    @property
    def ready(self) -> bool:
        return not self.missing


def assess(issue: Any, slots: Sequence[tuple[Any, tuple[Any, Any], Sequence[Any]]],
           panel: Sequence[Reviewer]) -> Readiness:
    """The readiness of `issue` from its slots in reading order: each slot's comparison, its
    tools (A, B) and its reviews."""
    missing: list[Missing] = []
    notes: list[str] = []
    if not slots:
        missing.append(Missing("no comparisons yet (add one with `digest issue add`)"))
    if not issue.preheader:
        notes.append("no preheader (the inbox shows the start of the email instead)")
    if not issue.intro:
        notes.append("no intro")
    for comparison, tools, reviews in slots:
        given = {(r.reviewer, r.tool_id) for r in reviews}
        for reviewer in panel:
            lacking = tuple(t.slug for t in tools if (reviewer.key, t.id) not in given)
            if lacking:
                missing.append(Missing(
                    f"comparison {comparison.id} ({comparison.title}): {reviewer.key} has not reviewed "
                    + " or ".join(lacking), comparison.id, reviewer.key, lacking))
        if not comparison.pricing_read:
            notes.append(f"comparison {comparison.id} has no pricing read")
    return Readiness(missing=tuple(missing), notes=tuple(notes))


@dataclass(frozen=True)
class IssueDetail:
    """What `digest issue show` shows the editor: the issue, its cards in order, its readiness.
    (Not `digest.view.IssueView`, the render's view of an issue for one medium.)"""

    issue: Issue
    cards: tuple[ComparisonCard, ...]
    readiness: Readiness

    def to_json(self) -> dict[str, Any]:
        i = self.issue
        return {"id": i.id, "number": i.number, "status": i.status, "subject": i.subject,
                "preheader": i.preheader, "intro": i.intro, "ready": self.readiness.ready,
                "missing": [{"message": m.message, "comparison": m.comparison_id,
                             "reviewer": m.reviewer, "tools": list(m.tools)} for m in self.readiness.missing],
                "notes": list(self.readiness.notes),
                "comparisons": [{"position": n, **card.to_json()} for n, card in enumerate(self.cards, 1)],
                "scheduled_at": i.scheduled_at, "queued_at": i.queued_at, "sent_at": i.sent_at,
                "created_at": i.created_at, "updated_at": i.updated_at}


def read_issue_detail(db: Database, number: int, *, panel: Sequence[Reviewer]) -> IssueDetail | None:
    """Issue `number` with its cards and readiness, read through `digest.data.comparison_cards`
    in the caller's transaction (`digest issue show`, and `issue new` on the issue it made);
    None when there is no such issue."""
    from digest.data.comparison_cards import issue_rows
    from digest.editorial.card_view import build_card

    found, rows = issue_rows(db, number)
    if found is None:
        return None
    cards = tuple(build_card(comparison=r.comparison, tool_a=r.tool_a, tool_b=r.tool_b, reviews=r.reviews,
                             votes=r.votes, issue=r.issue, panel=panel) for r in rows)
    return IssueDetail(issue=found, cards=cards,
                       readiness=assess(found, [(r.comparison, (r.tool_a, r.tool_b), r.reviews) for r in rows], panel))
