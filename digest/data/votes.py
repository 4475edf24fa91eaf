"""Votes, community counts, scanner marks and set-aside actions: every statement on them.

Each function takes either kind of connection digest holds: a SQLAlchemy `Connection` (the
CLI, the report, a session's `session.connection()`, the web app on PostgreSQL) or the web
worker's own raw `sqlite3.Connection` (`digest.data.worker`), and runs the same SQL string with
`:name` parameters on it. Recording a vote is the web app's hot path, hundreds a second on one
worker: on SQLite it skips SQLAlchemy entirely (its per-call overhead was measured at about half
of a vote's server time), which is why the raw connection is accepted at all. The two
differences between the connections, how a statement is run and how a datetime is bound, live
in `_run` and `_stamp`, nowhere else.

A vote is a single upsert guarded by the unique (comparison, subscriber) constraint, which
also makes concurrent double-clicks safe without a prior SELECT.

A scanner mark says that a client address fetched a canary link, which no person clicks;
actions from a marked address are recorded as DiscardedAction rows instead of taking effect
(logged, not lost), so the editor can see and, if need be, replay them. A set-aside vote's
`detail` is a `digest.data.vote_detail.VoteDetail`, written and read only by its `encode` and
`decode`.
"""

from __future__ import annotations

import functools
import logging
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import IntegrityError

from digest.data.codec import sqlite_text
from digest.data.vote_detail import CHOICES, VoteDetail
from digest.issue_state import GONE_OUT
from digest.models import utcnow
from digest.data.engine import Conflict

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    AnyConnection = Connection | sqlite3.Connection

log = logging.getLogger("digest.web")
_CLIENT_LENGTH = 100  # ScannerMark.client and DiscardedAction.client


@functools.lru_cache(maxsize=256)
def _text(sql: str) -> Any:
    """The `text()` of a statement, built once (SQLAlchemy caches its compiled form by it)."""
    from sqlalchemy import text

    return text(sql)


def _run(connection: AnyConnection, sql: str, params: Mapping[str, Any]) -> Any:
    """Run one statement on either kind of connection; its cursor or result (both iterate rows
    as tuples and have `fetchone` and `rowcount`). A unique or foreign-key violation raises
    `Conflict` on both."""
    try:
        if isinstance(connection, sqlite3.Connection):
            return connection.execute(sql, params)
        return connection.execute(_text(sql), params)
    except (sqlite3.IntegrityError, IntegrityError) as exc:
        raise Conflict(str(getattr(exc, "orig", None) or exc).splitlines()[0]) from None


def _stamp(connection: AnyConnection, moment: datetime) -> Any:
    """`moment` as the connection binds a datetime: SQLite's stored text, a datetime elsewhere."""
    if isinstance(connection, sqlite3.Connection) or connection.dialect.name == "sqlite":
        return sqlite_text(moment)
    return moment


# --- votes ---------------------------------------------------------------------------------

_UPSERT = ("INSERT INTO vote (comparison_id, subscriber_id, choice, created_at, updated_at) "
           "VALUES (:comparison_id, :subscriber_id, :choice, :now, :now) "
           "ON CONFLICT (comparison_id, subscriber_id) "
           "DO UPDATE SET choice = excluded.choice, updated_at = excluded.updated_at")
_SCANNER = "SELECT 1 FROM scannermark WHERE client = :client AND until > :now LIMIT 1"


def record_vote(connection: AnyConnection, *, subscriber_id: int, comparison_id: int, choice: str,
                now: datetime | None = None) -> None:
    """Record (or replace) one subscriber's vote in one comparison, in one statement.

    A second vote by the same subscriber replaces the first; the same vote twice changes
    nothing but `updated_at`. Raises ValueError for a choice other than "a" or "b", and
    `Conflict` when the subscriber or the comparison does not exist: callers turn that into
    "this link no longer works".
    """
    if choice not in CHOICES:
        raise ValueError(f"choice must be 'a' or 'b', not {choice!r}")
    _run(connection, _UPSERT, {"comparison_id": comparison_id, "subscriber_id": subscriber_id, "choice": choice,
                               "now": _stamp(connection, now or utcnow())})


def cast_vote(connection: AnyConnection, *, client: str, subscriber_id: int, comparison_id: int, choice: str,
              now: datetime | None = None) -> bool:
    """Record a vote unless `client` is a marked scanner; True if it counted.

    A scanner's vote is kept as a DiscardedAction instead (logged, not lost). Raises what
    `record_vote` raises.
    """
    if choice not in CHOICES:
        raise ValueError(f"choice must be 'a' or 'b', not {choice!r}")
    now = now or utcnow()
    at = _stamp(connection, now)
    client = client[:_CLIENT_LENGTH]
    if _run(connection, _SCANNER, {"client": client, "now": at}).fetchone() is not None:
        discard(connection, kind="vote", client=client, subscriber_id=subscriber_id,
                detail=VoteDetail(comparison_id, choice).encode(), now=now)
        return False
    _run(connection, _UPSERT, {"comparison_id": comparison_id, "subscriber_id": subscriber_id, "choice": choice,
                               "now": at})
    return True


_COUNTS = "SELECT choice, count(*) FROM vote WHERE comparison_id = :comparison_id GROUP BY choice"


def community_counts(connection: AnyConnection, comparison_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
    """Votes for (A, B) per comparison; every id asked for is in the result, (0, 0) if unvoted.

    One query per comparison: grouped by choice alone, SQLite counts a comparison's votes
    about a third faster than grouped by (comparison, choice), and the hot path asks for one.
    """
    counts = {}
    for comparison_id in sorted(set(comparison_ids)):
        by_choice = dict(_run(connection, _COUNTS, {"comparison_id": comparison_id}).fetchall())
        counts[comparison_id] = (by_choice.get("a", 0), by_choice.get("b", 0))
    return counts


def vote_of(connection: AnyConnection, *, subscriber_id: int, comparison_id: int) -> str | None:
    """The subscriber's current choice in the comparison, None if they have not voted."""
    row = _run(connection, "SELECT choice FROM vote WHERE comparison_id = :comparison_id "
               "AND subscriber_id = :subscriber_id",
               {"comparison_id": comparison_id, "subscriber_id": subscriber_id}).fetchone()
    return None if row is None else row[0]


_TARGET = ("SELECT 1 FROM issuecomparison JOIN issue ON issue.id = issuecomparison.issue_id "
           "WHERE issue.number = :number AND issuecomparison.comparison_id = :comparison_id")


def is_vote_target(connection: AnyConnection, *, issue_number: int, comparison_id: int,
                   sent_only: bool = True) -> bool:
    """True when the comparison is part of issue `issue_number` and that issue has gone out.

    A vote link signs the subscriber and the issue; the comparison rides along unsigned, so
    this check is what stops a reader from voting, with their own link, on another issue's
    comparison or on a draft. `sent_only=False` accepts an issue in any status (a proof's
    links, which record nothing, work before the issue goes out).
    """
    params: dict[str, Any] = {"number": issue_number, "comparison_id": comparison_id}
    sql = _TARGET
    if sent_only:
        # an issue's vote links count only once it has gone out; proofs of a draft do not vote
        gone_out = {f"gone_out_{n}": status for n, status in enumerate(sorted(GONE_OUT))}
        sql += f" AND issue.status IN ({', '.join(':' + name for name in gone_out)})"
        params.update(gone_out)
    return _run(connection, sql + " LIMIT 1", params).fetchone() is not None


@dataclass(frozen=True)
class ComparisonSummary:
    """What a vote page says about the comparison voted on."""

    id: int
    title: str
    tool_a: str
    tool_b: str

    def tool(self, choice: str) -> str:
        return self.tool_a if choice == "a" else self.tool_b


def comparison_summary(connection: AnyConnection, comparison_id: int) -> ComparisonSummary | None:
    row = _run(connection, "SELECT comparison.id, comparison.title, tool_a.name, tool_b.name FROM comparison "
               "JOIN tool AS tool_a ON tool_a.id = comparison.tool_a_id "
               "JOIN tool AS tool_b ON tool_b.id = comparison.tool_b_id WHERE comparison.id = :id",
               {"id": comparison_id}).fetchone()
    return None if row is None else ComparisonSummary(*row)


# --- scanners and set-aside actions ---------------------------------------------------------

def mark_scanner(connection: AnyConnection, *, client: str, window: timedelta, now: datetime | None = None) -> None:
    """Mark `client` as a scanner until now + window (extending an existing mark).

    Expired marks are pruned on the way, so the table stays as small as the set of
    scanners seen within one window.
    """
    now = now or utcnow()
    params = {"client": client[:_CLIENT_LENGTH], "now": _stamp(connection, now),
              "until": _stamp(connection, now + window)}
    _run(connection, "DELETE FROM scannermark WHERE until < :now", params)
    if _run(connection, "UPDATE scannermark SET until = :until, marked_at = :now WHERE client = :client",
            params).rowcount == 0:
        _run(connection, "INSERT INTO scannermark (client, marked_at, until) VALUES (:client, :now, :until)", params)


def is_scanner(connection: AnyConnection, *, client: str, now: datetime | None = None) -> bool:
    """True when `client` fetched a canary link within its scanner window."""
    row = _run(connection, _SCANNER,
               {"client": client[:_CLIENT_LENGTH], "now": _stamp(connection, now or utcnow())}).fetchone()
    return row is not None


def discard(connection: AnyConnection, *, kind: str, client: str, subscriber_id: int | None, detail: str = "",
            now: datetime | None = None) -> None:
    """Record an action that was not carried out (a scanner's vote, say)."""
    log.info("a %s from a client marked as a scanner was set aside (digest set-aside list)", kind)
    _run(connection, "INSERT INTO discardedaction (kind, client, subscriber_id, detail, created_at) "
         "VALUES (:kind, :client, :subscriber_id, :detail, :now)",
         {"kind": kind, "client": client[:_CLIENT_LENGTH], "subscriber_id": subscriber_id, "detail": detail,
          "now": _stamp(connection, now or utcnow())})


# Rows written before VoteDetail was JSON: "comparison 12 choice a".
def set_aside_votes(connection: AnyConnection, comparison_ids: Iterable[int]) -> dict[int, int]:
    """Set-aside (scanners') votes per comparison; every id asked for is in the result."""
    tally = dict.fromkeys(comparison_ids, 0)
    for (detail,) in _run(connection, "SELECT detail FROM discardedaction WHERE kind = 'vote'", {}):
        vote = VoteDetail.decode(detail)
        if vote is not None and vote.comparison_id in tally:
            tally[vote.comparison_id] += 1
    return tally
