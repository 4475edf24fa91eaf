"""The catalogue corrections meet real polls: `digest poll` of a feed served on 127.0.0.1 never
overwrites an edited field, and a merged twin stays merged."""

from __future__ import annotations

from pathlib import Path

from editorial_support import add_tools, as_json
from feedserver import FeedServer, item, rss
from test_poll import write_feeds


def publish(server: FeedServer, *, tagline: str, price: str, description: str) -> str:
    """(Re)serve the feed with one Patchwise entry; no validators, so every poll reads it."""
    entry = item(f"Patchwise – {tagline}", link="https://patchwise.example/", guid="launch-1",
                 description=description, categories=("code review", price))
    return server.route("/launches.xml", body=rss(entry))


def tool(cli, slug: str = "patchwise") -> dict:
    return as_json(cli("tools", "show", slug, "--json"))


def poll(cli) -> None:
    result = cli("poll")
    assert result.exit_code == 0, result.output
    assert "0 failed" in result.stdout


def test_an_edited_field_survives_a_re_poll(cli, home: Path, feed_server: FeedServer) -> None:
    write_feeds(home, {"launches": publish(feed_server, tagline="an AI reviewer", price="Freemium",
                                           description="Reads pull requests.")})
    poll(cli)
    assert (tool(cli)["tagline"], tool(cli)["price"]) == ("an AI reviewer", "freemium")

    result = cli("tools", "edit", "patchwise", "--tagline", "The reviewer that writes tests", "--price", "Paid")
    assert result.exit_code == 0, result.output

    publish(feed_server, tagline="an AI reviewer, now faster", price="Free",
            description="Reads pull requests and writes tests.")
    poll(cli)
    after = tool(cli)
    assert after["tagline"] == "The reviewer that writes tests"             # the editor's
    assert after["price"] == "paid"                                          # the editor's
    assert after["description"] == "Reads pull requests and writes tests."  # the feed's, refreshed
    assert sorted(after["edited"]) == ["price", "tagline"]

    # handed back to the feeds, the tagline follows the next poll again; the price stays
    assert cli("tools", "edit", "patchwise", "--release", "tagline").exit_code == 0
    poll(cli)
    assert (tool(cli)["tagline"], tool(cli)["price"]) == ("an AI reviewer, now faster", "paid")


def test_a_merged_twin_stays_merged_on_the_next_poll(cli, home: Path, feed_server: FeedServer) -> None:
    """The duplicate's identity keys move to the kept tool, so its feed entry finds the kept tool."""
    write_feeds(home, {"launches": publish(feed_server, tagline="an AI reviewer", price="Freemium",
                                           description="Reads pull requests.")})
    poll(cli)
    # the editor's own entry for the same product, and a comparison of the feed's twin
    add_tools(home, ["patchwise-app", "lintern"], **{"patchwise-app": {"name": "Patchwise App", "tagline": ""}})
    assert cli("pair", "patchwise", "lintern").exit_code == 0
    merged = cli("tools", "merge", "patchwise-app", "patchwise")
    assert merged.exit_code == 0, merged.output
    assert "comparisons 1" in merged.stderr and "filled tagline" in merged.stderr

    publish(feed_server, tagline="an AI reviewer", price="Freemium", description="Reads pull requests, and more.")
    poll(cli)
    slugs = sorted(t["slug"] for t in as_json(cli("tools", "list", "--json")))
    assert slugs == ["lintern", "patchwise-app"]  # no twin came back: the moved keys found the kept tool
    card = as_json(cli("comparison", "show", "1", "--json"))
    assert card["a"]["slug"] == "patchwise-app"
    assert card["a"]["description"] == "Reads pull requests, and more."


def test_a_renamed_tool_is_recognised_by_its_new_name(cli, home: Path, feed_server: FeedServer) -> None:
    add_tools(home, ["patchwise"], patchwise={"name": "Patchwize"})  # a typo in the first feed
    assert cli("tools", "edit", "patchwise", "--name", "Patchwise").exit_code == 0
    entry = item("Patchwise – an AI reviewer", link="https://patchwise.example/launch", guid="other-1",
                 description="Reads pull requests.", categories=("code review",))
    write_feeds(home, {"other": feed_server.route("/other.xml", body=rss(entry))})
    poll(cli)
    assert [t["slug"] for t in as_json(cli("tools", "list", "--json"))] == ["patchwise"]
    assert tool(cli)["name"] == "Patchwise"
