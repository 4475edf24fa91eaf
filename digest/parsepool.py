"""Parse workers: feed bodies -> entries in worker processes, so parsing uses every core.

Parsing (feedparser) is the CPU floor of a poll; `ParsePool` spreads it over processes forked
once at the start of a poll. `_parse_job` is what a worker runs: it never raises, so one
feed's parser trouble stays that feed's.
"""

from __future__ import annotations

import asyncio
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from digest.feeds import ParsedFeed


def _parse_job(body: bytes, url: str, content_type: str | None, category: str | None,
               vendor: str | None, kind: str = "mixed") -> ParsedFeed:
    """Runs in a worker: never raises, so one feed's parser trouble stays that feed's."""
    from digest.errors import FeedError
    from digest.feeds import ParsedFeed, parse_feed

    try:
        return parse_feed(body, url=url, content_type=content_type, category_hint=category,
                          vendor_hint=vendor, kind=kind)
    except FeedError as exc:
        return ParsedFeed(error=exc.message)
    except Exception as exc:  # noqa: BLE001 - a parser bug on one hostile document
        return ParsedFeed(error=f"the parser failed: {type(exc).__name__}: {exc}"[:300])


class ParsePool:
    """Parsing in `workers` processes, or inline when `workers` is 1 or processes cannot be had.

    On Linux the workers are forked when the pool is created, which `poll` does before its
    event loop or any thread starts (so nothing is forked mid-flight), from a process that
    has not yet imported the fetcher: a fork costs milliseconds and each worker imports the
    parser itself on its first job, so a poll of unchanged feeds barely pays for them. Fork
    never re-runs the caller's main module, unlike spawn and forkserver. If a worker dies,
    the rest of the poll parses inline.
    """

    def __init__(self, workers: int, *, preload: bool = False) -> None:
        self.workers = workers if workers > 1 and _can_fork() else 1
        self.executor: Any = None
        self.broken = False
        if self.workers > 1:
            if preload:  # bodies are coming: import the parser once, before forking, not per worker
                import digest.feeds
                import feedparser.api  # noqa: F401
                import nh3  # noqa: F401

                digest.feeds.install_driver()
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            self.executor = ProcessPoolExecutor(max_workers=self.workers,
                                                mp_context=multiprocessing.get_context("fork"))
            self.executor.submit(os.getpid)  # forks every worker now, while single-threaded

    async def parse(self, body: bytes, url: str, content_type: str | None, category: str | None,
                    vendor: str | None, kind: str = "mixed") -> ParsedFeed:
        if self.executor is not None and not self.broken:
            from concurrent.futures.process import BrokenProcessPool

            loop = asyncio.get_running_loop()
            try:
                return await loop.run_in_executor(self.executor, _parse_job, body, url, content_type,
                                                  category, vendor, kind)
            except BrokenProcessPool:
                self.broken = True
        return _parse_job(body, url, content_type, category, vendor, kind)

    def close(self) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=not self.broken, cancel_futures=True)
            self.executor = None


def _can_fork() -> bool:
    import sys

    return sys.platform.startswith("linux") and hasattr(os, "fork")


def parse_workers(setting: int, feeds: int) -> int:
    """Worker processes for a poll of `feeds` feeds: the setting, or (0) one per CPU when
    there are enough feeds to pay for starting them."""
    if setting:
        return setting
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    return min(cpus, 8) if feeds >= 8 and cpus > 1 else 1
