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
The figures are read through `digest.data.issue_figures` (sqlite3 on SQLite, `text()` on
PostgreSQL), not the ORM: importing SQLModel was most of the command's time. The statuses and
kinds are the models' values as text (tests/test_report.py keeps them in step).
"""

from __future__ import annotations

from collections import Counter as Tally
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from digest.data.engine import Database
from digest.data.issue_figures import (IssueRecord, bounce_events, comparison_tallies, delivery_counts, earlier_sent,
                                       find_issue, set_aside_votes, signups, unsubscribes)
from digest.errors import NotFoundError
from digest.issue_state import GONE_OUT

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


def issue_report(db: Database, *, number: int, previous: int = PREVIOUS) -> IssueReport:
    """The figures of issue `number` and of up to `previous` issues sent before it; NotFoundError
    when there is no such issue. Read through `digest.data.issue_figures` (no ORM)."""
    issue = find_issue(db, number)
    if issue is None:
        raise NotFoundError(f"no issue {number}", hint="`digest issue list` shows the issues")
    earlier = earlier_sent(db, number, previous)
    return IssueReport(issue=_figures(db, issue), previous=[_figures(db, i) for i in earlier])


def _figures(db: Database, issue: IssueRecord) -> IssueFigures:
    base = IssueFigures(number=issue.number, subject=issue.subject, status=issue.status, queued_at=issue.queued_at,
                        votes=_votes(db, issue))
    if issue.status not in GONE_OUT:
        return base
    deliveries = delivery_counts(db, issue.id)
    events = bounce_events(db, issue.number)
    kinds = Tally(kind for kind, _ in events)
    reasons = Tally(_reason(kind, status) for kind, status in events if kind in ("hard", "soft"))
    return replace(
        base, queued=sum(deliveries.values()), delivered=deliveries.get("sent", 0),
        waiting=deliveries.get("queued", 0), failed=deliveries.get("failed", 0), skipped=deliveries.get("skipped", 0),
        hard_bounces=kinds["hard"], soft_bounces=kinds["soft"], complaints=kinds["complaint"],
        bounce_reasons=dict(reasons.most_common()), unsubscribes=unsubscribes(db, issue.id),
        signups=signups(db, issue, WEEK))


def _reason(kind: str, status: str) -> str:
    if not status:
        return f"{kind} (no status code)"
    words = STATUS_WORDS.get(status)
    return f"{status} {words}" if words else status


def _votes(db: Database, issue: IssueRecord) -> list[ComparisonVotes]:
    tallies = comparison_tallies(db, issue.id)
    if not tallies:
        return []
    aside = set_aside_votes(db, [t.id for t in tallies])
    return [ComparisonVotes(comparison_id=t.id, title=t.title, tool_a=t.tool_a, tool_b=t.tool_b, votes_a=t.votes_a,
                            votes_b=t.votes_b, set_aside=aside[t.id]) for t in tallies]
