"""Hostile feeds: a body is data, never a path, a device or a URL, and every feed's poll is
bounded in time and memory whatever its body.

Each poll here is a whole `digest poll` process (tests/bounded_poll.py) under an address-space
limit, against a real HTTP server on 127.0.0.1, with an honest feed polled alongside the
hostile one. After each: the honest feed's tools are stored, no byte of this machine's disk
is stored or shown, and the poller and its parse workers stayed small.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from feedserver import FeedServer, item, rss
from test_poll import write_feeds

from digest.config import load_settings
from digest.sql import connect

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
