"""How an issue did: `digest issue report N`, from what the database already knows.

No open or click tracking: every figure comes from the delivery queue, the bounce and
complaint events (`BounceEvent`, which names its issue), the votes, the set-aside actions and
the subscriber rows. Two figures need a rule, because nothing in a row names the issue:

- an unsubscribe (a reader's own link: the suppression's reason is `unsubscribed`; the
  editor's `removed` is not counted) is attributed to the last issue the reader was *sent*
  before leaving (the newest delivery with `sent_at` at or before `unsubscribed_at`); the
  unsubscribe link is signed per reader, not per issue, so that is the issue they read last;
- the sign-ups of an issue are the subscribers created in its week: from the moment it was
  queued until the next issue was queued, seven days at most.

A draft (or scheduled) issue has no deliveries yet: its figures are zero and `sent` is False.
"""

from __future__ import annotations

from collections import Counter as Tally
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from digest.data.votes import community_counts, set_aside_votes
from digest.issue_state import GONE_OUT
from digest.models import (BounceEvent, BounceKind, Comparison, Delivery, DeliveryStatus, Issue, IssueComparison,
                           Subscriber, SubscriberStatus, Suppression, Tool)

WEEK = timedelta(days=7)
PREVIOUS = 3  # issues shown beside the one asked for
# What the common enhanced status codes (RFC 3463) mean, for the "bounces by reason" chart.
STATUS_WORDS = {
    "5.1.1": "no such mailbox", "5.1.2": "no such domain", "5.1.10": "domain takes no mail",
    "5.2.1": "mailbox disabled", "5.2.2": "mailbox full", "4.2.2": "mailbox full",
    "5.4.1": "no access to mailbox", "5.7.1": "refused by policy", "4.7.1": "deferred by policy",
    "4.4.1": "no answer from host", "4.4.7": "expired in queue", "5.4.4": "no route to domain",
}


@dataclass(frozen=True)
class ComparisonVotes:
    """The counted votes of one comparison, and the ones set aside as a mail scanner's."""

    comparison_id: int
    title: str
    tool_a: str
    tool_b: str
    votes_a: int
    votes_b: int
    set_aside: int

    @property
    def counted(self) -> int:
        return self.votes_a + self.votes_b

    @property
    def set_aside_share(self) -> float:
        """Of every vote click, the share that was set aside (0.0 when there was none)."""
        total = self.counted + self.set_aside
        return self.set_aside / total if total else 0.0

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "counted": self.counted, "set_aside_share": round(self.set_aside_share, 4)}


@dataclass(frozen=True)
class IssueFigures:
    """One issue's figures; every count is of readers (deliveries) or of events, never opens."""

    number: int
    subject: str
    status: str
    queued_at: datetime | None
    queued: int = 0  # deliveries made when the issue was queued
    delivered: int = 0  # accepted by the relay
    waiting: int = 0  # still in the queue (first try or a retry)
    failed: int = 0  # refused by the relay for good, or out of retries
    skipped: int = 0  # the reader left before their turn
    hard_bounces: int = 0
    soft_bounces: int = 0
    complaints: int = 0
    unsubscribes: int = 0
    signups: int = 0
    bounce_reasons: dict[str, int] = field(default_factory=dict)
    votes: list[ComparisonVotes] = field(default_factory=list)

    @property
    def sent(self) -> bool:
        return self.status in GONE_OUT

    @property
    def losses(self) -> int:
        """Readers the list lost through this issue: unsubscribes, complaints and hard bounces."""
        return self.unsubscribes + self.complaints + self.hard_bounces

    @property
    def complaint_rate(self) -> float:
        return self.complaints / self.delivered if self.delivered else 0.0

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["queued_at"] = self.queued_at.isoformat() if self.queued_at else None
        data["votes"] = [v.to_json() for v in self.votes]
        data.update(sent=self.sent, losses=self.losses, complaint_rate=round(self.complaint_rate, 4))
        return data


@dataclass(frozen=True)
class IssueReport:
    """The issue asked for and, beside it, the issues sent before it (newest first)."""

    issue: IssueFigures
    previous: list[IssueFigures]

    @property
    def series(self) -> list[IssueFigures]:
        """The issues oldest first, the one asked for last: the growth chart's order."""
        return [*reversed(self.previous), self.issue]

    def to_json(self) -> dict[str, Any]:
        return {"issue": self.issue.to_json(), "previous": [p.to_json() for p in self.previous]}


def issue_report(*, session: Session, issue: Issue, previous: int = PREVIOUS) -> IssueReport:
    """The figures of `issue` and of up to `previous` issues sent before it."""
    earlier = session.exec(select(Issue).where(Issue.number < issue.number, Issue.status.in_(GONE_OUT))
                           .order_by(Issue.number.desc()).limit(previous)).all()
    return IssueReport(issue=_figures(session, issue), previous=[_figures(session, i) for i in earlier])


def _figures(session: Session, issue: Issue) -> IssueFigures:
    base = IssueFigures(number=issue.number, subject=issue.subject, status=issue.status, queued_at=issue.queued_at,
                        votes=_votes(session, issue))
    if issue.status not in GONE_OUT:
        return base
    deliveries = dict(session.exec(select(Delivery.status, func.count()).where(Delivery.issue_id == issue.id)
                                   .group_by(Delivery.status)).all())
    events = session.exec(select(BounceEvent.kind, BounceEvent.status)
                          .where(BounceEvent.issue_number == issue.number)).all()
    kinds = Tally(kind for kind, _ in events)
    reasons = Tally(_reason(kind, status) for kind, status in events
                    if kind in (BounceKind.HARD.value, BounceKind.SOFT.value))
    return replace(
        base, queued=sum(deliveries.values()), delivered=deliveries.get(DeliveryStatus.SENT.value, 0),
        waiting=deliveries.get(DeliveryStatus.QUEUED.value, 0), failed=deliveries.get(DeliveryStatus.FAILED.value, 0),
        skipped=deliveries.get(DeliveryStatus.SKIPPED.value, 0),
        hard_bounces=kinds[BounceKind.HARD.value], soft_bounces=kinds[BounceKind.SOFT.value],
        complaints=kinds[BounceKind.COMPLAINT.value], bounce_reasons=dict(reasons.most_common()),
        unsubscribes=_unsubscribes(session, issue), signups=_signups(session, issue))


def _reason(kind: str, status: str) -> str:
    if not status:
        return f"{kind} (no status code)"
    words = STATUS_WORDS.get(status)
    return f"{status} {words}" if words else status


def _votes(session: Session, issue: Issue) -> list[ComparisonVotes]:
    rows = session.exec(select(Comparison).join(IssueComparison, IssueComparison.comparison_id == Comparison.id)
                        .where(IssueComparison.issue_id == issue.id).order_by(IssueComparison.position)).all()
    if not rows:
        return []
    ids = [c.id for c in rows]
    counts = community_counts(session.connection(), ids)
    names = dict(session.exec(select(Tool.id, Tool.name)
                              .where(Tool.id.in_([c.tool_a_id for c in rows] + [c.tool_b_id for c in rows]))).all())
    aside = set_aside_votes(session.connection(), ids)
    return [ComparisonVotes(comparison_id=c.id, title=c.title, tool_a=names.get(c.tool_a_id, "A"),
                            tool_b=names.get(c.tool_b_id, "B"), votes_a=counts[c.id][0], votes_b=counts[c.id][1],
                            set_aside=aside[c.id]) for c in rows]


def _unsubscribes(session: Session, issue: Issue) -> int:
    """Readers who left by their own link and whose last issue sent before leaving is this one."""
    left = session.exec(
        select(Subscriber.id, Subscriber.unsubscribed_at)
        .join(Suppression, Suppression.email_key == Subscriber.email_key)
        .join(Delivery, Delivery.subscriber_id == Subscriber.id)
        .where(Delivery.issue_id == issue.id, Delivery.status == DeliveryStatus.SENT.value,
               Subscriber.status == SubscriberStatus.UNSUBSCRIBED.value, Suppression.reason == "unsubscribed",
               Subscriber.unsubscribed_at.is_not(None), Delivery.sent_at <= Subscriber.unsubscribed_at)).all()
    if not left:
        return 0
    # the newest issue each of them was sent before leaving; theirs only if it is this one
    count = 0
    for subscriber_id, left_at in left:
        last = session.exec(select(Delivery.issue_id).where(
            Delivery.subscriber_id == subscriber_id, Delivery.status == DeliveryStatus.SENT.value,
            Delivery.sent_at <= left_at).order_by(Delivery.sent_at.desc(), Delivery.id.desc()).limit(1)).first()
        count += last == issue.id
    return count


def _signups(session: Session, issue: Issue) -> int:
    """Subscribers created in the issue's week (queued, until the next issue was queued, 7 days at most)."""
    if issue.queued_at is None:
        return 0
    end = issue.queued_at + WEEK
    following = session.exec(select(func.min(Issue.queued_at)).where(Issue.number > issue.number,
                                                                      Issue.queued_at.is_not(None))).first()
    if following is not None and following < end:
        end = following
    return session.exec(select(func.count()).select_from(Subscriber).where(
        Subscriber.created_at >= issue.queued_at, Subscriber.created_at < end)).one()
