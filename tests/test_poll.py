"""Polling end to end: real HTTP on 127.0.0.1, a real SQLite file, feeds.toml as users write it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from feedserver import FeedServer, item, rss

from digest.config import load_settings
from digest.poll import backoff_seconds, poll
from digest.data.codec import as_datetime, as_json
from digest.data.engine import connect

PATCHWISE = item("Patchwise – an AI reviewer that writes missing tests", "https://patchwise.example/",
                 "pw-1", "Reads a pull request and writes the tests it is missing.", ("code review", "Freemium"))
LINTERN = item("Lintern – explains each finding", "https://lintern.example/", "li-1",
               "A code-review agent.", ("code review", "Open source"))
MINUTELY = item("Minutely – meeting notes that draft follow-ups", "https://minutely.example/?utm_source=a",
                "mi-1", "Notes from calls.", ("meetings",))


def write_feeds(home: Path, feeds: dict[str, str], **extra: dict[str, str]) -> None:
    lines = []
    for name, url in feeds.items():
        lines += ["[[feeds]]", f'name = "{name}"', f'url = "{url}"']
        lines += [f'{key} = "{value}"' for key, value in extra.get(name, {}).items()]
        lines.append("")
    (home / "feeds.toml").write_text("\n".join(lines), encoding="utf-8")


def run(home: Path, **options):
    return poll(load_settings(home), **options)


def rows(home: Path, statement: str, **params) -> list[dict]:
    """Rows through the portable SQL layer, so these tests run on SQLite and PostgreSQL alike."""
    with connect(load_settings(home)) as db:
        return db.query(statement, params)


def tools(home: Path) -> list[dict]:
    return rows(home, "SELECT * FROM tool ORDER BY id")


def feed(home: Path, name: str) -> dict:
    return rows(home, "SELECT * FROM feed WHERE name = :name", name=name)[0]


def sql(home: Path, statement: str, **params) -> None:
    with connect(load_settings(home)) as db, db.transaction(write=True):
        db.execute(statement, params)


def test_first_poll_stores_tools_and_a_second_poll_of_unchanged_feeds_creates_nothing(
        home: Path, feed_server: FeedServer) -> None:
    write_feeds(home, {
        "by-etag": feed_server.route("/a.xml", body=rss(PATCHWISE, LINTERN), etag='"a1"'),
        "by-date": feed_server.route("/b.xml", body=rss(MINUTELY), last_modified="Mon, 23 Nov 2026 09:00:00 GMT"),
    })
    first = run(home)
    assert first.summary() == "2 feeds, 3 new tools, 0 unchanged, 0 failed"
    assert sorted(t["slug"] for t in tools(home)) == ["lintern", "minutely", "patchwise"]
    before = tools(home), rows(home, "SELECT * FROM toolkey ORDER BY id")

    second = run(home)
    assert second.summary() == "2 feeds, 0 new tools, 2 unchanged, 0 failed"
    assert (tools(home), rows(home, "SELECT * FROM toolkey ORDER BY id")) == before
    assert [feed(home, n)["last_status"] for n in ("by-etag", "by-date")] == [304, 304]
    assert feed_server.hits("/a.xml")[-1].headers["if-none-match"] == '"a1"'


def test_tool_fields_are_normalised_from_the_entry(home: Path, feed_server: FeedServer) -> None:
    write_feeds(home, {"f": feed_server.route("/f.xml", body=rss(MINUTELY))})
    run(home)
    [tool] = tools(home)
    assert tool["name"] == "Minutely"
    assert tool["tagline"] == "meeting notes that draft follow-ups"
    assert tool["url"] == "https://minutely.example/"
    assert (tool["category"], tool["price"], as_json(tool["edited"])) == ("meetings", "unknown", [])
    assert as_datetime(tool["published_at"]) == datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def test_a_feed_that_ignores_validators_is_reparsed_without_twins(home: Path, feed_server: FeedServer) -> None:
    write_feeds(home, {"plain": feed_server.route("/p.xml", body=rss(PATCHWISE, LINTERN))})
    run(home)
    again = run(home)
    assert again.summary() == "1 feed, 0 new tools, 1 unchanged, 0 failed"
    assert len(tools(home)) == 2


def test_the_same_launch_in_two_feeds_is_one_tool(home: Path, feed_server: FeedServer) -> None:
    other = item("Patchwise: writes the tests your pull request is missing",
                 "https://www.patchwise.example/?utm_source=radar&utm_medium=feed#top", "radar-77", "Short.")
    write_feeds(home, {"launches": feed_server.route("/l.xml", body=rss(PATCHWISE)),
                       "radar": feed_server.route("/r.xml", body=rss(other))})
    report = run(home)
    assert report.new_tools == 1 and report.updated_tools == 0
    [tool] = tools(home)
    assert tool["description"] == "Reads a pull request and writes the tests it is missing."
    keys = {(k["kind"], k["value"]) for k in rows(home, "SELECT kind, value FROM toolkey")}
    assert keys == {("guid", "launches|pw-1"), ("guid", "radar|radar-77"), ("url", "patchwise.example"),
                    ("name", "patchwise")}


def test_permanent_redirect_updates_the_stored_url_and_temporary_does_not(
        home: Path, feed_server: FeedServer) -> None:
    feed_server.route("/new.xml", body=rss(PATCHWISE))
    feed_server.route("/t-new.xml", body=rss(LINTERN))
    write_feeds(home, {"moved": feed_server.route("/old.xml", status=301, location="/new.xml"),
                       "temp": feed_server.route("/t.xml", status=302, location="/t-new.xml")})
    report = run(home)
    assert report.summary() == "2 feeds, 2 new tools, 0 unchanged, 0 failed"
    assert feed(home, "moved")["url"] == feed_server.url("/new.xml")
    assert feed(home, "moved")["configured_url"] == feed_server.url("/old.xml")
    assert feed(home, "temp")["url"] == feed_server.url("/t.xml")
    run(home)
    assert feed_server.hits("/old.xml").__len__() == 1  # the second poll went straight to the new URL


def test_gone_disables_the_feed_until_forced(home: Path, feed_server: FeedServer) -> None:
    url = feed_server.route("/gone.xml", status=410)
    write_feeds(home, {"gone": url})
    report = run(home)
    assert report.summary() == "1 feed, 0 new tools, 0 unchanged, 1 failed"
    row = feed(home, "gone")
    assert (bool(row["disabled"]), row["last_status"]) == (True, 410) and "410" in row["disabled_reason"]
    skipped = run(home)
    assert skipped.feeds[0].result == "skipped" and "disabled" in skipped.feeds[0].error
    assert len(feed_server.hits("/gone.xml")) == 1
    feed_server.route("/gone.xml", body=rss(LINTERN))
    assert run(home, force=True).summary() == "1 feed, 1 new tool, 0 unchanged, 0 failed"
    assert not feed(home, "gone")["disabled"]


def test_failures_are_recorded_and_backed_off_as_retry_after_asks(home: Path, feed_server: FeedServer) -> None:
    write_feeds(home, {"busy": feed_server.route("/busy.xml", status=503, retry_after="7200")})
    started = datetime.now(UTC)
    report = run(home)
    outcome = report.feeds[0]
    assert (outcome.result, outcome.status) == ("failed", 503)
    row = feed(home, "busy")
    assert (row["error_count"], row["last_status"]) == (1, 503)
    assert row["last_error"].startswith("HTTP 503")
    next_poll = as_datetime(row["next_poll_at"])
    assert next_poll >= started + timedelta(seconds=7200)
    assert run(home).feeds[0].error.startswith("backing off after 1 failures")
    run(home, force=True)
    assert feed(home, "busy")["error_count"] == 2


def test_backoff_doubles_up_to_the_cap_but_never_undercuts_retry_after() -> None:
    assert [backoff_seconds(n, max_backoff=86400, retry_after=None) for n in (1, 2, 3)] == [300, 600, 1200]
    assert backoff_seconds(20, max_backoff=86400, retry_after=None) == 86400
    assert backoff_seconds(1, max_backoff=86400, retry_after=5000) == 5000


BROKEN_BODIES = {
    "not-found": {"status": 404},
    "server-error": {"status": 500},
    "gone": {"status": 410},
    "html-page": {"body": b"<html><body>maintenance</body></html>", "content_type": "text/html"},
    "over-cap": {"body": rss(*(item(f"T{i} - {'x' * 400}", f"https://t{i}.example/", f"g{i}") for i in range(60)))},
    "slow": {"body": rss(LINTERN), "delay": 10},
    "bomb": {"body": b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "AAAAAAAAAAAAAAAA"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
                     b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]><rss version="2.0"><channel><title>&c;</title>'
                     b'<item><title>&c;</title><link>https://patchwise.example/</link><guid>pw-1</guid></item></channel></rss>'},
    "truncated": {"body": rss(PATCHWISE)[:120]},
}


@pytest.mark.parametrize("failure", sorted(BROKEN_BODIES))
def test_the_database_keeps_its_rows_through_every_failure(home: Path, feed_server: FeedServer, failure: str) -> None:
    write_feeds(home, {"one": feed_server.route("/one.xml", body=rss(PATCHWISE, MINUTELY), etag='"1"'),
                       "two": feed_server.route("/two.xml", body=rss(LINTERN))})
    run(home)
    before = tools(home), rows(home, "SELECT * FROM toolkey ORDER BY id")
    feed_server.route("/one.xml", **BROKEN_BODIES[failure])
    feed_server.route("/two.xml", body=rss(LINTERN, item("Recapper – a log of decisions", "https://recapper.example/", "r1")))
    with_settings = load_settings(home)
    settings = with_settings.__class__(**{**with_settings.__dict__, "poll": with_settings.poll.__class__(
        **{**with_settings.poll.__dict__, "timeout": 0.5, "max_bytes": 20_000})})
    report = poll(settings)
    after_tools = tools(home)
    assert after_tools[: len(before[0])] == before[0]  # earlier rows untouched
    assert rows(home, "SELECT * FROM toolkey ORDER BY id")[: len(before[1])] == before[1]
    assert "recapper" in {t["slug"] for t in after_tools}  # the healthy feed went on
    text = " ".join(str(v) for t in after_tools for v in t.values())
    assert "AAAAAAAAAAAAAAAAAAAAAAAA" not in text
    one = next(f for f in report.feeds if f.name == "one")
    if failure in ("bomb", "truncated"):
        assert one.result in ("unchanged", "changed") and one.warnings
    else:
        assert one.result == "failed"
        assert feed(home, "one")["error_count"] == 1 and feed(home, "one")["last_error"]


def test_external_entities_never_reach_the_database(home: Path, feed_server: FeedServer, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT", encoding="utf-8")
    body = (f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "{secret.as_uri()}">]>'
            '<rss version="2.0"><channel><title>&x;</title><item><title>Leaky &x; – &x;</title>'
            '<link>https://leaky.example/</link><guid>&x;</guid><description>&x;</description>'
            '<category>&x;</category></item></channel></rss>').encode()
    write_feeds(home, {"xxe": feed_server.route("/xxe.xml", body=body)})
    report = run(home)
    assert report.new_tools == 1
    dump = json.dumps([rows(home, f"SELECT * FROM {table}") for table in ("tool", "toolkey", "feed")], default=str)
    assert "TOP-SECRET-CONTENT" not in dump
    assert "TOP-SECRET-CONTENT" not in json.dumps(report.to_dict(), default=str)


def test_feeds_toml_is_the_list_of_what_is_polled(home: Path, feed_server: FeedServer) -> None:
    a = feed_server.route("/a.xml", status=410)
    b = feed_server.route("/b.xml", body=rss(LINTERN))
    write_feeds(home, {"a": a, "b": b})
    run(home)
    assert feed(home, "a")["disabled"]
    # a changed URL starts the feed afresh; a removed feed is no longer polled
    fresh = feed_server.route("/a2.xml", body=rss(PATCHWISE), etag='"x"')
    write_feeds(home, {"a": fresh}, a={"category": "code review"})
    report = run(home)
    assert [f.name for f in report.feeds] == ["a"]
    row = feed(home, "a")
    assert (row["url"], row["configured_url"], bool(row["disabled"]), row["error_count"], row["category"]) == (
        fresh, fresh, False, 0, "code review")
    assert len(feed_server.hits("/b.xml")) == 1
    assert feed(home, "b")["name"] == "b"  # kept for history


def test_edited_fields_belong_to_the_editor(home: Path, feed_server: FeedServer) -> None:
    write_feeds(home, {"f": feed_server.route("/f.xml", body=rss(PATCHWISE), etag='"1"')})
    run(home)
    sql(home, "UPDATE tool SET tagline = 'Editor wrote this', price = 'paid', edited = :edited WHERE slug = 'patchwise'",
        edited=["tagline", "price"])
    changed = item("Patchwise – a new pitch from the feed", "https://patchwise.example/", "pw-1",
                   "A longer, newer description from the feed.", ("code review", "Free"))
    feed_server.route("/f.xml", body=rss(changed), etag='"2"')
    report = run(home)
    assert report.updated_tools == 1
    [tool] = tools(home)
    assert (tool["tagline"], tool["price"]) == ("Editor wrote this", "paid")
    assert tool["description"] == "A longer, newer description from the feed."


def test_a_merged_duplicate_keeps_mapping_to_the_kept_tool(home: Path, feed_server: FeedServer) -> None:
    write_feeds(home, {"a": feed_server.route("/a.xml", body=rss(PATCHWISE), etag='"1"'),
                       "b": feed_server.route("/b.xml", body=rss(item("PatchWiz – same thing, other name",
                                                                        "https://patchwiz.example/", "pz")), etag='"1"')})
    run(home)
    keep, duplicate = (rows(home, "SELECT id FROM tool WHERE slug = :slug", slug=s)[0]["id"] for s in ("patchwise", "patchwiz"))
    # what `digest tools merge` does: the duplicate's keys move to the kept tool
    sql(home, "UPDATE toolkey SET tool_id = :keep WHERE tool_id = :duplicate", keep=keep, duplicate=duplicate)
    sql(home, "DELETE FROM tool WHERE id = :duplicate", duplicate=duplicate)
    feed_server.route("/b.xml", body=rss(item("PatchWiz – same thing, other name", "https://patchwiz.example/", "pz",
                                              "Now with a description.")), etag='"2"')
    report = run(home)
    assert report.new_tools == 0
    assert [t["slug"] for t in tools(home)] == ["patchwise"]


def test_parse_workers_give_the_same_catalogue(home: Path, feed_server: FeedServer) -> None:
    feeds = {f"f{i}": feed_server.route(f"/f{i}.xml", body=rss(*(item(f"Tool{i}x{j} – pitch {j}", f"https://t{i}-{j}.example/",
                                                                      f"{i}-{j}") for j in range(5)), PATCHWISE))
             for i in range(10)}
    write_feeds(home, feeds)
    with (home / "digest.toml").open("a", encoding="utf-8") as settings_file:
        settings_file.write("\n[poll]\nworkers = 2\n")
    report = run(home)
    assert report.summary() == "10 feeds, 51 new tools, 0 unchanged, 0 failed"
    assert len({t["name"] for t in tools(home)}) == len(tools(home)) == 51


def test_two_polls_at_once_create_no_twins(home: Path, feed_server: FeedServer) -> None:
    """Two real `digest poll` processes over the same overlapping feeds, answered together."""
    gate = threading.Event()
    shared = [item(f"Shared{j} – in every feed", f"https://shared{j}.example/?utm_source=f", None) for j in range(15)]
    feeds = {f"f{i}": feed_server.route(f"/c{i}.xml", gate=gate, body=rss(*shared, *(
        item(f"Own{i}x{j} – only here", f"https://own{i}-{j}.example/", f"own-{i}-{j}") for j in range(5))))
        for i in range(12)}
    write_feeds(home, feeds)
    digest = [sys.executable, "-m", "digest", "--home", str(home), "poll", "--json"]
    env = {**os.environ, "DIGEST_POLL_WORKERS": "1", "DIGEST_POLL_PER_HOST": "12", "DIGEST_POLL_CONCURRENCY": "12"}
    processes = [subprocess.Popen(digest, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env) for _ in range(2)]
    deadline = time.monotonic() + 60
    while len(feed_server.requests) < 24 and time.monotonic() < deadline:  # both are waiting on every feed
        gate.wait(0.02)
    gate.set()
    outputs = [p.communicate(timeout=120) for p in processes]
    assert [p.returncode for p in processes] == [0, 0], [o[1] for o in outputs]
    reports = [json.loads(out) for out, _ in outputs]
    assert sum(r["new_tools"] for r in reports) == 15 + 12 * 5
    names = [t["name"] for t in tools(home)]
    assert len(names) == len(set(names)) == 75
    assert rows(home, "SELECT COUNT(*) AS n FROM toolkey k LEFT JOIN tool t ON t.id = k.tool_id "
                      "WHERE t.id IS NULL")[0]["n"] == 0


def test_a_feeds_vendor_and_category_hints_apply_to_its_tools(home: Path, feed_server: FeedServer) -> None:
    write_feeds(home, {"vendor-blog": feed_server.route("/v.xml", body=rss(item("Modelmaker 2 – faster", "https://v.example/2", "v2")))},
                **{"vendor-blog": {"vendor": "Vendor Co", "category": "models"}})
    run(home)
    [tool] = tools(home)
    assert (tool["vendor"], tool["category"]) == ("Vendor Co", "models")


def test_invalid_utf8_in_a_served_feed_is_stored_as_replacement_characters(home: Path, feed_server: FeedServer) -> None:
    body = rss(item("Caféine – brews caf\xe9s", "https://cafeine.example/", "cf-1")).replace(b"caf\xc3\xa9s", b"caf\xe9s")
    write_feeds(home, {"cafe": feed_server.route("/cafe.xml", body=body)})
    report = run(home)
    assert report.feeds[0].new_tools == ["cafeine"]
    [tool] = rows(home, "SELECT name, tagline FROM tool")
    assert (tool["name"], tool["tagline"]) == ("Caféine", "brews caf\ufffds")
