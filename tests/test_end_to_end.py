"""The weekly loop end to end, through the public commands and real servers, as an editor runs it.

Feeds come from an HTTP server on 127.0.0.1 serving the bundled sample feeds; mail goes to an
aiosmtpd server on 127.0.0.1; the web app is `digest serve` in its own process (uvicorn on
127.0.0.1). Every step is a `digest` command (the real command tree through the CLI runner);
readers act through HTTP only, with the links in the messages they received. The test checks
what readers and the editor would notice: the messages (one per reader, headers, personal
links), the votes as recorded, and last week's figures in issue 2.
"""

from __future__ import annotations

import email
import email.policy
import html
import json
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from render_helpers import visible_text
from webapp import configure, csrf_of, free_port, top_level, wait_until

from digest.config import load_settings
from digest.demo.editorial import sample_scorecard
from digest.demo.feeds import sample_feeds_dir
from digest.smtpsink import start_sink
from digest.tokens import Purpose, Signer

READERS = ("ada@example.com", "grace@example.org", "linus@example.net", "margaret@example.com")
CATEGORIES = {"sample-launches": "launches", "sample-devtools": "developer tools", "sample-community": "community"}
SCANNER = "127.0.0.2"  # a mail scanner's address; readers come from 127.0.0.1
LAST_WEEK = "Patchwise won 67% of 3 reader votes, Lintern 33%. The panel agreed: it shipped Patchwise 75% to 50%."


@pytest.fixture
def newsletter(home: Path, feed_server) -> Iterator[dict]:  # noqa: ANN001
    """The folder wired to the loopback servers: feeds, SMTP sink, and `digest serve` running."""
    feeds = []
    for path in sorted(sample_feeds_dir().glob("*.xml")):
        url = feed_server.route(f"/{path.name}", body=path.read_bytes(), content_type="application/xml")
        feeds += ["[[feeds]]", f'name = "{path.stem}"', f'url = "{url}"', f'category = "{CATEGORIES[path.stem]}"',
                  'kind = "ai-launches"', ""]  # curated sample launches, as the demo marks them
    (home / "feeds.toml").write_text("\n".join(feeds), encoding="utf-8")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    top_level(home, f'base_url = "{base}"\neditor = "editor@example.com"')
    sink = start_sink()
    configure(home, f'[smtp]\nurl = "{sink.url()}"\ntimeout = "10s"\n[web]\nport = {port}')
    server = subprocess.Popen([sys.executable, "-m", "digest", "--home", str(home), "--quiet", "serve"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_until(lambda: _healthy(base) or server.poll() is not None, timeout=30)
        assert server.poll() is None, server.communicate()[1]
        yield {"home": home, "base": base, "sink": sink, "signer": Signer(load_settings(home).secret_key)}
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.communicate()
        sink.stop()


def _healthy(base: str) -> bool:
    try:
        return httpx.get(base + "/healthz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def ok(result) -> str:  # noqa: ANN001
    assert result.exit_code == 0, result.output
    return result.stdout


def as_json(result):  # noqa: ANN001, ANN201
    return json.loads(ok(result))


def received(sink, *, subject_prefix: str = "") -> dict[str, email.message.EmailMessage]:  # noqa: ANN001
    """What arrived, by recipient (one message each, or the test fails)."""
    found: dict[str, email.message.EmailMessage] = {}
    for message in sink.messages:
        parsed = email.message_from_bytes(message.data, policy=email.policy.strict)
        if not parsed["Subject"].startswith(subject_prefix):
            continue
        (recipient,) = message.recipients
        assert recipient not in found, f"two messages for {recipient}"
        found[recipient] = parsed
    return found


def hrefs(message) -> list[str]:  # noqa: ANN001
    return [html.unescape(h) for h in re.findall(r'href="([^"]+)"', message.get_body(("html",)).get_content())]


def vote_links(message) -> dict[str, str]:  # noqa: ANN001
    return {link[-1]: link for link in hrefs(message) if "/vote/" in link}


def click_vote(client: httpx.Client, link: str) -> httpx.Response:
    """A person's browser: GET the vote link, then the POST its page makes at once."""
    page = client.get(link)
    assert page.status_code == 200, page.text
    action = html.unescape(re.search(r'<form[^>]*action="([^"]+)"', page.text).group(1))
    return client.post(page.url.join(action), data={"csrf": csrf_of(page.text)})


def test_the_weekly_loop_from_feeds_to_inboxes_to_votes_and_back(newsletter, cli, tmp_path: Path) -> None:
    home, base, sink, signer = newsletter["home"], newsletter["base"], newsletter["sink"], newsletter["signer"]

    # --- the editor's week: poll, suggest, pair, review, assemble, render --------------------
    assert "3 feeds, 14 new tools, 0 unchanged, 0 failed" in ok(cli("poll"))
    assert len(as_json(cli("tools", "list", "--json"))) == 14
    top = as_json(cli("suggest", "--json"))["suggestions"][0]
    assert {top["a"]["slug"], top["b"]["slug"]} == {"patchwise", "lintern"}
    assert ok(cli("pair", "patchwise", "lintern")).strip().endswith("1")
    scorecard = tmp_path / "scorecard-1.toml"
    scorecard.write_text(sample_scorecard("scorecard-1.toml"), encoding="utf-8")
    ok(cli("review", "1", "--file", str(scorecard)))
    assert ok(cli("issue", "new", "--subject", "Two robot reviewers, one pull request", "--comparison", "1",
                  "--intro", "Code review bots, side by side.")).strip().endswith("1")
    assert as_json(cli("issue", "show", "1", "--json"))["ready"] is True
    ok(cli("issue", "render", "1"))
    assert "Last week the community said" not in (home / "outbox" / "1" / "email.txt").read_text(encoding="utf-8")

    # --- a proof to the editor: its links work before the issue goes out, and act on no one ----
    ok(cli("issue", "proof", "1"))
    proof = received(sink, subject_prefix="[Proof] ")["editor@example.com"]
    with httpx.Client(timeout=10) as browser:
        for link in (vote_links(proof)["a"], _unsubscribe_link(proof)):
            page = browser.get(link)
            assert page.status_code == 200 and "This is a proof" in page.text

    # --- readers, the queue and the send ----------------------------------------------------------
    ok(cli("subscribers", "add", *READERS))
    ids = {s["email"]: s["id"] for s in as_json(cli("subscribers", "list", "--json"))}
    ok(cli("issue", "queue", "1"))
    sent = as_json(cli("send", "--json", "--no-wait"))
    assert (sent["sent"], sent["failed"]) == (4, 0), sent
    inbox = received(sink, subject_prefix="Two robot")
    assert sorted(inbox) == sorted(READERS)
    message_ids = set()
    for address, message in inbox.items():
        reader = ids[address]
        assert message["To"] == address and message["Subject"] == "Two robot reviewers, one pull request"
        assert message["From"] == load_settings(home).sender and message["List-Id"]
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        message_ids.add(message["Message-ID"])
        unsubscribe = _unsubscribe_link(message)
        assert unsubscribe.startswith(base + "/unsubscribe/")
        assert signer.verify(unsubscribe.rsplit("/", 1)[1], purpose=Purpose.UNSUBSCRIBE).subscriber_id == reader
        links = hrefs(message)
        assert links[0] == base + "/p/1"  # the canary comes first, before every vote link
        for choice, link in vote_links(message).items():
            claims = signer.verify_vote(link.rsplit("/", 1)[1])
            assert (claims.subscriber_id, claims.issue_number, claims.comparison_id, claims.choice) == (reader, 1, 1, choice)
        assert any(link.startswith(base + "/issues/1?t=") for link in links)  # web version, signed
        text = message.get_body(("plain",)).get_content()
        assert address in text and vote_links(message)["a"] in text and "__digest_" not in message.as_string()
    assert len(message_ids) == 4

    # --- readers vote from their emails, through the running web app -----------------------------
    for address, choice in (("ada@example.com", "a"), ("grace@example.org", "b"), ("linus@example.net", "a")):
        with httpx.Client(timeout=10) as browser:
            done = click_vote(browser, vote_links(inbox[address])[choice])
        assert done.status_code == 200 and "Thanks for voting" in done.text
    # a mail scanner follows every link of margaret's email in order, canary first: its vote is set aside
    margaret = inbox["margaret@example.com"]
    with httpx.Client(transport=httpx.HTTPTransport(local_address=SCANNER), timeout=10) as scanner:
        for link in hrefs(margaret):
            if link.startswith(base):
                assert scanner.get(link).status_code == 200
        assert click_vote(scanner, vote_links(margaret)["b"]).status_code == 200
    card = as_json(cli("comparison", "show", "1", "--json"))
    assert (card["a"]["votes"], card["b"]["votes"], card["total_votes"]) == (2, 1, 3)
    assert (card["a"]["community_label"], card["b"]["community_label"]) == ("67%", "33%")
    web_page = visible_text(httpx.get(base + "/issues/1", timeout=10).text)
    assert "3 reader votes so far." in web_page
    # margaret leaves with one click, as her mail program does it
    assert httpx.post(_unsubscribe_link(margaret), data={"List-Unsubscribe": "One-Click"}, timeout=10).status_code == 200
    statuses = {s["email"]: s["status"] for s in as_json(cli("subscribers", "list", "--json"))}
    assert statuses["margaret@example.com"] == "unsubscribed"

    # --- issue 2 reports last week's community verdict ---------------------------------------------
    top = as_json(cli("suggest", "--include-older", "--json"))["suggestions"][0]
    assert {top["a"]["slug"], top["b"]["slug"]} == {"minutely", "recapper"}
    ok(cli("pair", "minutely", "recapper"))
    scorecard = tmp_path / "scorecard-2.toml"
    scorecard.write_text(sample_scorecard("scorecard-2.toml"), encoding="utf-8")
    ok(cli("review", "2", "--file", str(scorecard)))
    ok(cli("issue", "new", "--subject", "Notes that act, logs that remember", "--comparison", "2"))
    ok(cli("issue", "render", "2"))
    folder = home / "outbox" / "2"
    for part in (" ".join((folder / "email.txt").read_text(encoding="utf-8").split()),
                 visible_text((folder / "email.html").read_text(encoding="utf-8")),
                 visible_text((folder / "web.html").read_text(encoding="utf-8"))):
        assert "Last week the community said" in part and "Readers picked Patchwise" in part
        assert part.index(LAST_WEEK) < part.index("Comparison 1 of 1")
    ok(cli("issue", "queue", "2"))
    assert as_json(cli("send", "--json", "--no-wait"))["sent"] == 3
    second = received(sink, subject_prefix="Notes that act")
    assert sorted(second) == sorted(READERS[:3])  # margaret left
    for message in second.values():
        assert LAST_WEEK in " ".join(message.get_body(("plain",)).get_content().split())
        assert LAST_WEEK in visible_text(message.get_body(("html",)).get_content())
    archive = visible_text(httpx.get(base + "/issues/2", timeout=10).text)
    assert "Last week the community said" in archive and LAST_WEEK in archive


def _unsubscribe_link(message) -> str:  # noqa: ANN001
    return re.search(r"<(https?://[^>]+/unsubscribe/[^>]+)>", message["List-Unsubscribe"]).group(1)
