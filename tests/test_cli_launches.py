"""Launch detection end to end (issue 17): a Show HN-like feed and a lab blog-like feed polled
as a new user would, then `tools list`, `--all`, `keep` / `hide`, `suggest` and `pair`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from feedserver import FeedServer, item, rss
from test_poll import write_feeds

SHOW_HN = rss(
    item("Show HN: Patchwise (YC S24) – an AI reviewer that writes your missing tests",
         "https://patchwise.example/", "hn-1", "Patchwise reads your diff with an LLM. Free tier for individuals."),
    item("Show HN: Reviewbot – AI code review that comments on every pull request",
         "https://reviewbot.example/", "hn-2", "An AI agent that reviews code. Open source, MIT licensed."),
    item("Ask HN: Which AI coding assistant do you use?", "https://news.example/item?id=3", "hn-3", "Curious."),
    item("Show HN: I made a weekend game where you herd cats", "https://cats.example/", "hn-4", "Godot, 48 hours."),
    item("Acme AI (YC W23) is hiring a founding ML engineer", "https://news.example/item?id=5", "hn-5", "Remote OK."),
    title="Show HN")
LAB = rss(
    item("Introducing the Helix Realtime API", "https://helix.example/realtime", "lab-1",
         "Build low-latency speech-to-speech apps with one model and a WebSocket."),
    item("Helix Labs raises $2B to scale safe AI", "https://helix.example/funding", "lab-2", "Series D."),
    item("Our approach to frontier AI safety", "https://helix.example/safety", "lab-3", "Our commitments."),
    item("Announcing Helix Vision and Helix Draw", "https://helix.example/vision", "lab-4",
         "Two new AI models: one understands images, one generates them."),
    title="Helix Labs blog")


@pytest.fixture
def polled(cli, home: Path, feed_server: FeedServer):
    write_feeds(home, {"show-hn": feed_server.route("/show.xml", body=SHOW_HN),
                       "helix": feed_server.route("/helix.xml", body=LAB)},
                helix={"vendor": "Helix Labs"})
    assert cli("poll").exit_code == 0
    return cli


def records(cli, *args: str) -> dict[str, dict]:
    result = cli("tools", "list", "--json", *args)
    assert result.exit_code == 0, result.stderr
    return {r["slug"]: r for r in json.loads(result.stdout)}


def test_only_launches_are_listed_each_under_its_own_name(polled) -> None:
    shown = records(polled)
    assert {r["name"] for r in shown.values()} == {"Patchwise", "Reviewbot", "Helix Realtime API", "Helix Vision"}
    patchwise = shown["patchwise"]
    assert (patchwise["tagline"], patchwise["category"], patchwise["price"]) == (
        "an AI reviewer that writes your missing tests", "coding", "freemium")
    assert shown["reviewbot"]["price"] == "open-source"
    assert shown["helix-realtime-api"]["vendor"] == "Helix Labs"
    assert shown["helix-vision"]["reason"] == "launch: announced (announcing); also announces Helix Draw"
    table = polled("tools", "list").stdout
    assert "Ask HN" not in table and "hiring" not in table and "DECISION" not in table


def test_all_lists_the_hidden_entries_with_their_reasons(polled) -> None:
    every = records(polled, "--all")
    hidden = {r["name"]: r["reason"] for r in every.values() if not r["shown"]}
    assert hidden == {
        "Ask HN: Which AI coding assistant do you use?": "question post",
        "I made a weekend game where you herd cats": "not about AI",
        "Acme AI (YC W23) is hiring a founding ML engineer": "hiring",
        "Helix Labs raises $2B to scale safe AI": "funding news",
        "Our approach to frontier AI safety": "policy or safety post",
    }
    table = polled("tools", "list", "--all").stdout
    assert table.splitlines()[0].split()[5] == "DECISION"
    assert "hidden: question post" in table and "shown: launch: Show HN product post" in table


def test_keep_and_hide_survive_later_polls(polled, home: Path, feed_server: FeedServer) -> None:
    game = next(s for s, r in records(polled, "--all").items() if r["reason"] == "not about AI")
    kept = polled("tools", "keep", game)
    assert kept.exit_code == 0 and f"{game}: shown, kept by the editor" in kept.stderr
    assert polled("tools", "hide", "reviewbot").exit_code == 0
    assert polled("poll", "--force").exit_code == 0
    shown = records(polled)
    assert game in shown and "reviewbot" not in shown
    assert "kept by the editor" in polled("tools", "show", game).stdout
    assert polled("tools", "hide", "reviewbot", "--release").exit_code == 0
    assert "reviewbot" in records(polled)


def test_suggest_and_pair_leave_hidden_entries_out(polled) -> None:
    data = json.loads(polled("suggest", "--json").stdout)
    suggested = {s["a"]["slug"] for s in data["suggestions"]} | {s["b"]["slug"] for s in data["suggestions"]}
    assert suggested <= {"patchwise", "reviewbot", "helix-realtime-api", "helix-vision"}
    assert data["candidates"] == 4
    hidden = next(s for s, r in records(polled, "--all").items() if r["reason"] == "funding news")
    refused = polled("pair", "patchwise", hidden)
    assert refused.exit_code == 2
    assert refused.stderr.count("\n") <= 2 and "hidden: not an AI tool launch (funding news)" in refused.stderr
    assert polled("tools", "keep", hidden).exit_code == 0
    assert polled("pair", "patchwise", hidden).exit_code == 0


def test_keep_and_hide_refuse_unknown_tools(polled) -> None:
    result = polled("tools", "keep", "no-such-tool")
    assert result.exit_code == 2 and "no tool 'no-such-tool'" in result.stderr and "Traceback" not in result.stderr


def test_a_feed_kind_decides_how_entries_are_judged(cli, home: Path, feed_server: FeedServer) -> None:
    body = rss(item("Habitloop", "https://habitloop.example/", "1", "A habit tracker for iOS"),
               item("Scribbly", "https://scribbly.example/", "2", "AI meeting notes that write themselves"))
    url = feed_server.route("/ph.xml", body=body)
    write_feeds(home, {"ph": url}, ph={"kind": "launches"})
    assert cli("poll").exit_code == 0
    assert set(records(cli)) == {"scribbly"}
    write_feeds(home, {"ph": url}, ph={"kind": "ai-launches"})
    assert cli("poll", "--force").exit_code == 0
    assert set(records(cli)) == {"scribbly", "habitloop"}


def test_a_bad_feed_kind_is_a_one_line_error(cli, home: Path) -> None:
    write_feeds(home, {"f": "https://feed.example/f.xml"}, f={"kind": "news"})
    result = cli("poll")
    assert result.exit_code == 2 and "'news' is not a feed kind" in result.stderr and "Traceback" not in result.stderr
