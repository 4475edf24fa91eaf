"""Votes, community counts and scanner marks: every read and write of them, in one place.

These functions take a SQLAlchemy `Connection` and issue Core statements, not ORM queries:
recording a vote is the web app's hot path (hundreds a second on one worker), so it is a
single upsert guarded by the unique (comparison, subscriber) constraint, which also makes
concurrent double-clicks safe without a prior SELECT. The counts that the CLI card, the next
render and the vote page show all come from `community_counts`.

A scanner mark says that a client address fetched a canary link, which no person clicks;
actions from a marked address are recorded as DiscardedAction rows instead of taking effect
(logged, not lost), so the editor can see and, if need be, replay them.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from digest.data.codec import sqlite_text
from digest.models import DiscardedAction, Issue, IssueComparison, IssueStatus, ScannerMark, Vote, utcnow

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

log = logging.getLogger("digest.web")
CHOICES = ("a", "b")
# An issue's vote links count only once the issue has gone out; proofs of a draft do not vote.
VOTING_STATUSES = (IssueStatus.SENDING.value, IssueStatus.SENT.value)


@functools.cache
def _statements(dialect: str):  # noqa: ANN202
    """The hot path's statements, built once per dialect (building one costs more than running it)."""
    from sqlalchemy import bindparam, func, select

    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    upsert = insert(Vote.__table__).values(
        comparison_id=bindparam("comparison_id"), subscriber_id=bindparam("subscriber_id"),
        choice=bindparam("choice"), created_at=bindparam("now"), updated_at=bindparam("now"))
    upsert = upsert.on_conflict_do_update(
        index_elements=["comparison_id", "subscriber_id"],
        set_={"choice": upsert.excluded.choice, "updated_at": upsert.excluded.updated_at},
    )
    scanner = (select(ScannerMark.id)
               .where(ScannerMark.client == bindparam("client"), ScannerMark.until > bindparam("now")).limit(1))
    counts = (select(Vote.comparison_id, Vote.choice, func.count())
              .where(Vote.comparison_id.in_(bindparam("ids", expanding=True)))
              .group_by(Vote.comparison_id, Vote.choice))
    return {"upsert": upsert, "scanner": scanner, "counts": counts}


def record_vote(connection: Connection, *, subscriber_id: int, comparison_id: int, choice: str,
                now: datetime | None = None) -> None:
    """Record (or replace) one subscriber's vote in one comparison, in one statement.

    A second vote by the same subscriber replaces the first; the same vote twice changes
    nothing but `updated_at`. Raises ValueError for a choice other than "a" or "b", and the
    driver's IntegrityError (wrapped by SQLAlchemy) when the subscriber or the comparison
    does not exist: callers turn that into "this link no longer works".
    """
    if choice not in CHOICES:
        raise ValueError(f"choice must be 'a' or 'b', not {choice!r}")
    connection.execute(_statements(connection.dialect.name)["upsert"],
                       {"comparison_id": comparison_id, "subscriber_id": subscriber_id, "choice": choice,
                        "now": now or utcnow()})


def community_counts(connection: Connection, comparison_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
    """Votes for (A, B) per comparison; every id asked for is in the result, (0, 0) if unvoted."""
    ids = sorted(set(comparison_ids))
    if not ids:
        return {}
    counts = {cid: [0, 0] for cid in ids}
    for comparison_id, choice, count in connection.execute(_statements(connection.dialect.name)["counts"],
                                                           {"ids": ids}):
        if choice in CHOICES:
            counts[comparison_id][CHOICES.index(choice)] = count
    return {cid: (a, b) for cid, (a, b) in counts.items()}


def vote_of(connection: Connection, *, subscriber_id: int, comparison_id: int) -> str | None:
    """The subscriber's current choice in the comparison, None if they have not voted."""
    from sqlalchemy import select

    return connection.execute(
        select(Vote.choice).where(Vote.comparison_id == comparison_id, Vote.subscriber_id == subscriber_id)
    ).scalar()


def is_vote_target(connection: Connection, *, issue_number: int, comparison_id: int,
                   sent_only: bool = True) -> bool:
    """True when the comparison is part of issue `issue_number` and that issue has gone out.

    A vote link signs the subscriber and the issue; the comparison rides along unsigned, so
    this check is what stops a reader from voting, with their own link, on another issue's
    comparison or on a draft. `sent_only=False` accepts an issue in any status (a proof's
    links, which record nothing, work before the issue goes out).
    """
    from sqlalchemy import select

    statement = (select(IssueComparison.id)
                 .join(Issue, Issue.id == IssueComparison.issue_id)
                 .where(Issue.number == issue_number, IssueComparison.comparison_id == comparison_id))
    if sent_only:
        statement = statement.where(Issue.status.in_(VOTING_STATUSES))
    return connection.execute(statement.limit(1)).first() is not None


# --- scanners ------------------------------------------------------------------------------

def mark_scanner(connection: Connection, *, client: str, window: timedelta, now: datetime | None = None) -> None:
    """Mark `client` as a scanner until now + window (extending an existing mark).

    Expired marks are pruned on the way, so the table stays as small as the set of
    scanners seen within one window.
    """
    from sqlalchemy import delete, insert, update

    now = now or utcnow()
    until = now + window
    connection.execute(delete(ScannerMark).where(ScannerMark.until < now))
    result = connection.execute(update(ScannerMark).where(ScannerMark.client == client[:100])
                                .values(until=until, marked_at=now))
    if result.rowcount == 0:
        connection.execute(insert(ScannerMark).values(client=client[:100], marked_at=now, until=until))


def is_scanner(connection: Connection, *, client: str, now: datetime | None = None) -> bool:
    """True when `client` fetched a canary link within its scanner window."""
    row = connection.execute(_statements(connection.dialect.name)["scanner"],
                             {"client": client[:100], "now": now or utcnow()}).first()
    return row is not None


def discard(connection: Connection, *, kind: str, client: str, subscriber_id: int | None, detail: str = "",
            now: datetime | None = None) -> None:
    """Record an action that was not carried out (a scanner's vote, say)."""
    from sqlalchemy import insert

    log.info("a %s from a client marked as a scanner was set aside (digest set-aside list)", kind)
    connection.execute(insert(DiscardedAction).values(kind=kind, client=client[:100], subscriber_id=subscriber_id,
                                                      detail=detail, created_at=now or utcnow()))


def cast_vote(connection: Connection, *, client: str, subscriber_id: int, comparison_id: int, choice: str,
              now: datetime | None = None) -> bool:
    """Record a vote unless `client` is a marked scanner; True if it counted.

    A scanner's vote is kept as a DiscardedAction instead (logged, not lost). Raises what
    `record_vote` raises.
    """
    now = now or utcnow()
    if is_scanner(connection, client=client, now=now):
        discard(connection, kind="vote", client=client, subscriber_id=subscriber_id,
                detail=f"comparison {comparison_id} choice {choice}", now=now)
        return False
    record_vote(connection, subscriber_id=subscriber_id, comparison_id=comparison_id, choice=choice, now=now)
    return True


# --- the SQLite hot path --------------------------------------------------------------------
# The web app casts votes over one raw sqlite3 connection per worker: the same statements as
# above as plain SQL, without SQLAlchemy's per-call overhead (measured at about half of a
# vote's server time). Datetimes are written by `digest.data.codec`, as SQLAlchemy writes them.

_SQLITE_SCANNER = "SELECT 1 FROM scannermark WHERE client = ? AND until > ? LIMIT 1"
_SQLITE_UPSERT = ("INSERT INTO vote (comparison_id, subscriber_id, choice, created_at, updated_at) "
                  "VALUES (?, ?, ?, ?, ?) ON CONFLICT (comparison_id, subscriber_id) "
                  "DO UPDATE SET choice = excluded.choice, updated_at = excluded.updated_at")
_SQLITE_DISCARD = ("INSERT INTO discardedaction (kind, client, subscriber_id, detail, created_at) "
                   "VALUES ('vote', ?, ?, ?, ?)")
_SQLITE_COUNTS = "SELECT choice, count(*) FROM vote WHERE comparison_id = ? GROUP BY choice"


def cast_vote_sqlite(raw, *, client: str, subscriber_id: int, comparison_id: int, choice: str,  # noqa: ANN001
                     now: datetime | None = None) -> bool:
    """`cast_vote` on a raw sqlite3 connection inside the caller's transaction.

    Raises ValueError for a bad choice and sqlite3.IntegrityError for a missing subscriber or
    comparison.
    """
    if choice not in CHOICES:
        raise ValueError(f"choice must be 'a' or 'b', not {choice!r}")
    stamp = sqlite_text(now or utcnow())
    client = client[:100]
    if raw.execute(_SQLITE_SCANNER, (client, stamp)).fetchone() is not None:
        log.info("a vote from a client marked as a scanner was set aside (digest set-aside list)")
        raw.execute(_SQLITE_DISCARD, (client, subscriber_id, f"comparison {comparison_id} choice {choice}", stamp))
        return False
    raw.execute(_SQLITE_UPSERT, (comparison_id, subscriber_id, choice, stamp, stamp))
    return True


def community_counts_sqlite(raw, comparison_id: int) -> tuple[int, int]:  # noqa: ANN001
    """`community_counts` of one comparison on a raw sqlite3 connection."""
    counts = dict(raw.execute(_SQLITE_COUNTS, (comparison_id,)).fetchall())
    return counts.get("a", 0), counts.get("b", 0)
