"""Helpers and fixtures for the web app's tests: the real app under uvicorn on 127.0.0.1 (an
ephemeral port), a real SMTP server (aiosmtpd) for confirmation emails, and seeded data.

Test modules import the fixtures they use from here.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path

import httpx
import pytest
import uvicorn
from sqlalchemy import inspect, text

from digest.config import load_settings
from digest.db import open_database, session_scope
from digest.models import (Comparison, Issue, IssueComparison, IssueStatus, Subscriber, SubscriberStatus, Tool,
                           utcnow)
from digest.tokens import Purpose, Signer


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(condition, *, timeout: float = 10.0, interval: float = 0.02):  # noqa: ANN001, ANN201
    """Poll `condition` until it returns something truthy or the deadline passes."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met before the deadline")
        time.sleep(interval)


class Inbox:
    """Messages received by the loopback SMTP server."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201, N802
        with self.lock:
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content or envelope.content))
        return "250 OK"

    def to(self, address: str) -> list:
        with self.lock:
            return [message_from_bytes(data, policy=policy.default)
                    for _, rcpts, data in self.messages if address in rcpts]


@pytest.fixture
def smtp_inbox() -> Iterator[tuple[Inbox, int]]:
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield inbox, controller.port
    controller.stop()


class _Server(uvicorn.Server):
    """uvicorn as `digest serve` runs it, but stopping in milliseconds: its main loop looks at
    `should_exit` every 0.1 s and its shutdown pauses 0.1 s for connections to close, ~0.15 s a
    stop, and ~90 tests a pass stop a server. Here `stop()` wakes the main loop at once (it still
    ticks every 0.1 s while serving) and the shutdown takes uvicorn's steps, in its order, polling
    every 5 ms for the connections and tasks to finish."""

    _wake: asyncio.Event | None = None
    _loop: asyncio.AbstractEventLoop | None = None

    async def main_loop(self) -> None:
        self._wake, self._loop = asyncio.Event(), asyncio.get_running_loop()
        counter = 0
        should_exit = await self.on_tick(counter)
        while not should_exit:
            counter = (counter + 1) % 864000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), 0.1)
            should_exit = await self.on_tick(counter)

    def stop(self) -> None:
        """From another thread: ask the server to shut down, now."""
        self.should_exit = True
        if self._loop is not None and self._wake is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()
        while self.server_state.connections or self.server_state.tasks:
            await asyncio.sleep(0.005)
        for server in self.servers:
            await server.wait_closed()
        await self.lifespan.shutdown()


def start_server(app, port: int):  # noqa: ANN001, ANN201
    """uvicorn serving `app` on 127.0.0.1:port in a thread; returns (server, thread)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    server = _Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    wait_until(lambda: server.started)
    return server, thread


def stop_server(server, thread) -> None:  # noqa: ANN001
    server.stop()
    thread.join(timeout=10)


@dataclass
class Site:
    """A running web app and what tests need to talk to it."""

    url: str
    home: Path
    settings: object
    engine: object
    signer: Signer
    data: dict = field(default_factory=dict)

    def client(self, **options) -> httpx.Client:  # noqa: ANN003
        return httpx.Client(base_url=self.url, follow_redirects=False, timeout=10, **options)

    def vote_path(self, subscriber_id: int, issue_number: int, comparison_id: int, choice: str) -> str:
        return f"/vote/{self.signer.vote_token(subscriber_id, issue_number)}.{comparison_id}{choice}"

    def unsubscribe_path(self, subscriber_id: int) -> str:
        return f"/unsubscribe/{self.signer.sign(Purpose.UNSUBSCRIBE, subscriber_id)}"

    def snapshot(self, tables: tuple[str, ...] = ()) -> dict[str, list]:
        """Every row of every table (or of `tables`): what 'the database is unchanged' compares."""
        out = {}
        with self.engine.connect() as connection:
            for table in tables or sorted(inspect(connection).get_table_names()):
                rows = connection.execute(text(f'SELECT * FROM "{table}"')).all()
                out[table] = sorted(tuple(str(v) for v in row) for row in rows)
        return out

    def scalar(self, sql: str, **params):  # noqa: ANN003, ANN201
        with self.engine.connect() as connection:
            return connection.execute(text(sql), params).scalar()

    def rows(self, sql: str, **params) -> list:  # noqa: ANN003
        with self.engine.connect() as connection:
            return connection.execute(text(sql), params).all()


def seed(engine, *, subscribers: int = 3) -> dict:  # noqa: ANN001
    """Two tools per comparison; issue 1 (sent) with comparisons c1 and c2, issue 2 (draft) with
    c3, issue 3 (scheduled) and issue 4 (sending); `subscribers` active readers."""
    with session_scope(engine, write=True) as session:
        tools = [Tool(slug=f"tool-{i}", name=name, tagline=f"{name} does a thing")
                 for i, name in enumerate(["Quillsmith", "Draftwell", "Lintern", "Patchbay", "Scribeo", "Tonal"])]
        session.add_all(tools)
        session.flush()
        comparisons = [Comparison(tool_a_id=tools[0].id, tool_b_id=tools[1].id, title="Writing assistants for release notes"),
                       Comparison(tool_a_id=tools[2].id, tool_b_id=tools[3].id, title="Code review bots"),
                       Comparison(tool_a_id=tools[4].id, tool_b_id=tools[5].id, title="Meeting note takers")]
        session.add_all(comparisons)
        session.flush()
        now = utcnow()
        issues = [Issue(number=1, subject="Release notes that write themselves", preheader="Two writing tools, one winner",
                        intro="This week the panel looked at writing assistants.", status=IssueStatus.SENT.value,
                        sent_at=now - timedelta(days=1)),
                  Issue(number=2, subject="Draft: note takers", status=IssueStatus.DRAFT.value),
                  Issue(number=3, subject="Scheduled: secret", status=IssueStatus.SCHEDULED.value),
                  Issue(number=4, subject="Sending: secret", status=IssueStatus.SENDING.value)]
        session.add_all(issues)
        session.flush()
        session.add_all([IssueComparison(issue_id=issues[0].id, comparison_id=comparisons[0].id, position=0),
                         IssueComparison(issue_id=issues[0].id, comparison_id=comparisons[1].id, position=1),
                         IssueComparison(issue_id=issues[1].id, comparison_id=comparisons[2].id, position=0)])
        readers = [Subscriber(email=f"reader{i}@example.org", email_key=f"reader{i}@example.org",
                              status=SubscriberStatus.ACTIVE.value, confirmed_at=now)
                   for i in range(subscribers)]
        session.add_all(readers)
        session.flush()
        return {"c1": comparisons[0].id, "c2": comparisons[1].id, "c3": comparisons[2].id,
                "readers": [r.id for r in readers]}


def configure(home: Path, lines: str) -> None:
    with (home / "digest.toml").open("a", encoding="utf-8") as handle:
        handle.write("\n" + lines + "\n")


def top_level(home: Path, lines: str) -> None:
    """Top-level keys must come before any [section] of digest.toml."""
    path = home / "digest.toml"
    path.write_text(lines + "\n" + path.read_text(encoding="utf-8"), encoding="utf-8")


@pytest.fixture
def site(home: Path, smtp_inbox) -> Iterator[Site]:  # noqa: ANN001
    """The app on 127.0.0.1 with seeded data; its confirmation emails go to `smtp_inbox`."""
    yield from _site(home, smtp_inbox)


def _site(home: Path, smtp_inbox, *, web: str = "", figures_ttl: float = 0.0) -> Iterator[Site]:  # noqa: ANN001
    from digest.web import create_app

    inbox, smtp_port = smtp_inbox
    port = free_port()
    top_level(home, f'base_url = "http://127.0.0.1:{port}"')
    configure(home, f'[smtp]\nurl = "smtp://127.0.0.1:{smtp_port}"\ntimeout = "5s"\n[web]\nsignup_rate = 3\n{web}')
    settings = load_settings(home)
    engine = open_database(settings)
    data = seed(engine)
    app = create_app(settings, figures_ttl=figures_ttl, page_ttl=0.0)
    server, thread = start_server(app, port)
    try:
        yield Site(url=f"http://127.0.0.1:{port}", home=home, settings=settings, engine=engine,
                   signer=Signer(settings.secret_key), data=data)
    finally:
        stop_server(server, thread)
        engine.dispose()


def csrf_of(html: str) -> str:
    import re

    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "the page has no CSRF field"
    return match.group(1)
