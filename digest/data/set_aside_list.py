"""Listing the actions the web app set aside as a mail scanner's, without the ORM.

Why here: `digest set-aside list` read through SQLModel, and importing it and the models was
most of the command's time (issue 14 §4). The listing is read on both backends (sqlite3 on
SQLite, SQLAlchemy `text()` on PostgreSQL); applying actions stays in `digest.web.setaside`,
which describes a set-aside vote with the same `vote_what` so the two never word it apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from digest.data.codec import as_datetime
from digest.data.engine import Database
from digest.data.vote_detail import VoteDetail
from digest.errors import UsageError

KINDS = ("vote", "confirm", "unsubscribe")


@dataclass
class SetAside:
    """One set-aside action, described for the editor."""

    id: int
    kind: str
    client: str
    created_at: datetime
    subscriber: str | None  # the address, None when the subscriber is gone
    what: str  # "vote for Patchwise (Patchwise vs Lintern)", "unsubscribe (one-click)"…

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "client": self.client, "created_at": self.created_at,
                "subscriber": self.subscriber, "what": self.what}


def vote_what(detail: str, vote: VoteDetail | None, names: tuple[str, str] | None) -> str:
    """A set-aside vote in words: `vote` is its decoded `detail`, `names` the tools (A, B) of its
    comparison, None when that comparison is gone."""
    if vote is None:
        return f"vote ({detail or 'no detail'})"
    if names is None:
        return f"vote in comparison {vote.comparison_id} (since deleted)"
    chosen = names[0] if vote.choice == "a" else names[1]
    return f"vote for {chosen} ({names[0]} vs {names[1]}, comparison {vote.comparison_id})"


def list_set_aside(db: Database, *, kind: str | None = None, limit: int | None = None) -> list[SetAside]:
    """The set-aside actions (of one kind, at most `limit`), newest first; UsageError for a
    kind that is not one of KINDS."""
    if kind is not None and kind not in KINDS:
        raise UsageError(f"unknown kind {kind!r}: choose one of {', '.join(KINDS)}")
    sql = ("SELECT d.id, d.kind, d.client, d.detail, d.created_at, s.email FROM discardedaction d "
           "LEFT JOIN subscriber s ON s.id = d.subscriber_id")
    params: dict[str, Any] = {}
    if kind is not None:
        sql += " WHERE d.kind = :kind"
        params["kind"] = kind
    sql += " ORDER BY d.created_at DESC, d.id DESC"
    if limit is not None:
        sql += " LIMIT :limit"
        params["limit"] = limit
    names: dict[int, tuple[str, str] | None] = {}
    listed = []
    for row in db.query(sql, params):
        what = row["kind"]
        if row["kind"] == "vote":
            vote = VoteDetail.decode(row["detail"])
            if vote is not None and vote.comparison_id not in names:
                names[vote.comparison_id] = _tool_names(db, vote.comparison_id)
            what = vote_what(row["detail"], vote, names[vote.comparison_id] if vote else None)
        elif row["kind"] == "unsubscribe" and row["detail"]:
            what = f"unsubscribe ({row['detail']})"
        listed.append(SetAside(row["id"], row["kind"], row["client"], as_datetime(row["created_at"]), row["email"],
                               what))
    return listed


def _tool_names(db: Database, comparison_id: int) -> tuple[str, str] | None:
    """The names of the comparison's tools A and B ("A" or "B" for one that is gone); None when
    there is no such comparison."""
    row = db.one("SELECT a.name AS a, b.name AS b FROM comparison c LEFT JOIN tool a ON a.id = c.tool_a_id "
                 "LEFT JOIN tool b ON b.id = c.tool_b_id WHERE c.id = :id", {"id": comparison_id})
    return None if row is None else (row["a"] or "A", row["b"] or "B")
