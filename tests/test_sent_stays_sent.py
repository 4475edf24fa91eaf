"""What feeds say is data, and what was sent stays as it was sent, through the real loop:
`digest poll` of a feed served on 127.0.0.1, pair, review, queue, `digest send` to an SMTP
sink on 127.0.0.1, and the web app on 127.0.0.1 serving the issue's page and the archive."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from feedserver import FeedServer, item, rss
from render_helpers import parse, visible_text
from webapp import configure, free_port, start_server, stop_server, top_level

from digest.config import load_settings
from digest.db import open_database
from digest.smtpsink import start_sink

BIG_TAGLINE = 'AI buttons, size="large, onmouseover="alert(1)" and __digest_unsubscribe__'
BIG_DESCRIPTION = "Renders {{ 7*7 }} and {% if x %}no{% endif %} as typed; ends a CDATA ]]> here."
LESS_TAGLINE = "an AI linter for when a < b"
QUOTE = "It shows <script>alert(1)</script> as text, and {{ 7*7 }} too."
READERS = ("ada@example.com", "grace@example.org")


def publish(server: FeedServer, *, big: str = BIG_TAGLINE, big_name: str = "Bigbutton",
            less: str = LESS_TAGLINE) -> str:
    """(Re)serve the feed: two launches, no validators, so every poll reads it again."""
    def escape(text: str) -> str:
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    entries = (item(escape(f"{big_name} – {big}"), link="https://bigbutton.example/", guid="launch-1",
                    description=escape(BIG_DESCRIPTION), categories=("developer tools", "Freemium")),
               item(escape(f"Lessthan – {less}"), link="https://lessthan.example/", guid="launch-2",
                    description="Lints pull requests.", categories=("developer tools", "Free")))
    return server.route("/launches.xml", body=rss(*entries))


@dataclass
class Newsletter:
    home: Path
    base: str
    sink: object
    cli: object
    feeds: FeedServer

    def ok(self, *args: str) -> str:
        result = self.cli(*args)
        assert result.exit_code == 0, result.output
        return result.stdout

    def page(self, path: str) -> httpx.Response:
        return httpx.get(self.base + path, timeout=10)

    def messages(self) -> dict[str, email.message.EmailMessage]:
        found = {}
        for received in self.sink.messages:
            (recipient,) = received.recipients
            assert recipient not in found, f"two messages for {recipient}"
            found[recipient] = email.message_from_bytes(received.data, policy=email.policy.strict)
        return found


@pytest.fixture
def newsletter(home: Path, cli, feed_server: FeedServer) -> Iterator[Newsletter]:  # noqa: ANN001
    from digest.web import create_app

    url = publish(feed_server)
    (home / "feeds.toml").write_text(f'[[feeds]]\nname = "launches"\nurl = "{url}"\n', encoding="utf-8")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    top_level(home, f'base_url = "{base}"')
    sink = start_sink()
    configure(home, f'[smtp]\nurl = "{sink.url()}"\ntimeout = "10s"')
    settings = load_settings(home)
    open_database(settings).dispose()
    server, thread = start_server(create_app(settings, figures_ttl=0.0, page_ttl=0.0), port)
    try:
        yield Newsletter(home=home, base=base, sink=sink, cli=cli, feeds=feed_server)
    finally:
        stop_server(server, thread)
        sink.stop()


def send_issue_one(n: Newsletter, tmp_path: Path) -> None:
    """Poll, pair Bigbutton and Lessthan, review, assemble issue 1, queue and send it to READERS."""
    assert "0 failed" in n.ok("poll")
    n.ok("pair", "bigbutton", "lessthan")
    reviews = ["[a]", 'tool = "bigbutton"', "[b]", 'tool = "lessthan"']
    for reviewer in ("builder", "skeptic", "buyer", "futurist"):
        for slug, verdict in (("bigbutton", "ship"), ("lessthan", "skip")):
            reviews += ["[[reviews]]", f'reviewer = "{reviewer}"', f'tool = "{slug}"', f'verdict = "{verdict}"',
                        f"quote = '''{QUOTE}'''"]
    scorecard = tmp_path / "reviews.toml"
    scorecard.write_text("\n".join(reviews) + "\n", encoding="utf-8")
    n.ok("review", "1", "--file", str(scorecard))
    n.ok("issue", "new", "--subject", "Buttons vs linters", "--comparison", "1")
    n.ok("subscribers", "add", *READERS)
    n.ok("issue", "queue", "1")
    n.ok("send", "--no-wait")


def test_hostile_feed_text_is_sent_and_served_as_text(newsletter: Newsletter, tmp_path: Path) -> None:
    """Before: `onmouseover=` in a tagline made render refuse the issue; `size="large` with a "<"
    elsewhere corrupted the email; `__digest_unsubscribe__` became the reader's unsubscribe link
    in the email and made /issues/1 answer 500 for good."""
    n = newsletter
    send_issue_one(n, tmp_path)
    inbox = n.messages()
    assert sorted(inbox) == sorted(READERS)
    web_versions = set()
    for message in inbox.values():
        html = message.get_body(("html",)).get_content()
        text = message.get_body(("plain",)).get_content()
        shown = visible_text(html)
        for literal in (BIG_TAGLINE, LESS_TAGLINE, QUOTE, BIG_DESCRIPTION):
            assert literal in shown and literal in " ".join(text.split()), literal
        doc = parse(html)
        assert not doc.xpath("//script") and not doc.xpath("//@*[starts-with(name(), 'on')]")
        unsubscribe = message["List-Unsubscribe"].split("<", 1)[1].split(">", 1)[0]
        assert text.count(unsubscribe) == 1 and html.count("__digest_unsubscribe__") == 1
        web_versions |= {a.get("href") for a in doc.iter("a") if "/issues/1?t=" in (a.get("href") or "")}
    assert len(web_versions) == 1
    for page in (httpx.get(web_versions.pop(), timeout=10), n.page("/issues/1")):
        assert page.status_code == 200, page.text
        shown = visible_text(page.text)
        for literal in (BIG_TAGLINE, LESS_TAGLINE, QUOTE, BIG_DESCRIPTION):
            assert literal in shown, literal
        assert not parse(page.text).xpath("//@*[starts-with(name(), 'on')]")
    assert n.page("/issues/").status_code == 200 and n.page("/feed.xml").status_code == 200
