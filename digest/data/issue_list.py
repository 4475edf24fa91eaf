"""Reading the issues back for `digest issue list`, without the ORM.

Why here and not in `digest.editorial.issues` (whose `list_issues` gives the same summaries
from ORM rows): that imports SQLModel and the models, longer than the rest of the command,
and listing issues is a read an editor runs often. The summaries match `IssueSummary` field
for field and count what is missing the way `digest.editorial.issues.readiness` does, on both
backends (sqlite3 on SQLite, SQLAlchemy `text()` on PostgreSQL); tests/test_editorial_issues.py
checks both against each other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from digest.config import Reviewer
from digest.data.codec import as_datetime
from digest.data.engine import Database

# digest.models.IssueStatus's values, in its order (tests/test_editorial_issues.py checks)
STATUSES = ("draft", "scheduled", "sending", "sent")


@dataclass(frozen=True)
class IssueRow:
    """The issue columns a listing shows (what `IssueSummary.issue` is read for)."""

    id: int
    number: int
    status: str
    subject: str
    scheduled_at: datetime | None
    sent_at: datetime | None
    created_at: datetime | None


@dataclass
class IssueListing:
    """One issue of the listing: `digest.editorial.issues.IssueSummary`'s shape, as records."""

    issue: IssueRow
    comparisons: list[int] = field(default_factory=list)
    ready: bool = False
    missing: int = 0

    def to_json(self) -> dict[str, Any]:
        i = self.issue
        return {"id": i.id, "number": i.number, "status": i.status, "subject": i.subject,
                "comparisons": self.comparisons, "ready": self.ready, "missing": self.missing,
                "scheduled_at": i.scheduled_at, "sent_at": i.sent_at, "created_at": i.created_at}


def list_issues(db: Database, *, panel: Sequence[Reviewer], status: str | None = None) -> list[IssueListing]:
    """Every issue (of one status), newest number first, with its comparisons in reading order
    and how many gaps stand between it and ready."""
    sql = "SELECT id, number, status, subject, scheduled_at, sent_at, created_at FROM issue"
    sql += (" WHERE status = :status" if status else "") + " ORDER BY number DESC"
    issues = db.query(sql, {"status": status} if status else None)
    slots = _slots(db)
    reviews = _reviews(db)
    listings = []
    for row in issues:
        entries = slots.get(row["id"], [])
        missing = 0 if entries else 1  # "no comparisons yet"
        for comparison in entries:
            given = reviews.get(comparison["id"], set())
            tools = (comparison["tool_a_id"], comparison["tool_b_id"])
            missing += sum(1 for r in panel if any((r.key, t) not in given for t in tools))
        issue = IssueRow(row["id"], row["number"], row["status"], row["subject"], as_datetime(row["scheduled_at"]),
                         as_datetime(row["sent_at"]), as_datetime(row["created_at"]))
        listings.append(IssueListing(issue, [c["id"] for c in entries], not missing, missing))
    return listings


def _slots(db: Database) -> dict[int, list[dict[str, Any]]]:
    """Each issue's comparisons (id and tools) in reading order."""
    found: dict[int, list[dict[str, Any]]] = {}
    for row in db.query("SELECT ic.issue_id, c.id, c.tool_a_id, c.tool_b_id FROM issuecomparison ic "
                        "JOIN comparison c ON c.id = ic.comparison_id ORDER BY ic.issue_id, ic.position, ic.id"):
        found.setdefault(row["issue_id"], []).append(row)
    return found


def _reviews(db: Database) -> dict[int, set[tuple[str, int]]]:
    """Per comparison in an issue, the (reviewer, tool) pairs reviewed."""
    found: dict[int, set[tuple[str, int]]] = {}
    for row in db.query("SELECT r.comparison_id, r.reviewer, r.tool_id FROM review r "
                        "JOIN issuecomparison ic ON ic.comparison_id = r.comparison_id"):
        found.setdefault(row["comparison_id"], set()).add((row["reviewer"], row["tool_id"]))
    return found
