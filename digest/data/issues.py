"""Issues and their deliveries: the statements on them.

The deliveries' statements are SQLAlchemy Core on the tables (no ORM): the sender claims and
settles tens of thousands of rows a minute through them. Each takes the caller's Connection;
the caller owns the transaction (`digest.deliveries.DeliveryStore` runs each outcome in its
own small one). Where the backends differ it is said here: on PostgreSQL claims skip rows
another sender is claiming (FOR UPDATE SKIP LOCKED) and times come from the server's clock,
one clock for every host sharing the queue; SQLite has one host by construction.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, case, func, or_, select, update

from digest.data.codec import as_datetime, sqlite_text
from digest.models import Delivery, DeliveryStatus, Issue, IssueStatus, Lease, Subscriber, utcnow

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Row

# --- deliveries ------------------------------------------------------------------------------

delivery = Delivery.__table__
subscriber = Subscriber.__table__
issue = Issue.__table__
lease = Lease.__table__
QUEUED = DeliveryStatus.QUEUED.value
RENEW_CHUNK = 5000  # ids per UPDATE ... IN (...), well under every driver's parameter limit


@dataclass(frozen=True)
class SendingIssues:
    """Which issues a sender run covers: those being sent, narrowed to one number and, once
    the run has chosen them, to the ids it chose (an issue queued during the run waits)."""

    number: int | None = None
    ids: tuple[int, ...] | None = None

    def condition(self) -> Any:
        condition = issue.c.status == IssueStatus.SENDING.value
        if self.number is not None:
            condition = and_(condition, issue.c.number == self.number)
        if self.ids is not None:
            condition = and_(condition, issue.c.id.in_(self.ids))
        return condition


def clock(connection: Connection) -> Any:
    """Now, for comparisons and stamps in SQL: the server's clock on PostgreSQL, this
    machine's on SQLite."""
    return utcnow() if connection.dialect.name == "sqlite" else func.now()


def database_now(connection: Connection) -> datetime:
    """The database's own clock as aware UTC (this machine's on SQLite)."""
    if connection.dialect.name == "sqlite":
        return utcnow()
    return as_datetime(connection.execute(select(func.now())).scalar())


def issue_status(connection: Connection, number: int) -> str | None:
    """The status of issue `number`, None when there is no such issue."""
    return connection.execute(select(issue.c.status).where(issue.c.number == number)).scalar()


def take_over_lease(connection: Connection, *, name: str, from_holder: str, to_holder: str,
                    expires_at: datetime) -> bool:
    """Compare-and-set a lease from a holder that died to us; False if someone else moved first."""
    return bool(connection.execute(update(lease).where(lease.c.name == name, lease.c.holder == from_holder)
                                   .values(holder=to_holder, expires_at=expires_at)).rowcount)


def unclaim_queued(connection: Connection, *, holders: list[str] | None = None) -> int:
    """Return queued deliveries claimed by `holders` (by anyone when None) to the queue."""
    claimed = delivery.c.claimed_by.is_not(None) if holders is None else delivery.c.claimed_by.in_(holders)
    return connection.execute(update(delivery).where(delivery.c.status == QUEUED, claimed)
                              .values(claimed_by=None, lease_until=None)).rowcount


def claim_holders(connection: Connection) -> list[str]:
    """Every holder with a claim on a queued delivery."""
    return [row[0] for row in connection.execute(select(delivery.c.claimed_by).distinct().where(
        delivery.c.status == QUEUED, delivery.c.claimed_by.is_not(None)))]


def renew_claims(connection: Connection, *, delivery_ids: list[int], holder: str, lease: timedelta) -> None:
    """Extend `holder`'s claims on the given queued deliveries to now + lease (ids in order)."""
    for start in range(0, len(delivery_ids), RENEW_CHUNK):
        connection.execute(update(delivery).where(delivery.c.id.in_(delivery_ids[start:start + RENEW_CHUNK]),
                                                  delivery.c.claimed_by == holder, delivery.c.status == QUEUED)
                           .values(lease_until=clock(connection) + lease))


def sending_issues(connection: Connection, scope: SendingIssues) -> list[tuple[int, int]]:
    """(id, number) of the issues in `scope`, in number order."""
    return [(row.id, row.number) for row in connection.execute(
        select(issue.c.id, issue.c.number).where(scope.condition()).order_by(issue.c.number))]


@dataclass(frozen=True)
class QueueFigures:
    """The queued deliveries of some issues: all, waiting for a retry, held by a live claim."""

    total: int
    waiting: int
    held: int
    held_until: datetime | None
    next_retry_at: datetime | None
    clock: datetime


def queue_figures(connection: Connection, scope: SendingIssues) -> QueueFigures:
    """One query, reckoned against the database's own clock."""
    now = clock(connection)
    later = delivery.c.next_attempt_at > now
    held = and_(~later | delivery.c.next_attempt_at.is_(None), delivery.c.claimed_by.is_not(None),
                delivery.c.lease_until >= now)
    query = (select(func.count().label("total"), _count_where(later).label("waiting"),
                    _count_where(held).label("held"),
                    func.min(case((held, delivery.c.lease_until))).label("held_until"),
                    func.min(delivery.c.next_attempt_at).label("next_retry_at"))
             .select_from(delivery.join(issue, issue.c.id == delivery.c.issue_id))
             .where(scope.condition(), delivery.c.status == QUEUED))
    row = connection.execute(query).one()
    return QueueFigures(total=row.total, waiting=row.waiting, held=row.held, held_until=as_datetime(row.held_until),
                        next_retry_at=as_datetime(row.next_retry_at), clock=database_now(connection))


def _count_where(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def standing(connection: Connection, scope: SendingIssues) -> list[dict[str, int]]:
    """Per issue in `scope` with deliveries still queued: its number, `delivered` and `waiting`."""
    query = (select(issue.c.number, _count_where(delivery.c.status == DeliveryStatus.SENT.value).label("delivered"),
                    _count_where(delivery.c.status == QUEUED).label("waiting"))
             .select_from(issue.join(delivery, delivery.c.issue_id == issue.c.id)).where(scope.condition())
             .group_by(issue.c.number).order_by(issue.c.number))
    return [{"issue": row.number, "delivered": int(row.delivered), "waiting": int(row.waiting)}
            for row in connection.execute(query) if row.waiting]


def _jobs_query(issue_id: int, after: int, limit: int, *conditions: Any) -> Any:
    return (select(delivery.c.id, delivery.c.issue_id, delivery.c.subscriber_id, delivery.c.attempts,
                   subscriber.c.email, subscriber.c.status)
            .join(subscriber, subscriber.c.id == delivery.c.subscriber_id)
            .where(delivery.c.issue_id == issue_id, delivery.c.status == QUEUED, delivery.c.id > after, *conditions)
            .order_by(delivery.c.id).limit(limit))


def claim_due(connection: Connection, *, issue_id: int, after: int, limit: int, holder: str,
              lease: timedelta) -> list[Row]:
    """Claim up to `limit` due, unclaimed (or lapsed) queued deliveries of the issue with ids
    above `after`, in id order, for `holder` until now + lease; rows of (id, issue_id,
    subscriber_id, attempts, email, status). On PostgreSQL rows another sender is claiming at
    this moment are skipped, not waited for."""
    now = clock(connection)
    query = _jobs_query(issue_id, after, limit,
                        or_(delivery.c.next_attempt_at.is_(None), delivery.c.next_attempt_at <= now),
                        or_(delivery.c.claimed_by.is_(None), delivery.c.lease_until < now))
    if connection.dialect.name != "sqlite":
        query = query.with_for_update(of=delivery, skip_locked=True)
    rows = connection.execute(query).all()
    if rows:
        connection.execute(update(delivery).where(delivery.c.id.in_([row.id for row in rows]))
                           .values(claimed_by=holder, lease_until=now + lease))
    return rows


def queued_page(connection: Connection, *, issue_id: int, after: int, limit: int) -> list[Row]:
    """Read-only: the issue's queued deliveries above id `after`, as `claim_due`'s rows."""
    return connection.execute(_jobs_query(issue_id, after, limit)).all()


def unclaim(connection: Connection, *, delivery_ids: list[int], holder: str) -> None:
    """Give `holder`'s claims on these still-queued deliveries back, untouched."""
    connection.execute(update(delivery).where(delivery.c.id.in_(delivery_ids), delivery.c.claimed_by == holder,
                                              delivery.c.status == QUEUED)
                       .values(claimed_by=None, lease_until=None))


def settle_queued(connection: Connection, delivery_id: int, **values: Any) -> int:
    """Set `values` on the delivery if it is still queued (so a late answer never undoes another
    sender's `sent`); the claim is always dropped. Returns the rows changed (0 or 1).
    `retry_in` (a timedelta) sets next_attempt_at on the database's clock."""
    retry_in = values.pop("retry_in", None)
    if retry_in is not None:
        values["next_attempt_at"] = clock(connection) + retry_in
    return connection.execute(update(delivery).where(delivery.c.id == delivery_id, delivery.c.status == QUEUED)
                              .values(claimed_by=None, lease_until=None, **values)).rowcount


@functools.cache
def _sent_sql(paramstyle: str) -> str:
    names = {name: "%({})s".format(name) if paramstyle == "pyformat" else f":{name}" for name in ("at", "mid", "id")}
    return ("UPDATE delivery SET status = 'sent', attempts = attempts + 1, sent_at = {at}, message_id = {mid}, "
            "claimed_by = NULL, lease_until = NULL, next_attempt_at = NULL WHERE id = {id}").format(**names)


def mark_sent(connection: Connection, *, delivery_id: int, message_id: str, now: datetime | None = None) -> None:
    """Record a sent message whatever the row says (it went out), committed at once.

    The sender's hot path, so on the raw driver connection under `connection`, outside any
    SQLAlchemy transaction: one UPDATE between BEGIN IMMEDIATE and COMMIT on SQLite (~60 µs),
    one autocommitted statement on PostgreSQL (one round trip instead of BEGIN, UPDATE, COMMIT).
    """
    now = now or utcnow()
    sqlite = connection.dialect.name == "sqlite"
    params = {"at": sqlite_text(now) if sqlite else now, "mid": message_id, "id": delivery_id}
    raw = connection.connection.driver_connection
    sql = _sent_sql(connection.dialect.paramstyle)
    if sqlite:
        raw.execute("BEGIN IMMEDIATE")
        try:
            raw.execute(sql, params)
        except BaseException:
            raw.execute("ROLLBACK")
            raise
        raw.execute("COMMIT")
        return
    raw.autocommit = True
    try:
        raw.execute(sql, params)
    finally:
        if not raw.closed:
            raw.autocommit = False


def nothing_queued() -> Any:
    """The condition "the issue has no queued delivery", for a status move's `when`."""
    return ~select(delivery.c.id).where(delivery.c.issue_id == issue.c.id, delivery.c.status == QUEUED).exists()


def finished_sending(connection: Connection, scope: SendingIssues) -> list[int]:
    """The numbers of the issues in `scope` with nothing left queued: the ones to mark sent."""
    return [row.number for row in connection.execute(select(issue.c.number).where(scope.condition(), nothing_queued()))]


def first_sent_at(now: datetime) -> Any:
    """`sent_at` as it was, else `now`: an issue sent again to new readers keeps the date it first went out."""
    return func.coalesce(issue.c.sent_at, now)


# --- queueing and issue status (digest.issue_state decides which moves exist) -------------------

def queue_deliveries(connection: Connection, issue_id: int) -> int:
    """One queued delivery per active subscriber who has none for this issue; how many were added.

    A single INSERT ... SELECT with ON CONFLICT DO NOTHING on (issue, subscriber): the unique
    constraint, not a prior check, is what rules out twins.
    """
    from sqlalchemy import literal

    from digest.db import insert_ignore
    from digest.models import SubscriberStatus

    rows = select(literal(issue_id).label("issue_id"), subscriber.c.id.label("subscriber_id"),
                  literal(QUEUED).label("status"), literal(0).label("attempts"),
                  literal(utcnow(), delivery.c.queued_at.type).label("queued_at")
                  ).where(subscriber.c.status == SubscriberStatus.ACTIVE.value)
    connection = connection.execution_options(preserve_rowcount=True)  # PostgreSQL needs it asked
    return insert_ignore(connection, Delivery, rows, conflict=["issue_id", "subscriber_id"]).rowcount or 0


def set_status(connection: Connection, number: int, *, source: str, target: str, when: tuple = (),
               values: dict[str, Any]) -> bool:
    """UPDATE issue N to `target` only while it is `source` (and meets `when`): True when it did.
    The WHERE on the status, not a prior read, is what makes one of two writers lose."""
    statement = (update(issue).where(issue.c.number == number, issue.c.status == source, *when)
                 .values(status=target, **values))
    return connection.execute(statement).rowcount == 1
