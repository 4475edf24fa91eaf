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

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from digest.models import DiscardedAction, Issue, IssueComparison, IssueStatus, ScannerMark, Vote, utcnow

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

CHOICES = ("a", "b")
# An issue's vote links count only once the issue has gone out; proofs of a draft do not vote.
VOTING_STATUSES = (IssueStatus.SENDING.value, IssueStatus.SENT.value)


def _insert(connection: Connection):  # noqa: ANN202
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


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
    now = now or utcnow()
    insert = _insert(connection)
    statement = insert(Vote.__table__).values(comparison_id=comparison_id, subscriber_id=subscriber_id,
                                              choice=choice, created_at=now, updated_at=now)
    statement = statement.on_conflict_do_update(
        index_elements=["comparison_id", "subscriber_id"],
        set_={"choice": statement.excluded.choice, "updated_at": statement.excluded.updated_at},
    )
    connection.execute(statement)


def community_counts(connection: Connection, comparison_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
    """Votes for (A, B) per comparison; every id asked for is in the result, (0, 0) if unvoted."""
    from sqlalchemy import func, select

    ids = sorted(set(comparison_ids))
    counts = {cid: [0, 0] for cid in ids}
    if not ids:
        return {}
    rows = connection.execute(
        select(Vote.comparison_id, Vote.choice, func.count())
        .where(Vote.comparison_id.in_(ids))
        .group_by(Vote.comparison_id, Vote.choice)
    )
    for comparison_id, choice, count in rows:
        if choice in CHOICES:
            counts[comparison_id][CHOICES.index(choice)] = count
    return {cid: (a, b) for cid, (a, b) in counts.items()}


def vote_of(connection: Connection, *, subscriber_id: int, comparison_id: int) -> str | None:
    """The subscriber's current choice in the comparison, None if they have not voted."""
    from sqlalchemy import select

    return connection.execute(
        select(Vote.choice).where(Vote.comparison_id == comparison_id, Vote.subscriber_id == subscriber_id)
    ).scalar()


def is_vote_target(connection: Connection, *, issue_number: int, comparison_id: int) -> bool:
    """True when the comparison is part of issue `issue_number` and that issue has gone out.

    A vote link signs the subscriber and the issue; the comparison rides along unsigned, so
    this check is what stops a reader from voting, with their own link, on another issue's
    comparison or on a draft.
    """
    from sqlalchemy import select

    row = connection.execute(
        select(IssueComparison.id)
        .join(Issue, Issue.id == IssueComparison.issue_id)
        .where(Issue.number == issue_number, IssueComparison.comparison_id == comparison_id,
               Issue.status.in_(VOTING_STATUSES))
        .limit(1)
    ).first()
    return row is not None


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
    from sqlalchemy import select

    row = connection.execute(
        select(ScannerMark.id).where(ScannerMark.client == client[:100], ScannerMark.until > (now or utcnow())).limit(1)
    ).first()
    return row is not None


def discard(connection: Connection, *, kind: str, client: str, subscriber_id: int | None, detail: str = "",
            now: datetime | None = None) -> None:
    """Record an action that was not carried out (a scanner's vote, say)."""
    from sqlalchemy import insert

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
