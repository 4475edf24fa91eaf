"""Parse workers: the same entries as parsing inline, and a dead worker never loses a feed."""

from __future__ import annotations

import asyncio
import os
from concurrent.futures.process import BrokenProcessPool

from feedserver import item, rss

from digest.feeds import parse_feed
from digest.parsepool import ParsePool, parse_workers

BODY = rss(item("Pooled – parsed in a worker", "https://pooled.example/", "p1", "Text.", ("agents",)))


def test_workers_parse_exactly_what_inline_parsing_gives() -> None:
    pool = ParsePool(2)
    try:
        parsed = asyncio.run(pool.parse(BODY, "", None, "hint", "Vendor"))
    finally:
        pool.close()
    assert parsed == parse_feed(BODY, category_hint="hint", vendor_hint="Vendor")
    assert parsed.entries[0].name == "Pooled"


def test_a_dead_worker_makes_the_rest_parse_inline() -> None:
    pool = ParsePool(2)
    try:
        death = pool.executor.submit(os._exit, 1)  # a worker dies (the OOM killer, a crash in C code)
        assert isinstance(death.exception(timeout=30), BrokenProcessPool)

        async def parse_twice():
            return [await pool.parse(BODY, "", None, None, None) for _ in range(2)]

        results = asyncio.run(parse_twice())
    finally:
        pool.close()
    assert pool.broken
    assert [r.entries[0].name for r in results] == ["Pooled", "Pooled"]


def test_a_parser_failure_is_the_feeds_error_not_the_polls() -> None:
    pool = ParsePool(1)
    parsed = asyncio.run(pool.parse(b"<html>not a feed</html>", "", None, None, None))
    assert parsed.error.startswith("not a feed")


def test_worker_count() -> None:
    assert parse_workers(3, 1) == 3
    assert parse_workers(0, 2) == 1  # too few feeds to pay for processes
    cpus = len(os.sched_getaffinity(0))
    assert parse_workers(0, 200) == (min(cpus, 8) if cpus > 1 else 1)
