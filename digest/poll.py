"""Poll: feeds.toml -> fetch (conditional GET) -> parse -> normalise -> dedupe -> tools.

`poll()` is the library entry point behind `digest poll`. It first syncs feeds.toml into Feed
rows (new feeds are added, a changed URL resets the feed's state; feeds no longer in the file
are simply not polled), then fetches the chosen feeds concurrently, parses the bodies in
worker processes (parsing is the CPU floor of a poll) and stores each feed's tools and state
in one short transaction as soon as that feed is done.

What a caller can rely on:
* Raises only when the poll cannot run at all: ConfigError (feeds.toml), NotFoundError (an
  unknown --feed name), DatabaseError. A feed's own failure is recorded on its Feed row
  (last_status, error_count, last_error, next_poll_at with exponential backoff, at least as
  long as Retry-After asks) and in the report, never raised.
* A 301/308 chain updates the stored URL, a 302/307 does not; 410 Gone disables the feed.
* Stored rows are never removed by a poll; a failure leaves every earlier row as it was.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from digest.data import feeds as data
from digest.data.engine import Database
from digest.data.feeds import FeedState
from digest.errors import NotFoundError
from digest.parsepool import ParsePool, parse_workers
from digest.wording import count

if TYPE_CHECKING:
    from digest.config import FeedConfig, Settings
    from digest.feeds import ParsedFeed
    from digest.fetch import FetchResult

BACKOFF_BASE = 300.0  # seconds before the first retry of a failing feed; doubles each failure
RETRY_AFTER_MAX = 7 * 86400.0

CHANGED, UNCHANGED, FAILED, SKIPPED = "changed", "unchanged", "failed", "skipped"


def utcnow() -> datetime:
    """Aware UTC now (digest.models has the same, but importing it loads SQLModel)."""
    return datetime.now(UTC)


@dataclass
class FeedOutcome:
    """What happened to one feed in one poll."""

    name: str
    url: str
    result: str = SKIPPED  # changed | unchanged | failed | skipped
    status: int | None = None  # HTTP status of the final response
    entries: int = 0
    new_tools: list[str] = field(default_factory=list)  # slugs
    updated_tools: int = 0
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    moved_to: str | None = None  # new stored URL after a permanent redirect
    disabled: bool = False
    next_poll_at: datetime | None = None
    seconds: float = 0.0


@dataclass
class PollReport:
    started_at: datetime
    finished_at: datetime | None = None
    feeds: list[FeedOutcome] = field(default_factory=list)
    enrichment: str | None = None  # the landing-page step's summary, when `[poll] enrich` is on

    def count(self, result: str) -> int:
        return sum(1 for feed in self.feeds if feed.result == result)

    @property
    def polled(self) -> int:
        return sum(1 for feed in self.feeds if feed.result != SKIPPED)

    @property
    def new_tools(self) -> int:
        return sum(len(feed.new_tools) for feed in self.feeds)

    @property
    def updated_tools(self) -> int:
        return sum(feed.updated_tools for feed in self.feeds)

    def summary(self) -> str:
        """`N feeds, M new tools, K unchanged, E failed`, plus what else happened."""
        line = (f"{count(self.polled, 'feed')}, {count(self.new_tools, 'new tool')}, {self.count(UNCHANGED)} unchanged, "
                f"{self.count(FAILED)} failed")
        extra = []
        if self.updated_tools:
            extra.append(f"{count(self.updated_tools, 'tool')} updated")
        if self.count(SKIPPED):
            extra.append(f"{self.count(SKIPPED)} skipped")
        line += f" ({', '.join(extra)})" if extra else ""
        return line + (f"; {self.enrichment}" if self.enrichment else "")

    def to_dict(self) -> dict[str, Any]:
        return {
            "feeds_polled": self.polled, "new_tools": self.new_tools,
            "updated_tools": self.updated_tools, "unchanged": self.count(UNCHANGED),
            "changed": self.count(CHANGED), "failed": self.count(FAILED),
            "skipped": self.count(SKIPPED), "started_at": self.started_at,
            "finished_at": self.finished_at, "summary": self.summary(), "enrichment": self.enrichment,
            "feeds": [asdict(feed) for feed in self.feeds],
        }


# --- feeds.toml <-> Feed rows -----------------------------------------------------------------

def sync_feeds(db: Database, configs: Sequence[FeedConfig], *, now: datetime) -> dict[str, FeedState]:
    """Feed rows for every configured feed, created or reset as feeds.toml says; by name."""
    with db.transaction(write=True):
        states = data.feed_states(db)
        for config in configs:
            state = states.get(config.name)
            if state is None:
                data.add_feed(db, name=config.name, url=config.url, category=config.category, now=now)
            elif state.configured_url != config.url:
                data.repoint_feed(db, state.id, url=config.url, category=config.category)
            elif state.category != config.category:
                data.set_feed_category(db, state.id, config.category)
        return data.feed_states(db)


def _skip_reason(feed: FeedState, *, now: datetime, force: bool, due_only: bool) -> str | None:
    if force:
        return None
    if feed.disabled:
        return f"disabled: {feed.disabled_reason or 'by an earlier poll'} (use --force to try again)"
    next_poll = feed.next_poll_at
    if feed.error_count and next_poll and next_poll > now:
        return f"backing off after {feed.error_count} failures until {next_poll:%Y-%m-%d %H:%M} UTC"
    if due_only and next_poll and next_poll > now:
        return f"not due until {next_poll:%Y-%m-%d %H:%M} UTC"
    return None


# --- recording a feed's outcome -----------------------------------------------------------

def backoff_seconds(error_count: int, *, max_backoff: float, retry_after: float | None) -> float:
    """Exponential backoff (5 min, 10 min, 20 min, ... up to max_backoff), never shorter than
    what the server's Retry-After asked for."""
    delay = min(max_backoff, BACKOFF_BASE * 2 ** max(0, error_count - 1))
    if retry_after:
        delay = max(delay, min(retry_after, RETRY_AFTER_MAX))
    return delay


def record_failure(db: Database, feed: FeedState, outcome: FeedOutcome, fetched: FetchResult | None, *,
                   now: datetime, max_backoff: float) -> None:
    feed.error_count += 1
    retry_after = fetched.retry_after if fetched else None
    outcome.next_poll_at = feed.next_poll_at = now + timedelta(
        seconds=backoff_seconds(feed.error_count, max_backoff=max_backoff, retry_after=retry_after))
    gone = fetched is not None and fetched.status == 410
    outcome.disabled = gone
    feed.last_error = outcome.error
    if gone:
        feed.disabled, feed.disabled_reason = True, f"HTTP 410 Gone at {now:%Y-%m-%d %H:%M} UTC"
    data.record_feed_failure(db, feed, status=outcome.status, now=now)


def record_success(db: Database, feed: FeedState, outcome: FeedOutcome, fetched: FetchResult, *,
                   now: datetime, interval: float) -> None:
    outcome.next_poll_at = feed.next_poll_at = now + timedelta(seconds=interval)
    url = fetched.final_url if fetched.permanent_redirect and fetched.final_url else feed.url
    if url != feed.url:
        outcome.moved_to = feed.url = url
    validators = None
    if not fetched.not_modified:
        validators = (fetched.etag, (fetched.last_modified or "")[:100] or None)
        feed.etag, feed.last_modified = validators
    data.record_feed_success(db, feed, status=fetched.status, now=now, validators=validators)


# --- the poll -------------------------------------------------------------------------------

ProgressCallback = Callable[[FeedOutcome, int, int], None]


def poll(settings: Settings, *, feed_names: Sequence[str] = (), force: bool = False,
         due_only: bool = False, progress: ProgressCallback | None = None,
         transport: Any = None, db: Database | None = None) -> PollReport:
    """Poll the feeds of feeds.toml (or those named) and store what they announce.

    `force` polls disabled and backing-off feeds too; `due_only` skips feeds whose interval
    has not elapsed (what the scheduler wants). `transport` is an httpx transport seam.
    """
    from digest.config import load_feeds
    from digest.data.engine import connect

    configs = load_feeds(settings.home)
    by_name = {config.name: config for config in configs}
    unknown = [name for name in feed_names if name not in by_name]
    if unknown:
        known = ", ".join(sorted(by_name)) or "none"
        raise NotFoundError(f"no feed named {unknown[0]!r} in feeds.toml", hint=f"feeds: {known}")
    chosen = [by_name[name] for name in dict.fromkeys(feed_names)] if feed_names else configs
    own_db = db is None
    db = connect(settings) if db is None else db
    try:
        now = utcnow()
        report = PollReport(started_at=now)
        feeds = sync_feeds(db, configs, now=now)
        to_fetch: list[FeedConfig] = []
        for config in chosen:
            feed = feeds[config.name]
            reason = _skip_reason(feed, now=now, force=force, due_only=due_only)
            if reason:
                report.feeds.append(FeedOutcome(name=config.name, url=feed.url, error=reason,
                                                disabled=feed.disabled, next_poll_at=feed.next_poll_at))
            else:
                to_fetch.append(config)
        if to_fetch:
            # feeds without validators (new ones, or servers that send none) will need parsing
            fresh = sum(1 for c in to_fetch if not (feeds[c.name].etag or feeds[c.name].last_modified))
            pool = ParsePool(parse_workers(settings.poll.workers, len(to_fetch)), timeout=settings.poll.parse_timeout,
                             memory_mb=settings.poll.parse_memory, preload=fresh >= len(to_fetch) / 2)
            try:
                asyncio.run(_run(settings, db, to_fetch, feeds, report, pool, progress=progress,
                                 transport=transport))
            finally:
                pool.close()
        if settings.poll.enrich:
            # after the feeds are stored, bounded by enrich_seconds: it never holds a poll up
            from digest.enrich import enrich_tools

            report.enrichment = enrich_tools(settings, db, limit=settings.poll.enrich_limit,
                                             transport=transport).summary()
        report.finished_at = utcnow()
        order = {config.name: index for index, config in enumerate(configs)}
        report.feeds.sort(key=lambda feed: order.get(feed.name, 0))
        return report
    finally:
        if own_db:
            db.close()


_BATCH = 64  # most feeds written in one transaction
_GATHER = 0.05  # seconds the writer waits for more finished feeds before it commits


async def _run(settings: Settings, db: Database, configs: list[FeedConfig], feeds: dict[str, FeedState],
               report: PollReport, pool: ParsePool, *, progress: ProgressCallback | None,
               transport: Any) -> None:
    """Fetch and parse concurrently; one writer stores finished feeds, several per transaction
    when they finish together (group commit), so the database never holds up the network."""
    from digest.errors import DigestError
    from digest.fetch import FetchRequest, fetch_all

    options = settings.poll
    by_name = {config.name: config for config in configs}
    finished: asyncio.Queue = asyncio.Queue()

    async def on_result(fetched: FetchResult) -> None:
        config = by_name[fetched.name]
        parsed = None
        if fetched.ok and not fetched.not_modified:
            parsed = await pool.parse(fetched.body, fetched.final_url or feeds[config.name].url,
                                      fetched.content_type, config.category, config.vendor, config.kind)
        finished.put_nowait((config, fetched, parsed))

    async def writer() -> None:
        while True:
            batch = await _next_batch(finished)
            # a fixed order of feed rows within every transaction keeps concurrent polls from
            # locking them in opposite orders
            items = sorted((item for item in batch if item is not None), key=lambda i: i[0].name)
            if items:
                for outcome in _store_batch(settings, db, items, feeds, seen_at=report.started_at):
                    report.feeds.append(outcome)
                    if progress is not None:
                        progress(outcome, report.polled, len(configs))
            if None in batch:
                return

    async def fetch() -> None:
        requests = [FetchRequest(name=c.name, url=feeds[c.name].url, etag=feeds[c.name].etag,
                                 last_modified=feeds[c.name].last_modified) for c in configs]
        try:
            await fetch_all(requests, concurrency=options.concurrency, per_host=options.per_host,
                            timeout=options.timeout, max_bytes=options.max_bytes,
                            user_agent=options.user_agent, on_result=on_result, transport=transport)
        finally:
            finished.put_nowait(None)

    try:
        async with asyncio.TaskGroup() as group:
            group.create_task(writer())
            group.create_task(fetch())
    except BaseExceptionGroup as failed:  # the database failed: report that, not a group
        first = failed.exceptions[0]
        while isinstance(first, BaseExceptionGroup):
            first = first.exceptions[0]
        if isinstance(first, (DigestError, KeyboardInterrupt)):
            raise first from None
        raise


async def _next_batch(finished: asyncio.Queue) -> list:
    """The next finished feed, and what finishes in the moment after it: one commit for several
    feeds. A None (fetching is over) ends the batch."""
    loop = asyncio.get_running_loop()
    batch = [await finished.get()]
    deadline = loop.time() + _GATHER
    while len(batch) < _BATCH and batch[-1] is not None and (left := deadline - loop.time()) > 0:
        try:
            batch.append(await asyncio.wait_for(finished.get(), left))
        except TimeoutError:
            break
    return batch


def _store_batch(settings: Settings, db: Database, items: list, feeds: dict[str, FeedState], *,
                 seen_at: datetime) -> list[FeedOutcome]:
    """Store finished feeds in one transaction; run again if the server picked it as a
    deadlock victim (PostgreSQL, with another poll writing the same feeds and tools)."""
    from digest.data.engine import Retry

    before = {config.name: feeds[config.name] for config, _, _ in items}
    attempt = 1
    while True:
        # every attempt starts from the state before the batch: a rolled-back one noted nothing
        feeds.update({name: state.copy() for name, state in before.items()})
        try:
            with db.transaction(write=True):
                return [_store(settings, db, config, feeds[config.name], fetched, parsed, seen_at=seen_at)
                        for config, fetched, parsed in items]
        except Retry:
            if attempt == 3:
                raise
            attempt += 1


def _store(settings: Settings, db: Database, config: FeedConfig, feed: FeedState,
           fetched: FetchResult, parsed: ParsedFeed | None, *, seen_at: datetime) -> FeedOutcome:
    """Record one feed's fetch and store its tools; inside the writer's transaction."""
    from digest.dedupe import store_entries

    outcome = FeedOutcome(name=config.name, url=feed.url, status=fetched.status,
                          seconds=round(fetched.elapsed, 3))
    now = utcnow()
    if not fetched.ok or (parsed is not None and parsed.error):
        outcome.result = FAILED
        outcome.error = fetched.error or (parsed.error if parsed else None) or f"HTTP {fetched.status}"
        record_failure(db, feed, outcome, fetched, now=now, max_backoff=settings.poll.max_backoff)
        return outcome
    if parsed is not None:
        outcome.warnings = list(parsed.warnings)
        outcome.entries = len(parsed.entries)
        stored = store_entries(db, feed_id=feed.id, feed_name=config.name, entries=parsed.entries,
                               seen_at=seen_at, trusted=not parsed.ill_formed)
        outcome.updated_tools = len(stored.updated)
        if stored.new:
            outcome.new_tools = stored.new_slugs
    outcome.result = CHANGED if outcome.new_tools or outcome.updated_tools else UNCHANGED
    record_success(db, feed, outcome, fetched, now=now, interval=config.interval or settings.poll.interval)
    return outcome
