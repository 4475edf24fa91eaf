"""`digest poll` as users run it: summary line, --json, --feed, and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

from feedserver import FeedServer, item, rss
from test_poll import LINTERN, PATCHWISE, write_feeds


def test_poll_prints_the_summary_and_failures_and_exits_zero(cli, home: Path, feed_server: FeedServer) -> None:
    write_feeds(home, {"good": feed_server.route("/g.xml", body=rss(PATCHWISE, LINTERN)),
                       "bad": feed_server.route("/b.xml", status=500)})
    result = cli("poll")
    assert result.exit_code == 0
    assert result.stdout == "2 feeds, 2 new tools, 0 unchanged, 1 failed\n"
    assert "failed  bad: HTTP 500" in result.stderr
    assert "Traceback" not in result.stderr


def test_poll_json_is_the_complete_report(cli, home: Path, feed_server: FeedServer) -> None:
    write_feeds(home, {"good": feed_server.route("/g.xml", body=rss(PATCHWISE), etag='"1"')})
    report = json.loads(cli("poll", "--json").stdout)
    assert (report["feeds_polled"], report["new_tools"], report["failed"]) == (1, 1, 0)
    [feed] = report["feeds"]
    assert (feed["name"], feed["status"], feed["new_tools"], feed["result"]) == ("good", 200, ["patchwise"], "changed")
    again = json.loads(cli("poll", "--json").stdout)
    assert again["feeds"][0]["status"] == 304 and again["unchanged"] == 1


def test_poll_one_named_feed(cli, home: Path, feed_server: FeedServer) -> None:
    write_feeds(home, {"a": feed_server.route("/a.xml", body=rss(PATCHWISE)),
                       "b": feed_server.route("/b.xml", body=rss(LINTERN))})
    result = cli("poll", "--feed", "b")
    assert result.stdout == "1 feed, 1 new tool, 0 unchanged, 0 failed\n"
    assert feed_server.hits("/a.xml") == []


def test_unknown_feed_name_is_a_usage_error(cli, home: Path, feed_server: FeedServer) -> None:
    write_feeds(home, {"a": feed_server.route("/a.xml", body=rss(PATCHWISE))})
    result = cli("poll", "--feed", "nope")
    assert result.exit_code == 2
    assert result.stderr == "error: no feed named 'nope' in feeds.toml (hint: feeds: a)\n"


def test_broken_feeds_toml_is_one_line_and_exit_2(cli, home: Path) -> None:
    (home / "feeds.toml").write_text('[[feeds]]\nname = "x"\nurl = "not a url"\n', encoding="utf-8")
    result = cli("poll")
    assert result.exit_code == 2
    assert result.stderr == "error: feeds.toml: feeds[0].url: 'not a url' is not an http(s) URL\n"
    (home / "feeds.toml").write_text("[[feeds]\n", encoding="utf-8")
    result = cli("poll")
    assert result.exit_code == 2 and result.stderr.count("\n") == 1 and "invalid TOML" in result.stderr


def test_poll_without_a_database_fails_in_one_line(tmp_path: Path, make_cli) -> None:
    folder = tmp_path / "fresh"
    folder.mkdir()
    (folder / "feeds.toml").write_text("", encoding="utf-8")
    result = make_cli(folder)("poll")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: no database at ") and "digest init" in result.stderr


def test_a_quiet_poll_still_prints_the_summary_but_not_warnings(cli, home: Path, feed_server: FeedServer) -> None:
    broken = rss(item("Half – parsed", "https://half.example/", "h")).replace(b"</channel>", b"<x></channel>")
    write_feeds(home, {"half": feed_server.route("/h.xml", body=broken)})
    loud = cli("poll")
    assert "warning: half: ill-formed feed" in loud.stderr
    quiet = cli("--quiet", "poll", "--force")
    assert quiet.stdout == "1 feed, 0 new tools, 1 unchanged, 0 failed\n" and quiet.stderr == ""
