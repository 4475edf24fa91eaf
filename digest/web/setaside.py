"""Actions the web app set aside because a mail scanner made them: listed, and applied by hand.

The canary marks a client address as a scanner for a while; votes and confirmations from it
in that window are recorded as DiscardedAction rows instead of being carried out. Unsubscribes
are never set aside (leaving must always work); "unsubscribe" rows may remain from databases
written by older versions, and are listed and applied like the others. A person behind the same address (a shared office gateway, say) would lose
their click, so the editor can review the list (`digest.data.set_aside_list`, read without the
ORM) and apply what was genuinely theirs.
Applying is what the web app would have done, judged now: a vote the reader has since
replaced by one of their own is not brought back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, select

from digest.data.set_aside_list import SetAside, vote_what
from digest.data.vote_detail import VoteDetail
from digest.errors import NotFoundError
from digest.models import Comparison, DiscardedAction, Subscriber, Suppression, Tool


@dataclass
class Applied:
    id: int
    outcome: str  # applied | superseded | gone | already | refused
    text: str

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "outcome": self.outcome, "text": self.text}


def _vote_target(session: Session, detail: str) -> tuple[Comparison | None, str | None, str]:
    vote = VoteDetail.decode(detail)
    if vote is None:
        return None, None, vote_what(detail, None, None)
    comparison = session.get(Comparison, vote.comparison_id)
    if comparison is None:
        return None, vote.choice, vote_what(detail, vote, None)
    tool_a, tool_b = session.get(Tool, comparison.tool_a_id), session.get(Tool, comparison.tool_b_id)
    names = (tool_a.name if tool_a else "A", tool_b.name if tool_b else "B")
    return comparison, vote.choice, vote_what(detail, vote, names)


def _suppression_of(session: Session, subscriber_id: int) -> Suppression | None:
    subscriber = session.get(Subscriber, subscriber_id)
    return session.exec(select(Suppression).where(Suppression.email_key == subscriber.email_key)).first()


def _describe(session: Session, row: DiscardedAction) -> SetAside:
    subscriber = session.get(Subscriber, row.subscriber_id) if row.subscriber_id is not None else None
    if row.kind == "vote":
        what = _vote_target(session, row.detail)[2]
    elif row.kind == "unsubscribe":
        what = f"unsubscribe ({row.detail})" if row.detail else "unsubscribe"
    else:
        what = row.kind
    return SetAside(id=row.id, kind=row.kind, client=row.client, created_at=row.created_at,
                    subscriber=subscriber.email if subscriber else None, what=what)


def apply_set_aside(session: Session, ids: list[int]) -> list[Applied]:
    """Carry out the given set-aside actions now, in one transaction, and remove them from the list.

    Every id must exist, or nothing is applied. A vote is restored only if the reader has not
    voted in that comparison since (their own later vote wins); an unsubscribe and a
    confirmation go through the same rules as the web app's, except that a confirmation never
    lifts a suppression here: a click nobody can attribute to the person is not their consent.
    """
    from digest.data.votes import record_vote, vote_of
    from digest.web import subscription

    rows = []
    for action_id in dict.fromkeys(ids):
        row = session.get(DiscardedAction, action_id)
        if row is None:
            raise NotFoundError(f"no set-aside action {action_id} (see: digest set-aside list)")
        rows.append(row)
    results = []
    for row in rows:
        described = _describe(session, row)
        if row.subscriber_id is None or session.get(Subscriber, row.subscriber_id) is None:
            results.append(Applied(row.id, "gone", f"{described.what}: the subscriber no longer exists"))
        elif row.kind == "vote":
            comparison, choice, what = _vote_target(session, row.detail)
            if comparison is None or choice is None:
                results.append(Applied(row.id, "gone", f"{what}: nothing to vote in"))
            elif vote_of(session.connection(), subscriber_id=row.subscriber_id, comparison_id=comparison.id):
                results.append(Applied(row.id, "superseded", f"{what}: the reader has voted since; their vote stands"))
            else:
                record_vote(session.connection(), subscriber_id=row.subscriber_id, comparison_id=comparison.id,
                            choice=choice)
                results.append(Applied(row.id, "applied", f"{what}: counted"))
        elif row.kind == "unsubscribe":
            left = subscription.unsubscribe(session, subscriber_id=row.subscriber_id)
            outcome = "already" if left is subscription.UnsubscribeOutcome.ALREADY else "applied"
            results.append(Applied(row.id, outcome, f"{described.subscriber} unsubscribed"
                                   + (" already" if outcome == "already" else "")))
        elif (suppression := _suppression_of(session, row.subscriber_id)) is not None:
            results.append(Applied(row.id, "refused", f"{described.subscriber} confirmation: not applied, the address "
                                   f"is suppressed ({suppression.reason}); only the person's own confirmation "
                                   "lifts that (they can sign up again)"))
        else:
            result = subscription.confirm(session, subscriber_id=row.subscriber_id, requested_at=row.created_at)
            outcome = {"confirmed": "applied", "already": "already"}.get(result.value, "gone")
            results.append(Applied(row.id, outcome, f"{described.subscriber} confirmation: {result.value}"))
        session.delete(row)
    session.flush()
    return results
