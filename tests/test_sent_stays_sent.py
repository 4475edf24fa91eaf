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


def vote(link: str, choice_page_base: str) -> None:
    """A reader's browser: open the vote link, then post the form its page holds."""
    import html
    import re

    from webapp import csrf_of

    with httpx.Client(timeout=10) as browser:
        page = browser.get(link)
        assert page.status_code == 200, page.text
        action = html.unescape(re.search(r'<form[^>]*action="([^"]+)"', page.text).group(1))
        done = browser.post(page.url.join(action), data={"csrf": csrf_of(page.text)})
        assert done.status_code == 200, done.text


def test_a_sent_issue_reads_as_sent_after_a_re_poll_and_tools_edit(newsletter: Newsletter, tmp_path: Path) -> None:
    """Before: the archive rebuilt issue 1 from the live catalogue, so a feed's later edit or the
    editor's correction rewrote what readers had been sent."""
    n = newsletter
    send_issue_one(n, tmp_path)
    (web_version,) = {a.get("href") for a in parse(n.messages()[READERS[0]].get_body(("html",)).get_content()).iter("a")
                      if "/issues/1?t=" in (a.get("href") or "")}
    before = {path: n.page(path) for path in ("/issues/1", "/issues/", "/feed.xml")}
    before_signed = httpx.get(web_version, timeout=10).text
    assert all(page.status_code == 200 for page in before.values())
    assert BIG_TAGLINE in visible_text(before["/issues/1"].text)

    # the feed edits its launch, and the editor corrects the other tool
    publish(n.feeds, big="now an AI button kit with a new pitch", less="an AI linter, relaunched")
    assert "0 failed" in n.ok("poll")
    assert "new pitch" in n.ok("tools", "show", "bigbutton")
    n.ok("tools", "edit", "lessthan", "--name", "Morethan", "--tagline", "Renamed by the editor",
         "--description", "A new paragraph.")
    assert "Morethan" in n.ok("tools", "show", "lessthan")

    after = {path: n.page(path) for path in before}
    for path, page in after.items():
        assert page.status_code == 200
        assert page.content == before[path].content, path  # byte for byte
    assert httpx.get(web_version, timeout=10).text == before_signed
    shown = visible_text(after["/issues/1"].text)
    assert BIG_TAGLINE in shown and LESS_TAGLINE in shown and "Lessthan" in shown
    assert "Morethan" not in shown and "new pitch" not in shown and "A new paragraph." not in shown

    # the reader votes are the one live part of the page
    votes = [a.get("href") for a in parse(n.messages()[READERS[0]].get_body(("html",)).get_content()).iter("a")
             if "/vote/" in (a.get("href") or "")]
    vote(votes[0], n.base)
    voted = visible_text(n.page("/issues/1").text)
    assert "1 reader vote so far." in voted and "No reader votes yet" in visible_text(before["/issues/1"].text)
    assert BIG_TAGLINE in voted and "Morethan" not in voted
