"""`digest send`: deliver queued deliveries from the frozen parts, fast, exactly once per reader.

The main thread claims batches of due deliveries (see `digest.deliveries`) and hands them to
`workers` threads; each thread owns one Transport (one SMTP connection, reused), builds each
message from the issue's frozen parts by substituting that subscriber's signed links
(`digest.message.MessageTemplate` + `digest.links.Personaliser`), waits for the run's token
bucket (`rate` messages per second overall), sends, and records the outcome at once:

    accepted                     sent (with its Message-ID), in its own transaction
    4xx, dropped, timed out      retried later with exponential backoff and jitter, up to
                                 `send.retries` retries, then failed (a drop or a timeout
                                 is retried without that limit: it says nothing of the reader)
    5xx                          failed with the server's reply; a bounce for the subscriber,
                                 bounced after `send.bounce_after` of them
    subscriber no longer active  skipped, never mailed

A failure is recorded against its reader only once the relay has shown it works by accepting
another message (`digest.breaker`); a relay that refuses reader after reader (`send.breaker` in
a row), or cannot be reached, logged in to or used at all, stops the run with a RelayError:
every delivery it did not accept stays queued, uncharged, for the next run.

The run continues until nothing is queued (waiting for due retries unless `wait=False`), then
marks finished issues `sent`. Killed at any moment it loses nothing: unsent deliveries stay
queued, and the next run sends them. Only a message accepted by the server whose record did not
reach the database is sent twice: at most one per worker per crash.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from digest.breaker import Breaker, Held, Trip
from digest.composer import Composer, envelope_sender, make_dkim, make_signer, smtp_transport_factory
from digest.deliveries import DeliveryStore, Job, engine_for_workers, queued_jobs
from digest.errors import ConfigError, DeliveryError, NotFoundError, RelayError, StateError
from digest.issue_state import GONE_OUT
from digest.models import SubscriberStatus
from digest.outbox import load_frozen
from digest.transport import EmlWriter, PermanentFailure, TransientFailure, Transport, Unreachable

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from digest.config import Settings
    from digest.message import DkimSigner
    from digest.tokens import Signer

RECONNECT_TRIES = 3  # an unreachable server is tried this many more times, 0.5 s, 1 s, 2 s apart


class Progress(Protocol):
    """What the CLI shows while a run goes: a total, then one call per settled delivery."""

    def start(self, total: int) -> None: ...

    def advance(self, outcome: str) -> None: ...


class _NoProgress:
    def start(self, total: int) -> None:
        return None

    def advance(self, outcome: str) -> None:
        return None


@dataclass
class SendReport:
    """What a run did. `retried` counts attempts that will be tried again."""

    sent: int = 0
    failed: int = 0
    retried: int = 0
    skipped: int = 0
    bounced: int = 0
    written: int = 0
    waiting: int = 0  # deliveries still queued for a later retry when the run ended
    next_retry_at: datetime | None = None
    completed: list[int] = field(default_factory=list)  # issues that became sent
    issues: list[int] = field(default_factory=list)
    elapsed: float = 0.0
    dry_run: bool = False
    folders: list[str] = field(default_factory=list)
    stopped: bool = False  # ended early on request (SIGTERM), the rest left queued
    note: str = ""
    relay: str = ""  # the relay's answer when the run stopped because the relay is failing
    standing: list[dict[str, int]] = field(default_factory=list)  # issues not sent: number, delivered, waiting

    @property
    def rate(self) -> float:
        done = self.written if self.dry_run else self.sent
        return done / self.elapsed if self.elapsed > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        return {"sent": self.sent, "failed": self.failed, "retried": self.retried, "skipped": self.skipped,
                "bounced": self.bounced, "written": self.written, "waiting": self.waiting,
                "next_retry_at": self.next_retry_at, "completed_issues": self.completed, "issues": self.issues,
                "elapsed": round(self.elapsed, 3), "rate": round(self.rate, 1), "dry_run": self.dry_run,
                "folders": self.folders, "stopped": self.stopped, "note": self.note, "relay": self.relay,
                "standing": self.standing}


class TokenBucket:
    """`rate` tokens per second shared by all workers, bursts up to `capacity`.

    Its own accounting proves the limit: after any run, `granted <= capacity + rate * elapsed`.
    A rate of 0 means unlimited.
    """

    def __init__(self, rate: float, *, capacity: float | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.capacity = capacity if capacity is not None else max(1.0, rate / 10)
        self._tokens = self.capacity
        self._clock = clock
        self.started = clock()
        self._last = self.started
        self.granted = 0
        self._lock = threading.Lock()

    def take(self, stop: threading.Event | None = None) -> bool:
        """Wait for a token; False if `stop` was set meanwhile."""
        if self.rate <= 0:
            self.granted += 1
            return True
        while True:
            with self._lock:
                now = self._clock()
                self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.rate)
                self._last = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    self.granted += 1
                    return True
                wait = (1 - self._tokens) / self.rate
            if stop is not None:
                if stop.wait(wait):
                    return False
            else:
                time.sleep(wait)


# --- the worker pool ----------------------------------------------------------------------------

class WorkStore(Protocol):
    """The queue as the workers see it: `DeliveryStore`, or `_DryRunStore` for a dry run."""

    def claim(self, issue_id: int, limit: int) -> list[Job]: ...

    def claim_safe(self) -> bool: ...

    def claim_lost(self) -> str: ...

    def record_sent(self, job: Job, message_id: str) -> None: ...

    def record_skipped(self, job: Job, reason: str) -> None: ...

    def record_transient(self, job: Job, reply: str, *, give_up: bool = True) -> datetime | None: ...

    def record_permanent(self, job: Job, reply: str) -> bool: ...


class _Pool:
    """`workers` threads, each with its own transport, fed through a small bounded queue."""

    def __init__(self, *, workers: int, factory: Callable[[], Transport], store: WorkStore,
                 composers: dict[int, Composer], bucket: TokenBucket, sender: str, report: SendReport,
                 progress: Progress, stop: threading.Event, breaker: Breaker) -> None:
        self.store = store
        self.breaker = breaker
        self.composers = composers
        self.bucket = bucket
        self.sender = sender
        self.report = report
        self.progress = progress
        self.stop = stop
        self.fatal: DeliveryError | None = None
        self.returned: list[Job] = []
        self.connected = threading.Event()  # a connection worked once: later drops are worth retrying
        self._jobs: queue.Queue[Job | None] = queue.Queue(maxsize=workers * 2)
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._pending = 0
        self._threads = [threading.Thread(target=self._work, args=(factory(),), name=f"digest-sender-{n}", daemon=True)
                         for n in range(workers)]
        for thread in self._threads:
            thread.start()

    def submit(self, job: Job) -> None:
        with self._lock:
            self._pending += 1
        self._jobs.put(job)

    def wait_idle(self) -> None:
        with self._idle:
            while self._pending:
                self._idle.wait(0.5)

    def shutdown(self) -> None:
        for _ in self._threads:
            self._jobs.put(None)
        for thread in self._threads:
            thread.join()

    def _count(self, outcome: str) -> None:
        with self._lock:
            setattr(self.report, outcome, getattr(self.report, outcome) + 1)
        if outcome in ("sent", "failed", "skipped", "written"):
            self.progress.advance(outcome)

    def _work(self, transport: Transport) -> None:
        try:
            while True:
                job = self._jobs.get()
                if job is None:
                    return
                try:
                    if self.fatal is not None or self.stop.is_set():
                        self.give_back(job)
                    elif not self.store.claim_safe():
                        self._fail(DeliveryError(self.store.claim_lost()), job)
                    else:
                        self._deliver(transport, job)
                except DeliveryError as exc:
                    self._fail(exc, job)
                except Exception as exc:  # a bug must stop the run, not pass silently
                    self._fail(DeliveryError(f"internal error in a sender thread: {type(exc).__name__}: {exc}"), job)
                finally:
                    with self._idle:
                        self._pending -= 1
                        self._idle.notify_all()
        finally:
            transport.close()

    def give_back(self, job: Job) -> None:
        with self._lock:
            self.returned.append(job)

    def abandon_held(self) -> None:
        """Give back every failure still held: the run ends without knowing whose it was."""
        with self._lock:
            self.returned.extend(held.job for held in self.breaker.drain())

    def end_of_pass(self) -> None:
        """Settle what the breaker still holds once every worker is idle (`Breaker.end_of_pass`)."""
        confirmed, trip = self.breaker.end_of_pass()
        self._record(confirmed)
        if trip is not None:
            self._trip(trip)

    def _hold(self, job: Job, failure: TransientFailure | PermanentFailure) -> None:
        trip = self.breaker.failure(Held(job=job, failure=failure, recipient=job.email.lower()))
        if trip is not None:
            self._trip(trip)

    def _trip(self, trip: Trip) -> None:
        error = RelayError(trip.message(), hint="every delivery not accepted stays queued, uncharged; "
                                                "`digest send` (or the scheduler) resumes when the relay takes mail")
        with self._lock:
            if self.fatal is None:
                self.fatal = error
        self.abandon_held()
        self.stop.set()

    def _record(self, confirmed: list[Held]) -> None:
        """The relay works, so these failures were their readers': record each as it came."""
        for held in confirmed:
            if isinstance(held.failure, PermanentFailure):
                if self.store.record_permanent(held.job, held.failure.reply):
                    self._count("bounced")
                self._count("failed")
            else:
                # no reply code: the connection dropped or timed out, which never uses up the reader's retries
                retry_at = self.store.record_transient(held.job, held.failure.reply,
                                                       give_up=held.failure.code is not None)
                self._count("retried" if retry_at is not None else "failed")

    def _fail(self, exc: DeliveryError, job: Job) -> None:
        with self._lock:
            if self.fatal is None:
                self.fatal = exc
            self.returned.append(job)
        self.stop.set()

    def _deliver(self, transport: Transport, job: Job) -> None:
        if job.subscriber_status != SubscriberStatus.ACTIVE:
            self.store.record_skipped(job, f"subscriber is {job.subscriber_status}")
            self._count("skipped")
            return
        if not self.bucket.take(self.stop):
            self.give_back(job)
            return
        composer = self.composers[job.issue_id]
        message_id = composer.message_id(job.delivery_id)
        tag = composer.delivery_tag(job.subscriber_id)
        for attempt in range(RECONNECT_TRIES + 1):
            try:
                transport.open()
                self.connected.set()
                seven_bit = not transport.eight_bit_mime
                raw = composer.compose(subscriber_id=job.subscriber_id, email=job.email, message_id=message_id,
                                       seven_bit=seven_bit, tag=tag)
                transport.send(sender=composer.envelope_sender(tag, self.sender), recipient=job.email,
                               message=raw, issue=composer.number,
                               delivery=job.delivery_id, dot_safe=composer.dot_safe(seven_bit))
            except Unreachable:
                if not self.connected.is_set() or attempt == RECONNECT_TRIES or self.stop.wait(0.5 * 2 ** attempt):
                    raise
                continue
            except (TransientFailure, PermanentFailure) as failure:
                self._hold(job, failure)  # the reader's or the relay's? the breaker decides
                return
            self.store.record_sent(job, message_id)
            self._count("written" if self.report.dry_run else "sent")
            self._record(self.breaker.success())
            return


class _DryRunStore:
    """The queue as a dry run sees it: read-only pages, nothing claimed or recorded."""

    def __init__(self, engine: Engine, store: DeliveryStore) -> None:
        self.engine = engine
        self._store = store
        self._after: dict[int, int] = {}

    def claim_safe(self) -> bool:
        return True

    def claim_lost(self) -> str:
        return ""

    def claim(self, issue_id: int, limit: int) -> list[Job]:
        with self.engine.connect() as conn:
            jobs = queued_jobs(conn, issue_id=issue_id, after=self._after.get(issue_id, 0), limit=limit)
        if jobs:
            self._after[issue_id] = jobs[-1].delivery_id
        return jobs

    def record_sent(self, job: Job, message_id: str) -> None:
        return None

    def record_skipped(self, job: Job, reason: str) -> None:
        return None

    def record_transient(self, job: Job, reply: str, *, give_up: bool = True) -> None:
        return None

    def record_permanent(self, job: Job, reply: str) -> bool:
        return False


# --- the run ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SendRun:
    """One `send_queued` call: its checked arguments and the collaborators made for it."""

    settings: Settings
    engine: Engine
    issue_number: int | None
    workers: int
    rate: float
    dry_run: bool
    wait: bool
    transport_factory: Callable[[], Transport] | None
    progress: Progress
    stop: threading.Event
    bucket: TokenBucket | None
    started: float
    sender: str
    signer: Signer
    dkim: DkimSigner | None


def _issues(store: DeliveryStore, engine: Engine, issue_number: int | None) -> tuple[list[tuple[int, int]], str]:
    """The (id, number) of the issues to send, and a note when there is nothing to do."""
    issues = store.sending_issues()
    if issues:
        return issues, ""
    if issue_number is None:
        return [], "nothing to send: no issue is queued (queue one with `digest issue queue N`)"
    from digest.data.issues import issue_status

    with engine.connect() as conn:
        status = issue_status(conn, issue_number)
    if status is None:
        raise NotFoundError(f"no issue {issue_number}")
    if status not in GONE_OUT:
        raise StateError(f"issue {issue_number} is not queued (it is {status})",
                         hint=f"queue it with `digest issue queue {issue_number}`")
    return [], f"nothing to send: issue {issue_number} is already sent"


def send_queued(*, settings: Settings, engine: Engine, issue_number: int | None = None,
                workers: int | None = None, rate: float | None = None, dry_run: bool = False,
                wait: bool = True, transport_factory: Callable[[], Transport] | None = None,
                progress: Progress | None = None, stop: threading.Event | None = None,
                bucket: TokenBucket | None = None) -> SendReport:
    """Deliver every due queued delivery of the sending issues (or of issue `issue_number`).

    `dry_run` writes each message to outbox/<issue>/messages/ instead and leaves every
    delivery queued. `wait` keeps the run going until retries that come due are done.
    Raises StateError when another sender holds the SQLite lease or the issue is not queued,
    ConfigError for bad settings, DeliveryError when the server cannot be used at all (the
    deliveries not yet tried stay queued, uncharged).
    """
    import math

    from digest.config import MAX_SEND_RATE, MAX_SEND_WORKERS
    from digest.ids import parse_id

    workers = settings.send.workers if workers is None else workers
    if not 1 <= workers <= MAX_SEND_WORKERS:  # checked before any worker thread is made
        raise ConfigError(f"must be between 1 and {MAX_SEND_WORKERS}, got {workers}", key="--workers")
    rate = settings.send.rate if rate is None else rate
    if not (math.isfinite(rate) and 0 <= rate <= MAX_SEND_RATE):
        raise ConfigError(f"must be between 0 and {MAX_SEND_RATE:,.0f} messages per second, got {rate}",
                          key="--rate")
    if issue_number is not None:
        parse_id(issue_number, "issue")
    started = time.monotonic()
    sender, signer, dkim = envelope_sender(settings), make_signer(settings), make_dkim(settings)
    engine, own_engine = engine_for_workers(engine, workers, pgbouncer=settings.database.pgbouncer)
    run = SendRun(settings=settings, engine=engine, issue_number=issue_number, workers=workers, rate=rate,
                  dry_run=dry_run, wait=wait, transport_factory=transport_factory, progress=progress or _NoProgress(),
                  stop=stop or threading.Event(), bucket=bucket, started=started, sender=sender, signer=signer,
                  dkim=dkim)
    try:
        return _send(run, SendReport(dry_run=dry_run))
    finally:
        if own_engine:
            engine.dispose()


def _send(run: SendRun, report: SendReport) -> SendReport:
    settings = run.settings
    store = DeliveryStore(run.engine, lease=settings.send.lease, retries=settings.send.retries,
                          retry_delay=settings.send.retry_delay, bounce_after=settings.send.bounce_after,
                          issue_number=run.issue_number)
    leased, heartbeat = False, None
    try:
        issues, report.note = _issues(store, run.engine, run.issue_number)
        report.issues = [number for _id, number in issues]
        composers = {issue_id: Composer(settings=settings, parts=load_frozen(settings, number), signer=run.signer,
                                        dkim=run.dkim) for issue_id, number in issues}
        if run.dry_run:
            writer = EmlWriter(settings.outbox_dir)
            report.folders = [str(writer.folder(number)) for _id, number in issues]
            work_store: WorkStore = _DryRunStore(run.engine, store)
            factory = run.transport_factory or (lambda: writer)
        else:
            store.acquire_sender_lease()
            leased = True
            heartbeat = store.heartbeat()
            work_store = store
            factory = run.transport_factory or smtp_transport_factory(settings)
        state = store.queue_state()
        run.progress.start(state.due + state.held + (0 if run.dry_run else state.waiting))
        pool = _Pool(workers=run.workers, factory=factory, store=work_store, composers=composers,
                     bucket=run.bucket or TokenBucket(0 if run.dry_run else run.rate), sender=run.sender,
                     report=report, progress=run.progress, stop=run.stop, breaker=Breaker(settings.send.breaker))
        _drive(run, store, work_store, pool, issues, report)
        return report
    finally:
        if heartbeat is not None:
            heartbeat.stop()
        if leased:
            store.release_sender_lease()
        store.close()
        report.elapsed = time.monotonic() - run.started


def _batch(run: SendRun) -> int:
    """Deliveries per claim: `send.batch`, fewer when the rate is so low that a claim would
    outlive its lease."""
    batch = max(1, run.settings.send.batch)
    if run.rate > 0:
        batch = max(1, min(batch, int(run.rate * run.settings.send.lease / 2)))
    return batch


def _drive(run: SendRun, store: DeliveryStore, work_store: WorkStore, pool: _Pool, issues: list[tuple[int, int]],
           report: SendReport) -> None:
    """Send through `pool` until done or stopped, then settle the queue and fill in `report`;
    re-raises the pool's fatal error, if any, once the report is complete."""
    try:
        _run(store=store, work_store=work_store, pool=pool, issues=issues, batch=_batch(run),
             wait=run.wait and not run.dry_run, stop=run.stop)
        report.stopped = run.stop.is_set() and pool.fatal is None
    finally:
        run.stop.set()
        pool.shutdown()
        pool.abandon_held()
        if not run.dry_run:
            store.release(pool.returned)
            store.complete_issues()
            report.completed = list(store.completed)
    if not run.dry_run:
        state = store.queue_state()
        report.waiting, report.next_retry_at = state.waiting, state.next_retry_at
        report.standing = store.standing()
    if isinstance(pool.fatal, RelayError):
        report.relay = pool.fatal.message
        pool.fatal.report = report
    if pool.fatal is not None:
        raise pool.fatal


def _run(*, store: DeliveryStore, work_store: WorkStore, pool: _Pool, issues: list[tuple[int, int]], batch: int,
         wait: bool, stop: threading.Event) -> None:
    """Claim and hand out batches until nothing is left that this run may send.

    Between passes: go again at once while anything is due; otherwise, when waiting, look again
    every second while other senders hold claims (they settle them, give them back, or die and
    let them lapse: their deliveries are then ours to send), or sleep until a retry comes due.
    """
    while not stop.is_set():
        for issue_id, _number in issues:
            while not stop.is_set():
                jobs = work_store.claim(issue_id, batch)
                if not jobs:
                    break
                for index, job in enumerate(jobs):
                    if stop.is_set():
                        for unsent in jobs[index:]:
                            pool.give_back(unsent)
                        break
                    pool.submit(job)
        pool.wait_idle()
        if not stop.is_set():
            pool.end_of_pass()
        if stop.is_set() or work_store is not store:
            return
        store.complete_issues()
        state = store.queue_state()
        if not state.due:
            if not wait or not (state.held or state.waiting):
                return
            # another sender's claims end in a moment (it settles them) or at their lease's end (it died)
            stop.wait(min(state.held_for + 0.05, 1.0) if state.held else min(state.retry_in, store.claims.interval, 30.0))
        store.new_pass()
