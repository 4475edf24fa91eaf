"""Hostile feeds: a body is data, never a path, a device or a URL, and every feed's poll is
bounded in time and memory whatever its body.

Each poll here is a whole `digest poll` process (tests/bounded_poll.py) under an address-space
limit, against a real HTTP server on 127.0.0.1, with an honest feed polled alongside the
hostile one. After each: the honest feed's tools are stored, no byte of this machine's disk
is stored or shown, and the poller and its parse workers stayed small.
"""

from __future__ import annotations

import gzip
import json
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from feedserver import FeedServer, item, rss
from test_poll import LINTERN, write_feeds

from digest.config import load_settings
from digest.data.engine import connect

HERE = Path(__file__).resolve().parent
LIMIT_MB = 2048  # the address space a test poll may map; old code hit it reading /dev/zero
RSS_BOUND_MB = 300  # peak resident memory of the poller, and of any parse worker
TIMEOUT = 60  # seconds; old code never finished a poll of a FIFO

HONEST = item("Honestly – an AI that answers your email", "https://honestly.example/", "honest-1")
SMUGGLED = rss(item("Smugglr – read from the poller's own disk", "https://smugglr.example/", "smuggled-1"))


def poll_bounded(home: Path, tmp_path: Path) -> tuple[dict, dict, str]:
    """(the --json report, the cost report, stderr) of one bounded `digest poll` process."""
    cost = tmp_path / "cost.json"
    done = subprocess.run([sys.executable, str(HERE / "bounded_poll.py"), str(home), str(LIMIT_MB), str(cost)],
                          capture_output=True, text=True, timeout=TIMEOUT, cwd=tmp_path)
    assert "Traceback" not in done.stderr, done.stderr
    return json.loads(done.stdout), json.loads(cost.read_text(encoding="utf-8")), done.stdout + done.stderr


def stored_text(home: Path) -> str:
    """Every value of every row a poll writes (feeds, tools, their keys), as one string."""
    with connect(load_settings(home)) as db:
        return "\n".join(str(row) for table in ("feed", "tool", "toolkey")
                         for row in db.query(f"SELECT * FROM {table}"))


def _local_paths(tmp_path: Path) -> dict[str, str]:
    on_disk = tmp_path / "server-side-feed.xml"
    on_disk.write_bytes(SMUGGLED)
    fifo = tmp_path / "a-fifo"
    os.mkfifo(fifo)
    huge = tmp_path / "huge.bin"
    with huge.open("wb") as handle:
        handle.truncate(3 * 1024**3)  # sparse: 3 GB of zeros that take no disk
    return {"local-feed": str(on_disk), "passwd": "/etc/passwd", "dev-zero": "/dev/zero",
            "fifo": str(fifo), "huge-file": str(huge)}


@pytest.mark.parametrize("kind", ["local-feed", "passwd", "dev-zero", "fifo", "huge-file"])
def test_a_body_naming_a_local_path_is_only_text(kind: str, home: Path, tmp_path: Path,
                                                 feed_server: FeedServer) -> None:
    path = _local_paths(tmp_path)[kind]
    write_feeds(home, {
        "honest": feed_server.route("/honest.xml", body=rss(HONEST)),
        "hostile": feed_server.route("/hostile.xml", body=path.encode()),
        # the same kind of body naming nothing: what a body that is only text gives
        "control": feed_server.route("/control.xml", body=b"/nonexistent" + path.encode()),
    })
    report, cost, output = poll_bounded(home, tmp_path)
    outcomes = {feed["name"]: feed for feed in report["feeds"]}
    assert outcomes["honest"]["new_tools"] == ["honestly"]
    assert outcomes["hostile"]["result"] == "failed"
    assert outcomes["hostile"]["error"] == outcomes["control"]["error"]  # the disk made no difference
    assert outcomes["hostile"]["error"].startswith("not a feed")
    stored = stored_text(home)
    for secret in ("Smugglr", "smugglr", "root:", "/bin/"):
        assert secret not in stored and secret not in output
    assert cost["poller_mb"] < RSS_BOUND_MB and cost["workers_mb"] < RSS_BOUND_MB, cost


def gzip_of_zeros(megabytes: int) -> bytes:
    """A valid gzip stream of `megabytes` MB of zeros, built in a second: one compressed MB
    repeated (a full flush makes every MB compress alike), with the right CRC and size."""
    block = bytes(1 << 20)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    first = deflate.compress(block) + deflate.flush(zlib.Z_FULL_FLUSH)
    again = deflate.compress(block) + deflate.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(megabytes):
        crc = zlib.crc32(block, crc)
    return (b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + first + again * (megabytes - 1) + deflate.flush()
            + struct.pack("<II", crc, (megabytes << 20) & 0xFFFFFFFF))


def _with_poll_settings(home: Path, **settings: str) -> None:
    with (home / "digest.toml").open("a", encoding="utf-8") as handle:
        handle.write("\n[poll]\n" + "".join(f"{key} = {value}\n" for key, value in settings.items()))


@pytest.mark.parametrize("encoding", ["gzip", "gzip, gzip"])
def test_a_compression_bomb_is_stopped_at_the_cap(encoding: str, home: Path, tmp_path: Path,
                                                  feed_server: FeedServer) -> None:
    """2.5 KB on the wire that inflate to 1 GB (or, nested, 1 GB once and then some): the
    body is refused at `max_bytes` without ever being inflated past it."""
    inner = gzip_of_zeros(1024)
    body = inner if encoding == "gzip" else gzip.compress(inner, 9)
    write_feeds(home, {
        "honest": feed_server.route("/honest.xml", body=rss(HONEST)),
        "bomb": feed_server.route("/bomb.xml", body=body, headers={"Content-Encoding": encoding}),
    })
    report, cost, _ = poll_bounded(home, tmp_path)
    outcomes = {feed["name"]: feed for feed in report["feeds"]}
    assert outcomes["honest"]["new_tools"] == ["honestly"]
    expected = ("body larger than 5000000 bytes once decompressed" if encoding == "gzip"
                else "unsupported Content-Encoding 'gzip, gzip'")
    assert outcomes["bomb"]["result"] == "failed" and outcomes["bomb"]["error"] == expected
    assert cost["poller_mb"] < RSS_BOUND_MB and cost["workers_mb"] < RSS_BOUND_MB, cost


def test_a_body_that_parses_without_end_is_stopped_and_the_others_are_stored(
        home: Path, tmp_path: Path, feed_server: FeedServer) -> None:
    """A 3 MB title of unclosed tags: feedparser needs about a minute and 450 MB for it."""
    _with_poll_settings(home, parse_timeout='"2s"')
    write_feeds(home, {
        "honest": feed_server.route("/honest.xml", body=rss(HONEST)),
        "nested": feed_server.route("/nested.xml", body=rss(item("<b>" * 1_000_000 + "Nested", "https://n.example/"))),
        "lintern": feed_server.route("/lintern.xml", body=rss(LINTERN)),
    })
    report, cost, output = poll_bounded(home, tmp_path)
    outcomes = {feed["name"]: feed for feed in report["feeds"]}
    assert outcomes["honest"]["new_tools"] == ["honestly"] and outcomes["lintern"]["new_tools"] == ["lintern"]
    assert outcomes["nested"]["error"] == "parsing took longer than 2s (poll.parse_timeout); the parser was stopped"
    assert outcomes["nested"]["next_poll_at"]  # backs off like any failing feed
    assert cost["poller_mb"] < RSS_BOUND_MB and cost["workers_mb"] < RSS_BOUND_MB, cost


def test_a_body_that_needs_too_much_memory_fails_alone(home: Path, tmp_path: Path, feed_server: FeedServer) -> None:
    """14 MB of escaped paragraphs, within a 20 MB size cap, against a 32 MB parse allowance."""
    _with_poll_settings(home, parse_memory="32", max_bytes="20_000_000")
    write_feeds(home, {
        "honest": feed_server.route("/honest.xml", body=rss(HONEST)),
        "hungry": feed_server.route("/hungry.xml", body=rss(item("Hungry - paragraphs", "https://h.example/", "h",
                                                                 "&lt;p&gt;xx " * 1_200_000))),
    })
    report, cost, _ = poll_bounded(home, tmp_path)
    outcomes = {feed["name"]: feed for feed in report["feeds"]}
    assert outcomes["honest"]["new_tools"] == ["honestly"]
    assert outcomes["hungry"]["result"] == "failed"
    assert "32 MB" in outcomes["hungry"]["error"] and "poll.parse_memory" in outcomes["hungry"]["error"]
