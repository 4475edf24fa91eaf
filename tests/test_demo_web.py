"""The demo's web helpers: the links a reader's email holds, found as a browser and a scanner see them."""

from __future__ import annotations

from pathlib import Path

from webapp import free_port, seed, top_level

from digest import links
from digest.config import load_settings
from digest.db import open_database
from digest.demo.web import links_in, links_of, reserve_address, title_of, vote_link
from digest.links import Personaliser
from digest.message import MessageTemplate
from digest.tokens import Signer


def test_vote_and_unsubscribe_links_are_found_in_a_sent_message(home: Path) -> None:
    port = free_port()
    top_level(home, f'base_url = "http://127.0.0.1:{port}"')
    settings = load_settings(home)
    engine = open_database(settings)
    data = seed(engine)
    engine.dispose()
    personaliser = Personaliser(base_url=settings.base_url, signer=Signer(settings.secret_key), issue_number=1,
                                comparison_ids=[data["c1"]])
    canary = links.canary_url(settings.base_url, 1)
    template = MessageTemplate(subject="Issue 1", sender=settings.sender, list_id="<t.example>", placeholders=links.LEGACY,
                               html_body=f'<a href="{canary}"></a><a href="__digest_vote_{data["c1"]}_a__">A</a> '
                                         f'<a href="__digest_vote_{data["c1"]}_b__">B</a>',
                               text_body=f"Vote A: __digest_vote_{data['c1']}_a__\nLeave: __digest_unsubscribe__\n")
    reader = data["readers"][0]
    message = template.personalise(to="reader0@example.org", values=personaliser.values(reader, "reader0@example.org"),
                                   message_id="m1@example.org")
    vote, unsubscribe = links_in([message])
    assert vote and vote.endswith(f".{data['c1']}a") and unsubscribe and "/unsubscribe/" in unsubscribe
    assert vote_link(message, "b").endswith(f".{data['c1']}b")
    assert links_of(message)[0] == canary and len(links_of(message)) == 3


def test_the_web_apps_address_is_reserved_before_the_links_are_made() -> None:
    sock = reserve_address()
    try:
        host, port = sock.getsockname()[:2]
        assert host == "127.0.0.1" and port > 0
        other = reserve_address()
        assert other.getsockname()[1] != port
        other.close()
    finally:
        sock.close()


def test_page_titles_drop_the_newsletters_name() -> None:
    assert title_of("<title>Vote · Patchwise vs Lintern · Weekly AI Tool Verdicts</title>") == "Vote · Patchwise vs Lintern"
    assert title_of("<p>no title</p>") == "?"
