"""The portable SQL layer: what it writes, the ORM reads back the same, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from feedserver import FeedServer, item, rss
from test_poll import LINTERN, PATCHWISE, write_feeds

from digest.config import load_settings
from digest.errors import DatabaseError
from digest.data.codec import as_datetime, sqlite_text
from digest.data.engine import Conflict, connect


def test_rows_written_here_read_back_through_the_orm(settings, engine) -> None:
    from sqlmodel import Session, select

    from digest.models import Tool

    published = datetime(2026, 11, 23, 9, 0, 0, tzinfo=UTC)
    with connect(settings) as db, db.transaction(write=True):
        db.execute("INSERT INTO tool (slug, name, tagline, description, price, published_at, first_seen_at, edited) "
                   "VALUES ('a', 'A', '', '', 'unknown', :published, :seen, :edited)",
                   {"published": published, "seen": published, "edited": ["tagline"]})
    with Session(engine) as session:
        tool = session.exec(select(Tool)).one()
        assert (tool.published_at, tool.edited) == (published, ["tagline"])
        tool.first_seen_at = datetime(2026, 11, 24, tzinfo=UTC)
        session.add(tool)
        session.commit()
    with connect(settings) as db:
        row = db.one("SELECT first_seen_at, published_at FROM tool")
        assert as_datetime(row["first_seen_at"]) == datetime(2026, 11, 24, tzinfo=UTC)
        assert as_datetime(row["published_at"]) == published


def test_the_codec_writes_datetimes_as_the_orm_does_and_reads_them_back_in_utc(settings, engine) -> None:
    """Raw SQL and the ORM must agree on the stored form, or comparisons and sort order in SQL break."""
    from datetime import timedelta, timezone

    from sqlmodel import Session

    from digest.models import Tool

    moment = datetime(2026, 11, 23, 9, 0, 0, 5, tzinfo=timezone(timedelta(hours=2)))
    with Session(engine) as session:
        session.add(Tool(slug="a", name="A", price="unknown", published_at=moment, first_seen_at=moment))
        session.commit()
    with connect(settings) as db:
        stored = db.scalar("SELECT published_at FROM tool")
        assert as_datetime(stored) == moment and as_datetime(stored).utcoffset() == timedelta(0)
        if db.dialect == "sqlite":
            assert stored == sqlite_text(moment) == "2026-11-23 07:00:00.000005"


def test_unique_violations_are_conflicts_and_roll_back_only_the_savepoint(settings, engine) -> None:
    with connect(settings) as db, db.transaction(write=True):
        db.execute("INSERT INTO tool (slug, name, tagline, description, price, first_seen_at, edited) "
                   "VALUES ('a', 'A', '', '', 'unknown', :now, :edited)", {"now": datetime.now(UTC), "edited": []})
        with pytest.raises(Conflict):
            with db.savepoint():
                db.execute("INSERT INTO tool (slug, name, tagline, description, price, first_seen_at, edited) "
                           "VALUES ('b', 'B', '', '', 'unknown', :now, :edited)", {"now": datetime.now(UTC), "edited": []})
                db.execute("INSERT INTO tool (slug, name, tagline, description, price, first_seen_at, edited) "
                           "VALUES ('a', 'A2', '', '', 'unknown', :now, :edited)", {"now": datetime.now(UTC), "edited": []})
        assert [r["slug"] for r in db.query("SELECT slug FROM tool")] == ["a"]


def test_connect_refuses_a_missing_or_uninitialised_database(tmp_path: Path) -> None:
    settings = load_settings(tmp_path, environ={})
    with pytest.raises(DatabaseError, match="no database at"):
        connect(settings)
    (tmp_path / "digest.db").write_bytes(b"")
    with pytest.raises(DatabaseError, match="no digest schema"):
        connect(settings)


# --- PostgreSQL ----------------------------------------------------------------------------------

@pytest.fixture
def pg_home(home: Path):
    """The `home` folder on a fresh PostgreSQL database of its own (dropped afterwards)."""
    import psycopg

    name = f"digest_ingest_{uuid.uuid4().hex[:12]}"
    admin = "host=127.0.0.1 port=5432 user=postgres dbname=test"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    (home / "digest.toml").write_text(f'[database]\nurl = "{url}"\n', encoding="utf-8")
    from digest.folder import init_folder

    init_folder(home)
    yield home
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.mark.postgres
def test_poll_and_catalogue_on_postgresql(pg_home: Path, feed_server: FeedServer) -> None:
    from sqlmodel import Session, select

    from digest.catalogue import get_tool, list_tools
    from digest.db import open_database
    from digest.models import Tool
    from digest.poll import poll

    write_feeds(pg_home, {"f": feed_server.route("/f.xml", body=rss(PATCHWISE, LINTERN), etag='"1"')})
    settings = load_settings(pg_home)
    assert poll(settings).summary() == "1 feed, 2 new tools, 0 unchanged, 0 failed"
    assert poll(settings).summary() == "1 feed, 0 new tools, 1 unchanged, 0 failed"
    with connect(settings) as db:
        assert db.dialect == "postgresql"
        assert [t["slug"] for t in list_tools(db, category="CODE REVIEW")] == ["lintern", "patchwise"]
        patchwise = get_tool(db, "patchwise")
    assert patchwise["published_at"] == datetime(2026, 11, 23, 9, 0, tzinfo=UTC) and patchwise["edited"] == []
    engine = open_database(settings)
    with Session(engine) as session:
        assert session.exec(select(Tool).where(Tool.slug == "lintern")).one().price == "open-source"
    engine.dispose()


@pytest.mark.postgres
def test_two_polls_at_once_create_no_twins_on_postgresql(pg_home: Path, feed_server: FeedServer) -> None:
    """No write lock on PostgreSQL: the unique keys and the re-read after a Conflict do the work."""
    gate = threading.Event()
    shared = [item(f"Shared{j} – in every feed", f"https://shared{j}.example/", None) for j in range(20)]
    write_feeds(pg_home, {f"f{i}": feed_server.route(f"/p{i}.xml", gate=gate, body=rss(*shared)) for i in range(8)})
    command = [sys.executable, "-m", "digest", "--home", str(pg_home), "poll", "--json"]
    env = {**os.environ, "DIGEST_POLL_WORKERS": "1", "DIGEST_POLL_PER_HOST": "8"}
    processes = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env) for _ in range(2)]
    deadline = time.monotonic() + 60
    while len(feed_server.requests) < 16 and time.monotonic() < deadline:
        gate.wait(0.02)
    gate.set()
    outputs = [p.communicate(timeout=120) for p in processes]
    assert [p.returncode for p in processes] == [0, 0], [err for _, err in outputs]
    assert sum(json.loads(out)["new_tools"] for out, _ in outputs) == 20
    with connect(load_settings(pg_home)) as db:
        names = [r["name"] for r in db.query("SELECT name FROM tool")]
    assert sorted(names) == sorted(f"Shared{j}" for j in range(20))
