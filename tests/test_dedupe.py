"""Deduplication rules: keys, sources, the editor's fields, and the re-read after a conflict."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

import digest.dedupe as dedupe
from digest.feeds import Entry
from digest.data.engine import connect

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def store(settings, feed_name: str, *entries: Entry, trusted: bool = True):
    with connect(settings) as db, db.transaction(write=True):
        feed_id = db.scalar("SELECT id FROM feed WHERE name = :n", {"n": feed_name})
        if feed_id is None:
            db.execute("INSERT INTO feed (name, configured_url, url, error_count, disabled, created_at) "
                       "VALUES (:n, 'http://x.example/', 'http://x.example/', 0, :f, :now)",
                       {"n": feed_name, "f": False, "now": NOW})
            feed_id = db.scalar("SELECT id FROM feed WHERE name = :n", {"n": feed_name})
        return dedupe.store_entries(db, feed_id=feed_id, feed_name=feed_name, entries=list(entries),
                                    seen_at=NOW, trusted=trusted)


def all_tools(settings) -> list[dict]:
    with connect(settings) as db:
        return db.query("SELECT slug, name, tagline, description, vendor FROM tool ORDER BY id")


def test_a_concurrent_writer_between_read_and_write_is_joined_not_twinned(settings, monkeypatch: pytest.MonkeyPatch) -> None:
    store(settings, "a", Entry(name="Patchwise", url="https://patchwise.example/", guid="1"))
    real = dedupe.lookup_keys
    calls = {"n": 0}

    def stale_first_read(db, keys):  # noqa: ANN001 - what a reader sees just before another commits
        calls["n"] += 1
        return {} if calls["n"] == 1 else real(db, keys)

    monkeypatch.setattr(dedupe, "lookup_keys", stale_first_read)
    result = store(settings, "b", Entry(name="Patchwise", url="https://patchwise.example/?utm_source=b", guid="9"),
                   Entry(name="Brandnew", url="https://brandnew.example/", guid="10"))
    assert [t["slug"] for t in all_tools(settings)] == ["patchwise", "brandnew"]
    assert len(result.new) == 1


def test_the_fuller_description_wins_whatever_the_order(settings) -> None:
    short = Entry(name="Lintern", url="https://lintern.example/", description="Short.", vendor=None)
    full = Entry(name="Lintern", url="https://lintern.example/", description="A much fuller description.",
                 vendor="Lintern")
    store(settings, "first", short)
    store(settings, "second", full)
    assert all_tools(settings)[0]["description"] == "A much fuller description."
    again = store(settings, "first", short)  # the shorter feed polled again changes nothing
    assert again.updated == [] and again.unchanged == 1


def test_untrusted_entries_fill_gaps_but_never_overwrite(settings) -> None:
    store(settings, "a", Entry(name="Voxbridge", url="https://voxbridge.example/", description="Good text."))
    store(settings, "a", Entry(name="Voxbridge", url="https://voxbridge.example/", description="&garbled;",
                               vendor="Voxbridge"), trusted=False)
    [tool] = all_tools(settings)
    assert (tool["description"], tool["vendor"]) == ("Good text.", "Voxbridge")
