"""Parse workers: feed bodies -> entries in worker processes, bounded in time and memory.

Parsing (feedparser) is the CPU floor of a poll, and the one step where a body within the
size cap can still cost without bound: feedparser's loose parser is superlinear on some
documents (a 3 MB title of unclosed tags takes ~50 s and ~450 MB). So every body is parsed
in a worker process of a pebble `ProcessPool`, never in the poller:

* a parse has a deadline, `[poll] parse_timeout`: past it pebble stops that worker (SIGTERM,
  SIGKILL 3 s later) and starts a fresh one; the feed fails with "parsing took longer than";
* a worker caps its own address space at what it had when it started plus `[poll]
  parse_memory` MB (`setrlimit(RLIMIT_AS)`): a parse needing more fails with MemoryError or,
  in C code that cannot raise, ends the worker; either way only that feed fails;
* `_parse_job` never raises, so a parser's exception stays that feed's.

Why pebble and not concurrent.futures: a ProcessPoolExecutor cannot stop a running task (a
stuck parse keeps its worker for good) and one dead worker breaks the whole pool; pebble kills
a task's worker at its deadline and replaces dead workers, task by task.

Workers are forked on Linux: a fork costs milliseconds and never re-runs the caller's main
module, unlike spawn and forkserver. When most feeds will need parsing (`preload`), the parser
is imported and the workers forked before the event loop or any thread starts, so they inherit
the parser instead of each importing it, and not the fetcher; otherwise they start with the
first body to parse, so a poll of unchanged feeds starts none. pebble replaces a worker it
stopped from its own thread.
"""

from __future__ import annotations

import asyncio
import os
import signal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from digest.feeds import ParsedFeed

MB = 1024 * 1024
_OUT_OF_MEMORY = "out of memory"  # what a worker says; the pool words it with its limit


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
    except MemoryError:
        return ParsedFeed(error=_OUT_OF_MEMORY)
    except Exception as exc:  # noqa: BLE001 - a parser bug on one hostile document
        return ParsedFeed(error=f"the parser failed: {type(exc).__name__}: {exc}"[:300])


def limit_address_space(extra: int) -> None:
    """Cap this process's address space at its current size plus `extra` bytes (Linux only;
    elsewhere, or if the current size cannot be read, nothing changes). Never raises: a worker
    whose initializer failed would be replaced without end."""
    try:
        import resource

        with open("/proc/self/statm", encoding="ascii") as handle:
            size = int(handle.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        cap = size + extra
        if hard != resource.RLIM_INFINITY:
            cap = min(cap, hard)
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    except (OSError, ValueError, ImportError):
        pass


class ParsePool:
    """Parsing in up to `workers` processes, each parse bounded by `timeout` seconds and each
    worker by `memory_mb` MB of address space more than it started with."""

    def __init__(self, workers: int, *, timeout: float, memory_mb: int, preload: bool = False) -> None:
        self.workers = max(1, workers)
        self.timeout = timeout
        self.memory_mb = memory_mb
        self._pool: Any = None
        if preload:  # bodies are coming: import the parser once, before forking, not per worker
            import digest.feeds
            import feedparser.api  # noqa: F401
            import nh3  # noqa: F401

            digest.feeds.install_driver()
            self._pool = self._start()
            self._pool.schedule(os.getpid)  # forks every worker now, while single-threaded and small

    def _start(self) -> Any:
        import multiprocessing

        from pebble import ProcessPool

        context = multiprocessing.get_context("fork") if _can_fork() else multiprocessing.get_context()
        return ProcessPool(max_workers=self.workers, initializer=limit_address_space,
                           initargs=(self.memory_mb * MB,), context=context)

    def _schedule(self, args: tuple) -> Any:
        if self._pool is None:
            self._pool = self._start()
        try:
            return self._pool.schedule(_parse_job, args=args, timeout=self.timeout)
        except RuntimeError:  # the pool broke (a worker died while idle): one new pool
            self._stop()
            self._pool = self._start()
            return self._pool.schedule(_parse_job, args=args, timeout=self.timeout)

    async def parse(self, body: bytes, url: str, content_type: str | None, category: str | None,
                    vendor: str | None, kind: str = "mixed") -> ParsedFeed:
        """The feed's entries, or a ParsedFeed whose `error` says why there are none; never raises
        for the body's sake."""
        from concurrent.futures.process import BrokenProcessPool

        from pebble import ProcessExpired

        from digest.feeds import ParsedFeed

        try:
            parsed = await asyncio.wrap_future(self._schedule((body, url, content_type, category, vendor, kind)))
        except TimeoutError:
            return ParsedFeed(error=f"parsing took longer than {self.timeout:g}s (poll.parse_timeout); "
                                    "the parser was stopped")
        except ProcessExpired as exc:
            return ParsedFeed(error=f"the parser process ended abnormally ({_exit_reason(exc.exitcode)}), "
                                    f"as a parse does when it needs more than {self.memory_mb} MB (poll.parse_memory)")
        except (BrokenProcessPool, RuntimeError, OSError) as exc:
            return ParsedFeed(error=f"no parser process could be started: {exc}"[:300])
        if parsed.error == _OUT_OF_MEMORY:
            parsed.error = f"parsing needed more than {self.memory_mb} MB of memory (poll.parse_memory)"
        return parsed

    def close(self) -> None:
        """Stop every worker (a parse still running is abandoned) and wait for them to exit."""
        self._stop()

    def _stop(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            pool.stop()
            pool.join()


def _exit_reason(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit status {code}"


def _can_fork() -> bool:
    import sys

    return sys.platform.startswith("linux") and hasattr(os, "fork")


def parse_workers(setting: int, feeds: int) -> int:
    """Worker processes for a poll of `feeds` feeds: the setting, or (0) one per CPU when
    there are enough feeds to pay for starting them, else one."""
    if setting:
        return setting
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    return min(cpus, 8) if feeds >= 8 and cpus > 1 else 1
