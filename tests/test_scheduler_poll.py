"""The poll job: the real poll of feeds served on 127.0.0.1, once per slot across processes."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from digest.config import load_settings
from digest.db import open_database
from digest.demo.feeds import sample_feeds_dir, serve_directory
from digest.leases import acquire
from digest.scheduler.jobs import Runtime, poll_job
from digest.scheduler.timing import Schedule
from scheduler_support import job_runs

HOUR = datetime(2025, 1, 7, 3, 0, tzinfo=UTC)


def make_runtime(home) -> Runtime:
    settings = load_settings(home)
    return Runtime(settings=settings, engine=open_database(settings), schedule=Schedule.from_settings(settings))


@pytest.fixture
def feeds(home):
    server, base = serve_directory(sample_feeds_dir())
    names = sorted(path.name for path in sample_feeds_dir().glob("*.xml"))
    (home / "feeds.toml").write_text("".join(f'[[feeds]]\nname = "{name[:-4]}"\nurl = "{base}/{name}"\n\n'
                                             for name in names), encoding="utf-8")
    yield names
    server.shutdown()


def tool_count(engine) -> int:
    from sqlalchemy import func, select

    from digest.models import Tool

    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(Tool)).scalar()


def test_the_poll_job_polls_the_feeds_once_per_slot(home, feeds, caplog) -> None:
    rt = make_runtime(home)
    with caplog.at_level(logging.INFO, logger="digest.scheduler"):
        result = poll_job(rt, now=HOUR)
    assert result.outcome == "ok"
    assert result.detail.startswith(f"{len(feeds)} feeds polled")
    assert tool_count(rt.engine) > 0
    assert "poll started (slot 2025-01-07 03:00 UTC)" in caplog.text
    assert "poll finished in" in caplog.text
    # a twin waking for the same hour does nothing
    assert poll_job(make_runtime(home), now=HOUR + timedelta(minutes=10)).outcome == "done"
    assert len(job_runs(rt.engine, "poll")) == 1


def test_missed_polls_fold_into_one(home, caplog) -> None:
    rt = make_runtime(home)
    assert poll_job(rt, now=HOUR).outcome == "ok"
    with caplog.at_level(logging.INFO, logger="digest.scheduler"):
        late = poll_job(rt, now=HOUR + timedelta(hours=5, minutes=20))
    assert (late.outcome, late.slot) == ("ok", HOUR + timedelta(hours=5))
    assert "4 missed slots folded in" in caplog.text
    assert [run.slot for run in job_runs(rt.engine, "poll")] == [HOUR, HOUR + timedelta(hours=5)]


def test_poll_is_skipped_while_another_process_polls(home) -> None:
    rt = make_runtime(home)
    assert acquire(rt.engine, "scheduler:poll", "someone-else", ttl=timedelta(minutes=2))
    assert poll_job(rt, now=HOUR).outcome == "busy"
    assert job_runs(rt.engine, "poll") == []


def test_a_broken_feeds_file_fails_the_poll_and_the_scheduler_goes_on(home, caplog) -> None:
    (home / "feeds.toml").write_text("[[feeds]]\nname = 'x'\n", encoding="utf-8")
    rt = make_runtime(home)
    with caplog.at_level(logging.INFO, logger="digest.scheduler"):
        result = poll_job(rt, now=HOUR)
    assert result.outcome == "failed" and "feeds.toml" in result.detail
    assert [run.outcome for run in job_runs(rt.engine, "poll")] == ["failed"]
    assert any(r.levelno == logging.ERROR and "poll failed" in r.getMessage() for r in caplog.records)


def test_a_hostile_feed_never_stalls_the_poll_job(home, feed_server, caplog) -> None:
    """A body feedparser needs about a minute for, and one naming a local feed file: the job
    ends within the parse deadline, the honest feed is stored, the scheduler goes on."""
    from feedserver import item, rss

    on_disk = home / "server-side.xml"
    on_disk.write_bytes(rss(item("Smugglr - from the disk", "https://smugglr.example/", "s1")))
    with (home / "digest.toml").open("a", encoding="utf-8") as handle:
        handle.write('\n[poll]\nparse_timeout = "2s"\n')
    honest = feed_server.route("/honest.xml", body=rss(item("Honestly - an AI inbox", "https://honestly.example/", "h1")))
    nested = feed_server.route("/nested.xml", body=rss(item("<b>" * 1_000_000 + "Nested", "https://n.example/", "n1")))
    local = feed_server.route("/local.xml", body=str(on_disk).encode())
    (home / "feeds.toml").write_text(f'[[feeds]]\nname = "honest"\nurl = "{honest}"\n\n[[feeds]]\nname = "nested"\n'
                                     f'url = "{nested}"\n\n[[feeds]]\nname = "local"\nurl = "{local}"\n', encoding="utf-8")
    rt = make_runtime(home)
    with caplog.at_level(logging.INFO, logger="digest"):
        result = poll_job(rt, now=HOUR)
    assert result.outcome == "ok"
    assert "2 failed" in result.detail
    assert tool_count(rt.engine) == 1  # Honestly, and nothing from the disk
    assert poll_job(make_runtime(home), now=HOUR + timedelta(hours=1)).outcome == "ok"  # the next slot runs
