"""Landing-page enrichment (digest/enrich.py): real pages served on 127.0.0.1, off by default,
bounded, and never more than data."""

from __future__ import annotations

import json
from pathlib import Path

from feedserver import FeedServer, item, rss
from test_poll import write_feeds

from digest.enrich import private_address, read_page

PAGE = b"""<!doctype html><html><head><title>Scribbly &amp; co: AI meeting notes</title>
<meta name="description" content="AI meeting notes that write themselves. Free tier, paid plans from $8/month.">
<script>alert(1)</script></head><body><nav><a href="/docs">Docs</a><a href="/plans?utm_source=x">Pricing</a>
<a href="javascript:alert(1)">Prices</a></nav></body></html>"""


def settings_toml(home: Path, **poll: str) -> None:
    text = (home / "digest.toml").read_text(encoding="utf-8")
    lines = "".join(f"{key} = {value}\n" for key, value in poll.items())
    (home / "digest.toml").write_text(text + "\n[poll]\n" + lines, encoding="utf-8")


def polled(cli, home: Path, feed_server: FeedServer, page: bytes = PAGE, **poll: str) -> str:
    tool_url = feed_server.route("/scribbly", body=page, content_type="text/html; charset=utf-8")
    feed = rss(item("Scribbly", tool_url, "1"))  # a name-only launch: no tagline, no price
    write_feeds(home, {"ph": feed_server.route("/ph.xml", body=feed)}, ph={"kind": "ai-launches"})
    settings_toml(home, **poll)
    result = cli("poll")
    assert result.exit_code == 0, result.stderr
    return tool_url


def tool(cli) -> dict:
    return json.loads(cli("tools", "show", "scribbly", "--json").stdout)


def test_read_page_takes_title_description_and_pricing_link_as_text() -> None:
    facts = read_page(PAGE, url="https://scribbly.example/", content_type="text/html")
    assert facts.title == "Scribbly & co: AI meeting notes"
    assert facts.description.startswith("AI meeting notes that write themselves.")
    assert facts.pricing_url == "https://scribbly.example/plans"
    assert read_page(b"%PDF-1.4", url="https://x.example/", content_type="application/pdf").title == ""
    assert read_page(b"<html><title>unclosed <<<", url="https://x.example/").title == "unclosed <<<"


def test_enrichment_is_off_by_default(cli, home: Path, feed_server: FeedServer) -> None:
    polled(cli, home, feed_server, enrich_private="true")
    record = tool(cli)
    assert record["page"] is None and record["tagline"] == "" and record["price"] == "unknown"
    assert [r.path for r in feed_server.requests if r.path == "/scribbly"] == []


def test_a_poll_with_enrichment_on_fills_tagline_and_price(cli, home: Path, feed_server: FeedServer) -> None:
    polled(cli, home, feed_server, enrich="true", enrich_private="true")
    record = tool(cli)
    assert record["tagline"].startswith("AI meeting notes that write themselves.")
    assert record["price"] == "freemium"
    assert record["page"]["pricing_url"].endswith("/plans")
    assert "pricing page:" in cli("tools", "show", "scribbly").stdout


def test_the_editor_s_fields_are_never_overwritten(cli, home: Path, feed_server: FeedServer) -> None:
    polled(cli, home, feed_server, enrich_private="true")  # enrich stays off: nothing read yet
    assert cli("tools", "edit", "scribbly", "--price", "paid").exit_code == 0
    result = cli("tools", "enrich", "scribbly")
    assert result.exit_code == 0 and "1 of 1 page read" in result.stderr
    record = tool(cli)
    assert record["price"] == "paid" and record["tagline"].startswith("AI meeting notes")


def test_private_addresses_are_skipped_unless_allowed(cli, home: Path, feed_server: FeedServer) -> None:
    polled(cli, home, feed_server, enrich="true")
    assert tool(cli)["page"] is None
    assert private_address("http://127.0.0.1:8000/") and private_address("http://localhost/")
    assert private_address("http://169.254.169.254/latest") and not private_address("https://example.org/")


def test_a_failing_or_slow_page_never_fails_the_poll(cli, home: Path, feed_server: FeedServer) -> None:
    feed_server.route("/scribbly", status=500)
    tool_url = feed_server.url("/scribbly")
    write_feeds(home, {"ph": feed_server.route("/ph.xml", body=rss(item("Scribbly", tool_url, "1")))},
                ph={"kind": "ai-launches"})
    settings_toml(home, enrich="true", enrich_private="true")
    result = cli("poll")
    assert result.exit_code == 0
    assert "1 feed, 1 new tool" in result.stdout and "enrichment: 0 of 1 page read, 0 tools updated, 1 failed" in result.stdout
    assert tool(cli)["page"] is None


def test_enrich_refuses_an_unknown_tool(cli, home: Path, feed_server: FeedServer) -> None:
    polled(cli, home, feed_server)
    result = cli("tools", "enrich", "nope")
    assert result.exit_code == 2 and "nope" in result.stderr and "Traceback" not in result.stderr


def test_a_slow_page_is_left_for_the_next_run(cli, home: Path, feed_server: FeedServer) -> None:
    polled(cli, home, feed_server, enrich="true", enrich_private="true", enrich_seconds='"1s"', timeout='"5s"')
    # the page answered in time: now make it slower than the step's limit and ask again
    feed_server.route("/scribbly", body=PAGE, content_type="text/html", delay=4.0)
    result = cli("tools", "enrich", "scribbly")
    assert result.exit_code == 0 and "stopped at the time limit" in result.stderr
