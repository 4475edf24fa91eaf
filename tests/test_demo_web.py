"""The demo's serve stage: it finds a vote and an unsubscribe link in sent messages, and both work."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import httpx
from webapp import csrf_of, free_port, seed, start_server, stop_server, top_level

from digest.config import load_settings
from digest.db import open_database
from digest.demo_web import links_in, listen_address, stage_serve
from digest.links import Personaliser
from digest.message import MessageTemplate
from digest.tokens import Signer


class Run:
    def __init__(self, settings, inbox) -> None:  # noqa: ANN001
        self.settings = settings
        self.inbox = inbox
        self.said: list[str] = []

    def say(self, text: str) -> None:
        self.said.append(text)

    def on_exit(self, fn) -> None:  # noqa: ANN001
        pass


@dataclasses.dataclass
class Received:
    data: bytes


def test_serve_stage_prints_links_that_work(home: Path) -> None:
    port = free_port()
    top_level(home, f'base_url = "http://127.0.0.1:{port}"')
    settings = load_settings(home)
    engine = open_database(settings)
    data = seed(engine)
    engine.dispose()
    personaliser = Personaliser(base_url=settings.base_url, signer=Signer(settings.secret_key), issue_number=1,
                                comparison_ids=[data["c1"], data["c2"]])
    template = MessageTemplate(subject="Issue 1", sender=settings.sender, list_id="<t.example>",
                               html_body='<a href="__digest_vote_1_a__">A</a> <a href="__digest_vote_1_b__">B</a>',
                               text_body="Vote A: __digest_vote_1_a__\n")
    reader = data["readers"][0]
    message = template.personalise(to="reader0@example.org", values=personaliser.values(reader, "reader0@example.org"),
                                   message_id="m1@example.org")
    run = Run(settings, [Received(message)])
    vote, unsubscribe = links_in([message])
    assert vote and "/vote/" in vote and unsubscribe and "/unsubscribe/" in unsubscribe

    def serve(settings, *, host, port) -> None:  # noqa: ANN001
        from digest.web import create_app

        assert (host, port) == listen_address(settings.base_url)
        server, thread = start_server(create_app(settings), port)
        try:
            with httpx.Client(timeout=10) as client:
                page = client.get(vote)
                assert page.status_code == 200
                assert client.post(vote, data={"csrf": csrf_of(page.text)}).status_code == 200
                assert client.post(unsubscribe, data={"List-Unsubscribe": "One-Click"}).status_code == 200
        finally:
            stop_server(server, thread)

    stage_serve(run, serve=serve)
    assert any(vote in line for line in run.said) and any(unsubscribe in line for line in run.said)
    engine = open_database(settings)
    with engine.connect() as connection:
        from sqlalchemy import text

        assert connection.execute(text("SELECT count(*) FROM vote")).scalar() == 1
        assert connection.execute(text("SELECT status FROM subscriber WHERE id = :i"), {"i": reader}).scalar() == "unsubscribed"
    engine.dispose()
