"""Parse workers: the same entries as parsing inline; a parse that runs too long, needs too
much memory or loses its worker costs only its own feed, and the pool goes on."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal

import pytest
from feedserver import item, rss

from digest.feeds import parse_feed
from digest.parsepool import ParsePool, parse_workers

pytestmark = pytest.mark.backend_independent  # parsing only, no database: the SQLite pass runs it

BODY = rss(item("Pooled – parsed in a worker", "https://pooled.example/", "p1", "Text.", ("agents",)))
# Real bodies that cost without bound inside the size cap: feedparser's loose parser takes about
# a minute and ~450 MB on a title of a million unclosed tags; a description of 1.2 million escaped
# paragraphs (14 MB) passes through several copies on its way to text.
NESTED = rss(item("<b>" * 1_000_000 + "Nested", "https://nested.example/", "n1"))
PARAGRAPHS = rss(item("Paragraphs - many", "https://paragraphs.example/", "p1", "&lt;p&gt;xx " * 1_200_000))


def parse_all(pool: ParsePool, *bodies: bytes):
    async def run():
        return await asyncio.gather(*(pool.parse(body, "", None, None, None) for body in bodies))

    try:
        return asyncio.run(run())
    finally:
        pool.close()


def test_workers_parse_exactly_what_inline_parsing_gives() -> None:
    pool = ParsePool(2, timeout=60, memory_mb=512)
    try:
        parsed = asyncio.run(pool.parse(BODY, "", None, "hint", "Vendor"))
    finally:
        pool.close()
    assert parsed == parse_feed(BODY, category_hint="hint", vendor_hint="Vendor")
    assert parsed.entries[0].name == "Pooled"


def test_a_parse_past_its_deadline_is_stopped_and_the_next_feed_parses() -> None:
    stuck, after = parse_all(ParsePool(1, timeout=1, memory_mb=512), NESTED, BODY)
    assert stuck.error == "parsing took longer than 1s (poll.parse_timeout); the parser was stopped"
    assert stuck.entries == []
    assert after.error is None and after.entries[0].name == "Pooled"  # in a fresh worker


def test_a_parse_needing_more_memory_than_allowed_fails_alone() -> None:
    hungry, after = parse_all(ParsePool(1, timeout=120, memory_mb=32), PARAGRAPHS, BODY)
    assert hungry.error is not None and "32 MB" in hungry.error and "poll.parse_memory" in hungry.error
    assert after.error is None and after.entries[0].name == "Pooled"


def test_a_worker_killed_mid_parse_costs_only_its_feed() -> None:
    pool = ParsePool(1, timeout=120, memory_mb=512)

    async def run():
        slow = asyncio.ensure_future(pool.parse(NESTED, "", None, None, None))
        for _ in range(200):  # bounded: the worker exists within moments
            workers = [p for p in multiprocessing.active_children() if p.name == "pebble_pool_worker"]
            if workers:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)  # it has the task
        os.kill(workers[0].pid, signal.SIGKILL)  # the OOM killer, a crash in C code
        return await slow, await pool.parse(BODY, "", None, None, None)

    try:
        killed, after = asyncio.run(run())
    finally:
        pool.close()
    assert killed.error.startswith("the parser process ended abnormally (killed by SIGKILL)")
    assert after.entries[0].name == "Pooled"


def test_a_parser_failure_is_the_feeds_error_not_the_polls() -> None:
    [parsed] = parse_all(ParsePool(1, timeout=60, memory_mb=512), b"<html>not a feed</html>")
    assert parsed.error.startswith("not a feed")


def test_a_poll_with_nothing_to_parse_starts_no_worker() -> None:
    pool = ParsePool(2, timeout=60, memory_mb=512)
    pool.close()
    assert not [p for p in multiprocessing.active_children() if p.name == "pebble_pool_worker"]


def test_worker_count() -> None:
    assert parse_workers(3, 1) == 3
    assert parse_workers(0, 2) == 1  # too few feeds to pay for several processes
    cpus = len(os.sched_getaffinity(0))
    assert parse_workers(0, 200) == (min(cpus, 8) if cpus > 1 else 1)
