"""The delivery queue in the database: claiming batches, recording outcomes, the sender lease.

All of the sender's SQL lives here. Each outcome is recorded in its own small transaction
right after the server answers, which is what bounds duplicates after a crash: a message the
server accepted but whose `sent` never reached the database is the only kind sent twice, and
each worker has at most one such message in flight.

Claiming marks a batch `claimed_by` this process with `lease_until`; on PostgreSQL the claim
selects with FOR UPDATE SKIP LOCKED so several senders can share a queue. On SQLite one
sender runs at a time: `acquire_sender_lease` guards that with a Lease row, takes over the
lease of a sender that died on this machine (its pid is gone), and returns its claims to the
queue.
"""

from __future__ import annotations

import contextlib
import os
import random
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import and_, func, or_, select, update

from digest.db import write_engine
from digest.errors import StateError
from digest.models import Delivery, DeliveryStatus, Issue, IssueStatus, Lease, Subscriber, utcnow

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

D = Delivery.__table__
S = Subscriber.__table__
I = Issue.__table__  # noqa: E741
L = Lease.__table__
SENDER_LEASE = "sender"
MAX_BACKOFF = 3600.0


@dataclass(frozen=True)
class Job:
    """One claimed delivery with what the sender needs to mail it."""

    delivery_id: int
    issue_id: int
    subscriber_id: int
    email: str
    subscriber_status: str
    attempts: int


def backoff(attempt: int, base: float, *, rng: random.Random | None = None) -> float:
    """Seconds before retry number `attempt` (1, 2, ...): base * 2^(n-1), capped, with ±50% jitter.

    Jitter spreads the retries of many deliveries that failed together (a server's
    greylisting, say) so they do not all come back in the same second.
    """
    delay = min(base * 2 ** max(attempt - 1, 0), MAX_BACKOFF)
    return delay * (rng or random).uniform(0.5, 1.5)


def new_holder() -> str:
    """This process's name in claims and leases: role, host, pid and a random tag."""
    from digest.leases import holder_id

    return holder_id("sender")


def holder_alive(holder: str) -> bool:
    """False only when `holder` names a process on this machine that no longer exists.

    A holder on another machine is presumed alive: its lease and claims expire by time.
    """
    host, _, rest = holder.rpartition("@")[2].partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return True
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class DeliveryStore:
    """The queue as the sender sees it; thread-safe (outcomes are serialised by a lock)."""

    def __init__(self, engine: Engine, *, holder: str | None = None, lease: float = 600.0,
                 retries: int = 5, retry_delay: float = 30.0, bounce_after: int = 3,
                 issue_number: int | None = None, rng: random.Random | None = None) -> None:
        self.engine = engine
        self.sqlite = engine.dialect.name == "sqlite"
        self._writer = write_engine(engine)
        self.holder = holder or new_holder()
        self.lease = timedelta(seconds=lease)
        self.retries = retries
        self.retry_delay = retry_delay
        self.bounce_after = bounce_after
        self.issue_number = issue_number
        self._rng = rng or random.Random()
        # SQLite has one writer: serialise our writes. PostgreSQL commits in parallel (each
        # worker on its own connection), which lets the server group the commits.
        self._lock = threading.Lock() if self.sqlite else contextlib.nullcontext()
        self._local = threading.local()
        self._registry = threading.Lock()
        self._connections: list[Connection] = []
        self._after: dict[int, int] = {}  # keyset position per issue within one pass
        self.completed: list[int] = []  # issues this store marked sent
        style = "%({})s" if engine.dialect.paramstyle == "pyformat" else ":{}"
        self._sent_sql = ("UPDATE delivery SET status = 'sent', attempts = attempts + 1, sent_at = {at}, "
                          "message_id = {mid}, claimed_by = NULL, lease_until = NULL, "
                          "next_attempt_at = NULL WHERE id = {id}").format(at=style.format("at"),
                                                                          mid=style.format("mid"), id=style.format("id"))

    def _connection(self) -> Connection:
        """This thread's own connection (made on first use, closed by `close`)."""
        conn = getattr(self._local, "conn", None)
        if conn is None or conn.closed:
            conn = self._local.conn = self._writer.connect()
            with self._registry:
                self._connections.append(conn)
        return conn

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[Connection]:
        """A transaction on this thread's connection (BEGIN IMMEDIATE on SQLite), committed on exit."""
        with self._lock:
            conn = self._connection()
            with conn.begin():
                yield conn

    def close(self) -> None:
        with self._registry:
            connections, self._connections = self._connections, []
        for conn in connections:
            conn.close()

    # --- the sender lease (SQLite) ---------------------------------------------------------

    def acquire_sender_lease(self) -> None:
        """Become the one sender on SQLite; StateError naming the other sender if one runs.

        On both backends, claims left by a sender that died on this machine go back to the
        queue first (claims of live senders, or of other machines, wait for their lease).
        """
        from digest import leases

        self.reap_dead_claims()
        if not self.sqlite:
            return
        if not leases.acquire(self.engine, SENDER_LEASE, self.holder, ttl=self.lease):
            other = leases.current_holder(self.engine, SENDER_LEASE)
            if other and holder_alive(other):
                host, _, rest = other.rpartition("@")[2].partition(":")
                raise StateError(f"another sender is running (pid {rest.partition(':')[0]} on {host})",
                                 hint="wait for it to finish; on SQLite one sender runs at a time")
            with self._transaction() as conn:  # the holder died: take its lease over, compare-and-set
                taken = conn.execute(update(L).where(L.c.name == SENDER_LEASE, L.c.holder == (other or ""))
                                     .values(holder=self.holder, expires_at=utcnow() + self.lease)).rowcount
            if not taken and not leases.acquire(self.engine, SENDER_LEASE, self.holder, ttl=self.lease):
                raise StateError("another sender took the lease just now", hint="try again when it is done")
        # We are the only sender on SQLite: any claim left is a dead sender's.
        with self._transaction() as conn:
            conn.execute(update(D).where(D.c.status == DeliveryStatus.QUEUED.value, D.c.claimed_by.is_not(None))
                         .values(claimed_by=None, lease_until=None))

    def reap_dead_claims(self) -> int:
        """Return to the queue the claims of senders on this machine whose process is gone."""
        with self.engine.connect() as conn:
            holders = [r[0] for r in conn.execute(select(D.c.claimed_by).distinct().where(
                D.c.status == DeliveryStatus.QUEUED.value, D.c.claimed_by.is_not(None)))]
        dead = [h for h in holders if h != self.holder and not holder_alive(h)]
        if not dead:
            return 0
        with self._transaction() as conn:
            return conn.execute(update(D).where(D.c.status == DeliveryStatus.QUEUED.value,
                                                      D.c.claimed_by.in_(dead))
                                      .values(claimed_by=None, lease_until=None)).rowcount

    def renew(self) -> None:
        """Extend the lease; StateError if another sender has taken it over meanwhile."""
        from digest import leases

        if self.sqlite and not leases.acquire(self.engine, SENDER_LEASE, self.holder, ttl=self.lease):
            raise StateError("this sender lost its lease to another sender; stopping")

    def release_sender_lease(self) -> None:
        from digest import leases

        if self.sqlite:
            leases.release(self.engine, SENDER_LEASE, self.holder)

    # --- what there is to send --------------------------------------------------------------

    def _issue_filter(self):  # noqa: ANN202
        condition = I.c.status == IssueStatus.SENDING.value
        if self.issue_number is not None:
            condition = and_(condition, I.c.number == self.issue_number)
        return condition

    def sending_issues(self) -> list[tuple[int, int]]:
        """(issue id, number) of the issues this run may send, in number order."""
        with self.engine.connect() as conn:
            return [(r.id, r.number) for r in conn.execute(select(I.c.id, I.c.number).where(self._issue_filter())
                                                           .order_by(I.c.number))]

    def count_queued(self) -> tuple[int, int]:
        """(queued deliveries due now, queued deliveries waiting for a retry) of this run's issues."""
        now = utcnow()
        due = or_(D.c.next_attempt_at.is_(None), D.c.next_attempt_at <= now)
        with self.engine.connect() as conn:
            rows = conn.execute(select(due.label("due"), func.count()).select_from(D.join(I, I.c.id == D.c.issue_id))
                                .where(self._issue_filter(), D.c.status == DeliveryStatus.QUEUED.value)
                                .group_by(due)).all()
        counts = {bool(r[0]): r[1] for r in rows}
        return counts.get(True, 0), counts.get(False, 0)

    def next_retry_at(self) -> datetime | None:
        with self.engine.connect() as conn:
            value = conn.execute(select(func.min(D.c.next_attempt_at)).select_from(D.join(I, I.c.id == D.c.issue_id))
                                 .where(self._issue_filter(), D.c.status == DeliveryStatus.QUEUED.value)).scalar()
        return _aware(value) if value is not None else None

    def new_pass(self) -> None:
        """Start again from the lowest ids (to pick up retries that came due)."""
        self._after.clear()

    def claim(self, issue_id: int, limit: int) -> list[Job]:
        """Up to `limit` due, unclaimed deliveries of one issue, in id order, now claimed by us.

        Within a pass the claim moves forward by id (keyset), so a long queue is read once,
        not rescanned per batch. Empty when this pass has nothing more due for the issue.
        """
        now = utcnow()
        query = (select(D.c.id, D.c.issue_id, D.c.subscriber_id, D.c.attempts, S.c.email, S.c.status)
                 .join(S, S.c.id == D.c.subscriber_id)
                 .where(D.c.issue_id == issue_id, D.c.status == DeliveryStatus.QUEUED.value,
                        D.c.id > self._after.get(issue_id, 0),
                        or_(D.c.next_attempt_at.is_(None), D.c.next_attempt_at <= now),
                        or_(D.c.claimed_by.is_(None), D.c.lease_until < now))
                 .order_by(D.c.id).limit(limit))
        if not self.sqlite:
            query = query.with_for_update(of=D, skip_locked=True)
        with self._transaction() as conn:
            rows = conn.execute(query).all()
            if rows:
                conn.execute(update(D).where(D.c.id.in_([r.id for r in rows]))
                             .values(claimed_by=self.holder, lease_until=now + self.lease))
        if rows:
            self._after[issue_id] = rows[-1].id
        return [Job(delivery_id=r.id, issue_id=r.issue_id, subscriber_id=r.subscriber_id, email=r.email,
                    subscriber_status=r.status, attempts=r.attempts) for r in rows]

    def release(self, jobs: list[Job]) -> None:
        """Give claimed, unsent deliveries back to the queue untouched (a stop or a fatal error)."""
        if not jobs:
            return
        with self._transaction() as conn:
            conn.execute(update(D).where(D.c.id.in_([j.delivery_id for j in jobs]), D.c.claimed_by == self.holder,
                                         D.c.status == DeliveryStatus.QUEUED.value)
                         .values(claimed_by=None, lease_until=None))

    # --- outcomes ------------------------------------------------------------------------

    def record_sent(self, job: Job, message_id: str) -> None:
        """The hot path: one UPDATE and a commit on the raw driver connection (~60 µs on SQLite)."""
        now = utcnow()
        at = now.strftime("%Y-%m-%d %H:%M:%S.%f") if self.sqlite else now
        params = {"at": at, "mid": message_id, "id": job.delivery_id}
        with self._lock:
            raw = self._connection().connection.driver_connection
            if self.sqlite:
                raw.execute("BEGIN IMMEDIATE")
                try:
                    raw.execute(self._sent_sql, params)
                except BaseException:
                    raw.execute("ROLLBACK")
                    raise
                raw.execute("COMMIT")
            else:
                with raw.cursor() as cursor:
                    cursor.execute(self._sent_sql, params)
                raw.commit()

    def record_skipped(self, job: Job, reason: str) -> None:
        with self._transaction() as conn:
            conn.execute(update(D).where(D.c.id == job.delivery_id)
                         .values(status=DeliveryStatus.SKIPPED.value, last_error=reason, claimed_by=None,
                                 lease_until=None))

    def record_transient(self, job: Job, reply: str) -> datetime | None:
        """Count a failed attempt; returns when it will be retried, None when retries ran out."""
        attempts = job.attempts + 1
        now = utcnow()
        values: dict[str, object] = {"attempts": attempts, "claimed_by": None, "lease_until": None}
        retry_at = None
        if attempts > self.retries:
            values.update(status=DeliveryStatus.FAILED.value,
                          last_error=f"gave up after {attempts} attempts: {reply}"[:2000])
        else:
            retry_at = now + timedelta(seconds=backoff(attempts, self.retry_delay, rng=self._rng))
            values.update(last_error=reply[:2000], next_attempt_at=retry_at)
        with self._transaction() as conn:
            conn.execute(update(D).where(D.c.id == job.delivery_id).values(**values))
        return retry_at

    def record_permanent(self, job: Job, reply: str) -> bool:
        """Mark the delivery failed with the server's reply and count a bounce.

        Returns True when this made the subscriber bounced (`bounce_after` permanent failures).
        """
        from sqlmodel import Session

        from digest.subscribers import record_bounce

        with self._transaction() as conn:
            conn.execute(update(D).where(D.c.id == job.delivery_id)
                               .values(status=DeliveryStatus.FAILED.value, attempts=job.attempts + 1,
                                       last_error=reply[:2000], claimed_by=None, lease_until=None))
            with Session(bind=conn) as session:
                bounced = record_bounce(session=session, subscriber_id=job.subscriber_id, reply=reply,
                                        bounce_after=self.bounce_after)
                session.flush()
        return bounced

    # --- issues ----------------------------------------------------------------------------

    def complete_issues(self) -> list[int]:
        """Mark `sent` every sending issue of this run with nothing left queued; their numbers."""
        now = utcnow()
        pending = select(D.c.id).where(D.c.issue_id == I.c.id, D.c.status == DeliveryStatus.QUEUED.value).exists()
        with self._transaction() as conn:
            numbers = [r.number for r in conn.execute(select(I.c.number).where(self._issue_filter(), ~pending))]
            if numbers:
                conn.execute(update(I).where(I.c.number.in_(numbers), I.c.status == IssueStatus.SENDING.value)
                             .values(status=IssueStatus.SENT.value, sent_at=now, updated_at=now))
        self.completed.extend(numbers)
        return numbers


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def engine_for_workers(engine: Engine, workers: int) -> tuple[Engine, bool]:
    """An engine whose pool has a connection for each worker plus the claimer (PostgreSQL), and
    whether it is new (the caller disposes of it). SQLite needs none: it has one writer."""
    if engine.dialect.name != "postgresql":
        return engine, False
    from digest.db import make_engine

    return make_engine(engine.url.render_as_string(hide_password=False), pool_size=workers + 2, max_overflow=2), True


def queued_jobs(conn: Connection, *, issue_id: int, after: int, limit: int) -> list[Job]:
    """Read-only page of an issue's queued deliveries (for dry runs): nothing is claimed."""
    rows = conn.execute(select(D.c.id, D.c.issue_id, D.c.subscriber_id, D.c.attempts, S.c.email, S.c.status)
                        .join(S, S.c.id == D.c.subscriber_id)
                        .where(D.c.issue_id == issue_id, D.c.status == DeliveryStatus.QUEUED.value, D.c.id > after)
                        .order_by(D.c.id).limit(limit)).all()
    return [Job(delivery_id=r.id, issue_id=r.issue_id, subscriber_id=r.subscriber_id, email=r.email,
                subscriber_status=r.status, attempts=r.attempts) for r in rows]
