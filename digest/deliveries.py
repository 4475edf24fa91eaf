"""The delivery queue in the database: claiming batches, recording outcomes, the sender lease.

All of the sender's SQL lives here. Each outcome is recorded in its own small transaction
right after the server answers, which is what bounds duplicates after a crash: a message the
server accepted but whose `sent` never reached the database is the only kind sent twice, and
each worker has at most one such message in flight.

On PostgreSQL any number of senders share the queue: a claim selects a batch with FOR UPDATE
SKIP LOCKED (two senders never block on, or both take, one row) and stamps it `claimed_by`
this process with `lease_until` on the server's clock; a heartbeat renews the claims while the
process works, and a sender that died leaves claims that expire and are claimed again by the
others (`digest.claims`). On SQLite one sender runs at a time: `acquire_sender_lease` guards
that with a Lease row, takes over the lease of a sender that died on this machine (its pid is
gone), and returns its claims to the queue.
"""

from __future__ import annotations

import contextlib
import random
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, case, func, or_, select, update

from digest.claims import ClaimLease, Heartbeat, describe_holder, holder_alive, new_holder, seconds_between
from digest.data.codec import sqlite_text
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
QUEUED = DeliveryStatus.QUEUED.value


@dataclass(frozen=True)
class Job:
    """One claimed delivery with what the sender needs to mail it."""

    delivery_id: int
    issue_id: int
    subscriber_id: int
    email: str
    subscriber_status: str
    attempts: int


@dataclass(frozen=True)
class QueueState:
    """The queued deliveries of a run's issues, as one sender sees them.

    `due`: this sender may claim them now (unclaimed, or their claim's lease ended);
    `held`: live claims (of other senders, between passes), settled or free again in `held_for` seconds;
    `waiting`: retries not due yet, the first in `retry_in` seconds (at `next_retry_at`).
    """

    due: int = 0
    held: int = 0
    waiting: int = 0
    held_for: float = float("inf")
    retry_in: float = float("inf")
    next_retry_at: datetime | None = None


def backoff(attempt: int, base: float, *, rng: random.Random | None = None) -> float:
    """Seconds before retry number `attempt` (1, 2, ...): base * 2^(n-1), capped, with ±50% jitter.

    Jitter spreads the retries of many deliveries that failed together (a server's
    greylisting, say) so they do not all come back in the same second.
    """
    delay = min(base * 2 ** max(attempt - 1, 0), MAX_BACKOFF)
    return delay * (rng or random).uniform(0.5, 1.5)


class DeliveryStore:
    """The queue as one sender sees it; thread-safe (on SQLite, writes are serialised by a lock)."""

    def __init__(self, engine: Engine, *, holder: str | None = None, lease: float = 60.0,
                 retries: int = 5, retry_delay: float = 30.0, bounce_after: int = 3,
                 issue_number: int | None = None, rng: random.Random | None = None) -> None:
        self.engine = engine
        self.sqlite = engine.dialect.name == "sqlite"
        self._writer = write_engine(engine)
        self.holder = holder or new_holder()
        self.lease = timedelta(seconds=lease)
        self.claims = ClaimLease(lease)
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
        self._held: set[int] = set()  # deliveries claimed by us and not settled: what the heartbeat renews
        self._held_lock = threading.Lock()
        self._after: dict[int, int] = {}  # keyset position per issue within one pass
        self._issue_ids: list[int] | None = None  # the run's issues, once `sending_issues` chose them
        self.completed: list[int] = []  # issues this store marked sent
        style = "%({})s" if engine.dialect.paramstyle == "pyformat" else ":{}"
        self._sent_sql = ("UPDATE delivery SET status = 'sent', attempts = attempts + 1, sent_at = {at}, "
                          "message_id = {mid}, claimed_by = NULL, lease_until = NULL, "
                          "next_attempt_at = NULL WHERE id = {id}").format(at=style.format("at"),
                                                                          mid=style.format("mid"), id=style.format("id"))

    def _now(self) -> Any:
        """Now for comparisons and stamps in SQL: the server's clock on PostgreSQL (one clock for
        every host sharing the queue), this machine's on SQLite (one host by construction)."""
        return utcnow() if self.sqlite else func.now()

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

    def _settle(self, delivery_id: int) -> None:
        with self._held_lock:
            self._held.discard(delivery_id)

    # --- the sender lease (SQLite) and the claims' heartbeat --------------------------------

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
                raise StateError(f"another sender is running ({describe_holder(other)})",
                                 hint="wait for it to finish; on SQLite one sender runs at a time")
            with self._transaction() as conn:  # the holder died: take its lease over, compare-and-set
                taken = conn.execute(update(L).where(L.c.name == SENDER_LEASE, L.c.holder == (other or ""))
                                     .values(holder=self.holder, expires_at=utcnow() + self.lease)).rowcount
            if not taken and not leases.acquire(self.engine, SENDER_LEASE, self.holder, ttl=self.lease):
                raise StateError("another sender took the lease just now", hint="try again when it is done")
        # We are the only sender on SQLite: any claim left is a dead sender's.
        with self._transaction() as conn:
            conn.execute(update(D).where(D.c.status == QUEUED, D.c.claimed_by.is_not(None))
                         .values(claimed_by=None, lease_until=None))

    def reap_dead_claims(self) -> int:
        """Return to the queue the claims of senders on this machine whose process is gone."""
        with self.engine.connect() as conn:
            holders = [r[0] for r in conn.execute(select(D.c.claimed_by).distinct().where(
                D.c.status == QUEUED, D.c.claimed_by.is_not(None)))]
        dead = [h for h in holders if h != self.holder and not holder_alive(h)]
        if not dead:
            return 0
        with self._transaction() as conn:
            return conn.execute(update(D).where(D.c.status == QUEUED, D.c.claimed_by.in_(dead))
                                .values(claimed_by=None, lease_until=None)).rowcount

    def renew(self) -> None:
        """Extend the lease of every claim we hold (and the SQLite sender lease).

        StateError if another sender has taken the SQLite lease over meanwhile.
        """
        from digest import leases

        with self._held_lock:
            held = sorted(self._held)  # locked in id order, as every other multi-row update here
        if held:
            with self._transaction() as conn:
                for start in range(0, len(held), 5000):
                    conn.execute(update(D).where(D.c.id.in_(held[start:start + 5000]),
                                                 D.c.claimed_by == self.holder, D.c.status == QUEUED)
                                 .values(lease_until=self._now() + self.lease))
        if self.sqlite and not leases.acquire(self.engine, SENDER_LEASE, self.holder, ttl=self.lease):
            raise StateError("this sender lost its lease to another sender; stopping")

    def claim_safe(self) -> bool:
        """Whether our claims are still provably ours: a worker sends nothing when they are not."""
        return self.claims.safe()

    def claim_lost(self) -> str:
        return self.claims.lost or (f"the claims on its deliveries were not renewed for {self.claims.interval * 3:.0f} s "
                                    "(is the database reachable?); stopped so that no delivery another sender "
                                    "takes over is sent twice")

    def heartbeat(self) -> Heartbeat:
        """A started heartbeat renewing our claims every lease / 4; stop it when the run ends."""
        return Heartbeat(self.claims, self.renew, lost_on=(StateError,)).start()

    def release_sender_lease(self) -> None:
        from digest import leases

        if self.sqlite:
            leases.release(self.engine, SENDER_LEASE, self.holder)

    # --- what there is to send --------------------------------------------------------------

    def _issue_filter(self):  # noqa: ANN202
        condition = I.c.status == IssueStatus.SENDING.value
        if self.issue_number is not None:
            condition = and_(condition, I.c.number == self.issue_number)
        if self._issue_ids is not None:  # an issue queued during the run waits for the next run
            condition = and_(condition, I.c.id.in_(self._issue_ids))
        return condition

    def sending_issues(self) -> list[tuple[int, int]]:
        """(issue id, number) of the issues this run may send, in number order; the run's issues from now on."""
        with self.engine.connect() as conn:
            found = [(r.id, r.number) for r in conn.execute(select(I.c.id, I.c.number).where(self._issue_filter())
                                                            .order_by(I.c.number))]
        self._issue_ids = [issue_id for issue_id, _number in found]
        return found

    def queue_state(self) -> QueueState:
        """What is left of this run's issues: due for us, held by other senders, waiting for a retry.

        One query; the waits are reckoned against the database's own clock.
        """
        now = self._now()
        later = D.c.next_attempt_at > now
        held = and_(~later | D.c.next_attempt_at.is_(None), D.c.claimed_by.is_not(None), D.c.lease_until >= now)
        one = lambda condition: func.coalesce(func.sum(case((condition, 1), else_=0)), 0)  # noqa: E731
        query = (select(func.count().label("total"), one(later).label("waiting"), one(held).label("held"),
                        func.min(case((held, D.c.lease_until))).label("held_until"),
                        func.min(D.c.next_attempt_at).label("next_retry_at"))
                 .select_from(D.join(I, I.c.id == D.c.issue_id))
                 .where(self._issue_filter(), D.c.status == QUEUED))
        with self.engine.connect() as conn:
            row = conn.execute(query).one()
            clock = utcnow() if self.sqlite else conn.execute(select(func.now())).scalar()
        next_retry = _aware(row.next_retry_at) if row.next_retry_at is not None and row.waiting else None
        held_until = _aware(row.held_until) if row.held_until is not None else None
        return QueueState(due=row.total - row.waiting - row.held, held=row.held, waiting=row.waiting,
                          held_for=max(0.0, seconds_between(held_until, clock)),
                          retry_in=max(0.0, seconds_between(next_retry, clock)), next_retry_at=next_retry)

    def standing(self) -> list[dict[str, int]]:
        """For each of this run's issues still being sent: its number, the deliveries the relay
        accepted (`delivered`) and those still queued (`waiting`)."""
        one = lambda status: func.coalesce(func.sum(case((D.c.status == status, 1), else_=0)), 0)  # noqa: E731
        query = (select(I.c.number, one(DeliveryStatus.SENT.value).label("delivered"), one(QUEUED).label("waiting"))
                 .select_from(I.join(D, D.c.issue_id == I.c.id)).where(self._issue_filter())
                 .group_by(I.c.number).order_by(I.c.number))
        with self.engine.connect() as conn:
            return [{"issue": r.number, "delivered": int(r.delivered), "waiting": int(r.waiting)}
                    for r in conn.execute(query) if r.waiting]

    def count_queued(self) -> tuple[int, int]:
        """(queued deliveries due now, queued deliveries waiting for a retry) of this run's issues."""
        state = self.queue_state()
        return state.due + state.held, state.waiting

    def next_retry_at(self) -> datetime | None:
        return self.queue_state().next_retry_at

    def new_pass(self) -> None:
        """Start again from the lowest ids (to pick up retries that came due and lapsed claims)."""
        self._after.clear()

    def claim(self, issue_id: int, limit: int) -> list[Job]:
        """Up to `limit` due, unclaimed (or lapsed) deliveries of one issue, in id order, now ours.

        Within a pass the claim moves forward by id (keyset), so a long queue is read once,
        not rescanned per batch. Empty when this pass has nothing more due for the issue. On
        PostgreSQL rows another sender is claiming at this moment are skipped, not waited for.
        """
        now = self._now()
        query = (select(D.c.id, D.c.issue_id, D.c.subscriber_id, D.c.attempts, S.c.email, S.c.status)
                 .join(S, S.c.id == D.c.subscriber_id)
                 .where(D.c.issue_id == issue_id, D.c.status == QUEUED,
                        D.c.id > self._after.get(issue_id, 0),
                        or_(D.c.next_attempt_at.is_(None), D.c.next_attempt_at <= now),
                        or_(D.c.claimed_by.is_(None), D.c.lease_until < now))
                 .order_by(D.c.id).limit(limit))
        if not self.sqlite:
            query = query.with_for_update(of=D, skip_locked=True)
        started = self.claims.now()
        with self._transaction() as conn:
            rows = conn.execute(query).all()
            if rows:
                conn.execute(update(D).where(D.c.id.in_([r.id for r in rows]))
                             .values(claimed_by=self.holder, lease_until=now + self.lease))
        if rows:
            self._after[issue_id] = rows[-1].id
            with self._held_lock:
                self._held.update(r.id for r in rows)
            self.claims.claimed(started)
        return [Job(delivery_id=r.id, issue_id=r.issue_id, subscriber_id=r.subscriber_id, email=r.email,
                    subscriber_status=r.status, attempts=r.attempts) for r in rows]

    def release(self, jobs: list[Job]) -> None:
        """Give claimed, unsent deliveries back to the queue untouched (a stop or a fatal error)."""
        if not jobs:
            return
        with self._transaction() as conn:
            conn.execute(update(D).where(D.c.id.in_([j.delivery_id for j in jobs]), D.c.claimed_by == self.holder,
                                         D.c.status == QUEUED)
                         .values(claimed_by=None, lease_until=None))
        with self._held_lock:
            self._held.difference_update(j.delivery_id for j in jobs)

    # --- outcomes ------------------------------------------------------------------------
    # A sent message is recorded whatever the row says (it went out); the other outcomes only
    # change a delivery still queued, so a late answer never undoes another sender's `sent`.

    def record_sent(self, job: Job, message_id: str) -> None:
        """The hot path: one UPDATE and a commit on the raw driver connection (~60 µs on SQLite, one
        round trip to PostgreSQL)."""
        now = utcnow()
        at = sqlite_text(now) if self.sqlite else now
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
            else:  # one statement, so autocommit: one round trip instead of BEGIN, UPDATE, COMMIT
                raw.autocommit = True
                try:
                    raw.execute(self._sent_sql, params)
                finally:
                    if not raw.closed:
                        raw.autocommit = False
        self._settle(job.delivery_id)

    def record_skipped(self, job: Job, reason: str) -> None:
        with self._transaction() as conn:
            conn.execute(update(D).where(D.c.id == job.delivery_id, D.c.status == QUEUED)
                         .values(status=DeliveryStatus.SKIPPED.value, last_error=reason, claimed_by=None,
                                 lease_until=None))
        self._settle(job.delivery_id)

    def record_transient(self, job: Job, reply: str, *, give_up: bool = True) -> datetime | None:
        """Count a failed attempt; returns when it will be retried, None when retries ran out.

        `give_up=False` (a dropped connection or a timeout: the relay's trouble, not an answer
        about this reader) retries with the same growing backoff but never marks it failed.
        """
        attempts = job.attempts + 1
        values: dict[str, object] = {"attempts": attempts, "claimed_by": None, "lease_until": None}
        retry_at = None
        if attempts > self.retries and give_up:
            values.update(status=DeliveryStatus.FAILED.value,
                          last_error=f"gave up after {attempts} attempts: {reply}"[:2000])
        else:
            delay = timedelta(seconds=backoff(attempts, self.retry_delay, rng=self._rng))
            retry_at = utcnow() + delay
            values.update(last_error=reply[:2000], next_attempt_at=self._now() + delay)
        with self._transaction() as conn:
            conn.execute(update(D).where(D.c.id == job.delivery_id, D.c.status == QUEUED).values(**values))
        self._settle(job.delivery_id)
        return retry_at

    def record_permanent(self, job: Job, reply: str) -> bool:
        """Mark the delivery failed with the server's reply and count a bounce.

        Returns True when this made the subscriber bounced (`bounce_after` permanent failures).
        """
        from sqlmodel import Session

        from digest.subscribers import record_bounce

        bounced = False
        with self._transaction() as conn:
            changed = conn.execute(update(D).where(D.c.id == job.delivery_id, D.c.status == QUEUED)
                                   .values(status=DeliveryStatus.FAILED.value, attempts=job.attempts + 1,
                                           last_error=reply[:2000], claimed_by=None, lease_until=None)).rowcount
            if changed:
                with Session(bind=conn) as session:
                    bounced = record_bounce(session=session, subscriber_id=job.subscriber_id, reply=reply,
                                            bounce_after=self.bounce_after)
                    session.flush()
        self._settle(job.delivery_id)
        return bounced

    # --- issues ----------------------------------------------------------------------------

    def complete_issues(self) -> list[int]:
        """Mark `sent` every sending issue of this run with nothing left queued; their numbers.

        With several senders each issue is completed by exactly one of them (compare-and-set).
        An issue queued again for new readers keeps the date it first went out: that is the
        date the archive and the feed show.
        """
        now = utcnow()
        pending = select(D.c.id).where(D.c.issue_id == I.c.id, D.c.status == QUEUED).exists()
        done: list[int] = []
        with self._transaction() as conn:
            for number in [r.number for r in conn.execute(select(I.c.number).where(self._issue_filter(), ~pending))]:
                if conn.execute(update(I).where(I.c.number == number, I.c.status == IssueStatus.SENDING.value, ~pending)
                                .values(status=IssueStatus.SENT.value, sent_at=func.coalesce(I.c.sent_at, now),
                                        updated_at=now)).rowcount:
                    done.append(number)
        self.completed.extend(done)
        return done


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def engine_for_workers(engine: Engine, workers: int, *, pgbouncer: bool = False) -> tuple[Engine, bool]:
    """An engine whose pool has a connection for each worker, the claimer, the heartbeat and one
    for short reads (PostgreSQL), and whether it is new (the caller disposes of it). SQLite needs
    none: it has one writer."""
    if engine.dialect.name != "postgresql":
        return engine, False
    from digest.db import make_engine

    return make_engine(engine.url.render_as_string(hide_password=False), pool_size=workers + 3, max_overflow=2,
                       pgbouncer=pgbouncer), True


def queued_jobs(conn: Connection, *, issue_id: int, after: int, limit: int) -> list[Job]:
    """Read-only page of an issue's queued deliveries (for dry runs): nothing is claimed."""
    rows = conn.execute(select(D.c.id, D.c.issue_id, D.c.subscriber_id, D.c.attempts, S.c.email, S.c.status)
                        .join(S, S.c.id == D.c.subscriber_id)
                        .where(D.c.issue_id == issue_id, D.c.status == DeliveryStatus.QUEUED.value, D.c.id > after)
                        .order_by(D.c.id).limit(limit)).all()
    return [Job(delivery_id=r.id, issue_id=r.issue_id, subscriber_id=r.subscriber_id, email=r.email,
                subscriber_status=r.status, attempts=r.attempts) for r in rows]
