"""Reading an issue's figures for `digest issue report`, without the ORM.

Why here: the report read through SQLModel, and importing it and the models was most of the
command's time (issue 14 §4). Each function is one figure's query, on both backends (sqlite3
on SQLite, SQLAlchemy `text()` on PostgreSQL); the rules that combine them (what a draft
shows, how bounces are worded) stay in `digest.report`, whose docstring says how an
unsubscribe and a sign-up are attributed to an issue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from digest.data.codec import as_datetime
from digest.data.engine import Database
from digest.data.vote_detail import VoteDetail
from digest.issue_state import GONE_OUT

SENT = "sent"  # DeliveryStatus.SENT (tests/test_report.py keeps the names in step with the models)
UNSUBSCRIBED = "unsubscribed"  # SubscriberStatus.UNSUBSCRIBED, and the reader's own Suppression reason

_ISSUE = "SELECT id, number, subject, status, queued_at FROM issue"


@dataclass(frozen=True)
class IssueRecord:
    """The issue columns a report shows."""

    id: int
    number: int
    subject: str
    status: str
    queued_at: datetime | None


@dataclass(frozen=True)
class ComparisonTally:
    """One comparison of an issue with its tools' names and its counted votes for A and B."""

    id: int
    title: str
    tool_a: str
    tool_b: str
    votes_a: int
    votes_b: int


def _issue(row: dict[str, Any]) -> IssueRecord:
    return IssueRecord(row["id"], row["number"], row["subject"], row["status"], as_datetime(row["queued_at"]))


def find_issue(db: Database, number: int) -> IssueRecord | None:
    row = db.one(_ISSUE + " WHERE number = :number", {"number": number})
    return _issue(row) if row else None


def _gone_out() -> dict[str, str]:
    return {f"s{i}": status for i, status in enumerate(sorted(GONE_OUT))}


def earlier_sent(db: Database, number: int, limit: int) -> list[IssueRecord]:
    """Up to `limit` issues before `number` that have gone out (sending or sent), newest first."""
    gone_out = _gone_out()
    rows = db.query(f"{_ISSUE} WHERE number < :number AND status IN ({', '.join(':' + k for k in gone_out)}) "
                    "ORDER BY number DESC LIMIT :limit", {"number": number, "limit": limit, **gone_out})
    return [_issue(row) for row in rows]


def delivery_counts(db: Database, issue_id: int) -> dict[str, int]:
    """The issue's deliveries per status."""
    return {row["status"]: int(row["n"]) for row in db.query(
        "SELECT status, count(*) AS n FROM delivery WHERE issue_id = :id GROUP BY status", {"id": issue_id})}


def bounce_events(db: Database, number: int) -> list[tuple[str, str]]:
    """(kind, status code) of every bounce and complaint event naming the issue."""
    return [(row["kind"], row["status"]) for row in db.query(
        "SELECT kind, status FROM bounceevent WHERE issue_number = :number", {"number": number})]


def comparison_tallies(db: Database, issue_id: int) -> list[ComparisonTally]:
    """The issue's comparisons in reading order, with their tools' names and counted votes."""
    rows = db.query("SELECT c.id, c.title, a.name AS tool_a, b.name AS tool_b FROM issuecomparison ic "
                    "JOIN comparison c ON c.id = ic.comparison_id LEFT JOIN tool a ON a.id = c.tool_a_id "
                    "LEFT JOIN tool b ON b.id = c.tool_b_id WHERE ic.issue_id = :id ORDER BY ic.position",
                    {"id": issue_id})
    votes: dict[tuple[int, str], int] = {}
    for row in db.query("SELECT v.comparison_id, v.choice, count(*) AS n FROM vote v JOIN issuecomparison ic "
                        "ON ic.comparison_id = v.comparison_id WHERE ic.issue_id = :id "
                        "GROUP BY v.comparison_id, v.choice", {"id": issue_id}):
        votes[(row["comparison_id"], row["choice"])] = int(row["n"])
    return [ComparisonTally(r["id"], r["title"], r["tool_a"] or "A", r["tool_b"] or "B",
                            votes.get((r["id"], "a"), 0), votes.get((r["id"], "b"), 0)) for r in rows]


def set_aside_votes(db: Database, comparison_ids: list[int]) -> dict[int, int]:
    """Set-aside (scanners') votes per comparison; every id asked for is in the result."""
    tally = dict.fromkeys(comparison_ids, 0)
    for row in db.query("SELECT detail FROM discardedaction WHERE kind = 'vote'"):
        vote = VoteDetail.decode(row["detail"])
        if vote is not None and vote.comparison_id in tally:
            tally[vote.comparison_id] += 1
    return tally


def unsubscribes(db: Database, issue_id: int) -> int:
    """Readers who left by their own link and whose last issue sent before leaving is this one."""
    params = {"id": issue_id, "sent": SENT, "left": UNSUBSCRIBED}
    left = db.query("SELECT s.id, s.unsubscribed_at FROM subscriber s "
                    "JOIN suppression p ON p.email_key = s.email_key JOIN delivery d ON d.subscriber_id = s.id "
                    "WHERE d.issue_id = :id AND d.status = :sent AND s.status = :left AND p.reason = :left "
                    "AND s.unsubscribed_at IS NOT NULL AND d.sent_at <= s.unsubscribed_at", params)
    count = 0
    for row in left:  # the newest issue each of them was sent before leaving; theirs only if it is this one
        last = db.scalar("SELECT issue_id FROM delivery WHERE subscriber_id = :subscriber AND status = :sent "
                         "AND sent_at <= :left_at ORDER BY sent_at DESC, id DESC LIMIT 1",
                         {"subscriber": row["id"], "sent": SENT, "left_at": row["unsubscribed_at"]})
        count += last == issue_id
    return count


def signups(db: Database, issue: IssueRecord, week: timedelta) -> int:
    """Subscribers created in the issue's week: from its queueing until the next issue's, `week`
    at most (none for an issue never queued)."""
    if issue.queued_at is None:
        return 0
    week_end = issue.queued_at + week
    following = as_datetime(db.scalar("SELECT min(queued_at) FROM issue WHERE number > :number "
                                      "AND queued_at IS NOT NULL", {"number": issue.number}))
    end = following if following is not None and following < week_end else week_end
    return int(db.scalar("SELECT count(*) FROM subscriber WHERE created_at >= :start AND created_at < :end",
                         {"start": issue.queued_at, "end": end}))
