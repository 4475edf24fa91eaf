"""The delivery queue in the database: claiming batches, recording outcomes, the sender lease.

The sender's statements live in `digest.data.issues`; this is the queue's logic. Each outcome is recorded in its own small transaction
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
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from digest import issue_state
from digest.claims import ClaimLease, Heartbeat, describe_holder, holder_alive, new_holder, seconds_between
from digest.data import issues as data
from digest.db import write_engine
from digest.errors import StateError
from digest.models import DeliveryStatus, utcnow

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine, Row

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

    @classmethod
    def of(cls, row: Row) -> Job:
        return cls(delivery_id=row.id, issue_id=row.issue_id, subscriber_id=row.subscriber_id, email=row.email,
                   subscriber_status=row.status, attempts=row.attempts)


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

    def _scope(self) -> data.SendingIssues:
        return data.SendingIssues(self.issue_number, None if self._issue_ids is None else tuple(self._issue_ids))

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
                taken = data.take_over_lease(conn, name=SENDER_LEASE, from_holder=other or "", to_holder=self.holder,
                                             expires_at=utcnow() + self.lease)
            if not taken and not leases.acquire(self.engine, SENDER_LEASE, self.holder, ttl=self.lease):
                raise StateError("another sender took the lease just now", hint="try again when it is done")
        # We are the only sender on SQLite: any claim left is a dead sender's.
        with self._transaction() as conn:
            data.unclaim_queued(conn)

    def reap_dead_claims(self) -> int:
        """Return to the queue the claims of senders on this machine whose process is gone."""
        with self.engine.connect() as conn:
            holders = data.claim_holders(conn)
        dead = [h for h in holders if h != self.holder and not holder_alive(h)]
        if not dead:
            return 0
        with self._transaction() as conn:
            return data.unclaim_queued(conn, holders=dead)

    def renew(self) -> None:
        """Extend the lease of every claim we hold (and the SQLite sender lease).

        StateError if another sender has taken the SQLite lease over meanwhile.
        """
        from digest import leases

        with self._held_lock:
            held = sorted(self._held)  # locked in id order, as every other multi-row update here
        if held:
            with self._transaction() as conn:
                data.renew_claims(conn, delivery_ids=held, holder=self.holder, lease=self.lease)
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

    def sending_issues(self) -> list[tuple[int, int]]:
        """(issue id, number) of the issues this run may send, in number order; the run's issues from now on."""
        with self.engine.connect() as conn:
            found = data.sending_issues(conn, self._scope())
        self._issue_ids = [issue_id for issue_id, _number in found]
        return found

    def queue_state(self) -> QueueState:
        """What is left of this run's issues: due for us, held by other senders, waiting for a retry.

        One query; the waits are reckoned against the database's own clock.
        """
        with self.engine.connect() as conn:
            figures = data.queue_figures(conn, self._scope())
        next_retry = figures.next_retry_at if figures.waiting else None
        held_for = max(0.0, seconds_between(figures.held_until, figures.clock))
        return QueueState(due=figures.total - figures.waiting - figures.held, held=figures.held,
                          waiting=figures.waiting, held_for=held_for,
                          retry_in=max(0.0, seconds_between(next_retry, figures.clock)), next_retry_at=next_retry)

    def standing(self) -> list[dict[str, int]]:
        """For each of this run's issues still being sent: its number, the deliveries the relay
        accepted (`delivered`) and those still queued (`waiting`)."""
        with self.engine.connect() as conn:
            return data.standing(conn, self._scope())

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
        started = self.claims.now()
        with self._transaction() as conn:
            rows = data.claim_due(conn, issue_id=issue_id, after=self._after.get(issue_id, 0), limit=limit,
                                  holder=self.holder, lease=self.lease)
        if rows:
            self._after[issue_id] = rows[-1].id
            with self._held_lock:
                self._held.update(r.id for r in rows)
            self.claims.claimed(started)
        return [Job.of(row) for row in rows]

    def release(self, jobs: list[Job]) -> None:
        """Give claimed, unsent deliveries back to the queue untouched (a stop or a fatal error)."""
        if not jobs:
            return
        with self._transaction() as conn:
            data.unclaim(conn, delivery_ids=[job.delivery_id for job in jobs], holder=self.holder)
        with self._held_lock:
            self._held.difference_update(j.delivery_id for j in jobs)

    # --- outcomes ------------------------------------------------------------------------
    # A sent message is recorded whatever the row says (it went out); the other outcomes only
    # change a delivery still queued, so a late answer never undoes another sender's `sent`.

    def record_sent(self, job: Job, message_id: str) -> None:
        """The hot path: committed at once, outside this thread's transactions (`data.mark_sent`)."""
        with self._lock:
            data.mark_sent(self._connection(), delivery_id=job.delivery_id, message_id=message_id)
        self._settle(job.delivery_id)

    def record_skipped(self, job: Job, reason: str) -> None:
        with self._transaction() as conn:
            data.settle_queued(conn, job.delivery_id, status=DeliveryStatus.SKIPPED.value, last_error=reason)
        self._settle(job.delivery_id)

    def record_transient(self, job: Job, reply: str, *, give_up: bool = True) -> datetime | None:
        """Count a failed attempt; returns when it will be retried, None when retries ran out.

        `give_up=False` (a dropped connection or a timeout: the relay's trouble, not an answer
        about this reader) retries with the same growing backoff but never marks it failed.
        """
        attempts = job.attempts + 1
        values: dict[str, object] = {"attempts": attempts}
        retry_at = None
        if attempts > self.retries and give_up:
            values.update(status=DeliveryStatus.FAILED.value,
                          last_error=f"gave up after {attempts} attempts: {reply}"[:2000])
        else:
            delay = timedelta(seconds=backoff(attempts, self.retry_delay, rng=self._rng))
            retry_at = utcnow() + delay
            values.update(last_error=reply[:2000], retry_in=delay)
        with self._transaction() as conn:
            data.settle_queued(conn, job.delivery_id, **values)
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
            changed = data.settle_queued(conn, job.delivery_id, status=DeliveryStatus.FAILED.value,
                                         attempts=job.attempts + 1, last_error=reply[:2000])
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
        with self._transaction() as conn:
            done = [number for number in data.finished_sending(conn, self._scope())
                    if issue_state.move(conn, number, source=issue_state.SENDING, target=issue_state.SENT,
                                        when=(data.nothing_queued(),), sent_at=data.first_sent_at(now), updated_at=now)]
        self.completed.extend(done)
        return done


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
    return [Job.of(row) for row in data.queued_page(conn, issue_id=issue_id, after=after, limit=limit)]
