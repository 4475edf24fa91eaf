"""Request bodies are capped while they stream, on every route: a huge body is refused with 413
and never held in the server's memory (the server runs in this process, so its RSS is ours)."""

from __future__ import annotations

import select
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from webapp import _site, csrf_of, site, smtp_inbox  # noqa: F401

HUGE = 200 * 1024 * 1024  # what a hostile client offers; 300 MB grew the old server by 570 MB
CHUNK = 256 * 1024
RSS_BOUND = 64 * 1024 * 1024  # growth allowed while the huge body is offered


def _rss() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc/self/status")


class PeakRss:
    """The highest RSS of this process (the server's, too) while the block runs."""

    def __enter__(self) -> PeakRss:
        self.start = self.peak = _rss()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()
        return self

    def _watch(self) -> None:
        while not self.done.wait(0.005):
            self.peak = max(self.peak, _rss())

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        self.thread.join(timeout=5)
        self.peak = max(self.peak, _rss())

    @property
    def growth(self) -> int:
        return self.peak - self.start


def _offer(url: str, path: str, *, chunked: bool, total: int = HUGE,
           content_type: str = "application/x-www-form-urlencoded", opening: bytes = b"") -> tuple[int, int, bytes]:
    """POST `total` bytes of form data to `path` over a raw socket, stopping as soon as the server
    answers; returns (status, bytes sent, response head and body). A chunked body can start with
    `opening` (a multipart part's head, so the rest is one endless field)."""
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=30)
    framing = b"transfer-encoding: chunked\r\n" if chunked else f"content-length: {total}\r\n".encode()
    first = f"{len(opening):x}\r\n".encode() + opening + b"\r\n" if opening and chunked else b""
    sock.sendall(f"POST {path} HTTP/1.1\r\nhost: {host}\r\n".encode() + framing
                 + f"content-type: {content_type}\r\n\r\n".encode() + first)
    piece = b"x" * CHUNK
    frame = f"{CHUNK:x}\r\n".encode() + piece + b"\r\n" if chunked else piece
    sent = 0
    pending = b""
    deadline = time.monotonic() + 60
    try:
        # never block on a write: the moment the server answers (or closes), stop offering
        while (sent < total or pending) and time.monotonic() < deadline:
            readable, writable, _ = select.select([sock], [sock], [], 1)
            if readable:
                break
            if writable:
                if not pending:
                    pending = frame
                    sent += CHUNK
                    if sent >= total and chunked:
                        pending += b"0\r\n\r\n"
                pending = pending[sock.send(pending):]
    except (BrokenPipeError, ConnectionResetError):
        pass
    response = b""
    deadline = time.monotonic() + 30
    try:
        while b"\r\n\r\n" not in response or len(response) < 200:
            if time.monotonic() > deadline:
                break
            data = sock.recv(65536)
            if not data:
                break
            response += data
    except (ConnectionResetError, socket.timeout):
        pass
    finally:
        sock.close()
    status = int(response.split(b" ", 2)[1]) if response.startswith(b"HTTP/1.1 ") else 0
    return status, sent, response


@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "content-length"])
def test_a_huge_body_to_a_vote_link_is_refused_without_growing_the_server(site, chunked: bool) -> None:  # noqa: F811
    reader = site.data["readers"][0]
    path = site.vote_path(reader, 1, site.data["c1"], "a")
    with PeakRss() as rss:
        status, sent, response = _offer(site.url, path, chunked=chunked)
    assert status == 413, response[:300]
    assert b"more than this site takes" in response
    assert rss.growth < RSS_BOUND, f"the server grew by {rss.growth // 2**20} MB for a {sent // 2**20} MB body"
    assert site.rows("SELECT * FROM vote") == []
    # the server still serves, and a normal vote still counts
    with site.client() as client:
        page = client.get(path)
        assert client.post(path, data={"csrf": csrf_of(page.text)}).status_code == 200
    assert len(site.rows("SELECT * FROM vote")) == 1


@pytest.mark.parametrize(("path", "chunked"), [
    ("/subscribe", True), ("/subscribe", False), ("/unsubscribe/whatever", True), ("/confirm/whatever", True),
    # a route that reads no body answers without reading a chunked one; a declared length is refused up front
    ("/no-such-route", False), ("/issues/1", False), ("/p/1", False)])
def test_every_route_refuses_a_body_over_the_limit(site, path: str, chunked: bool) -> None:  # noqa: F811
    status, _, response = _offer(site.url, path, chunked=chunked, total=8 * CHUNK)
    assert status == 413, response[:300]
    assert b"content-security-policy" in response.lower()  # the usual headers, on an error page too


@pytest.fixture
def small_site(home: Path, smtp_inbox) -> Iterator:  # noqa: ANN001, F811
    yield from _site(home, smtp_inbox, web="max_body_bytes = 2048")


@pytest.mark.parametrize(("content_type", "answer"), [("multipart/form-data; boundary=xx", 413),
                                                      ("application/json", 403), ("text/plain", 403)])
def test_any_content_type_is_capped(site, content_type: str, answer: int) -> None:  # noqa: F811
    # multipart is parsed (and stopped at the limit); a type no form has is never read at all.
    # The multipart body is a well-formed part whose value never ends. Bare junk is refused as
    # malformed (400) by the parser whenever the server's first read holds less than the limit,
    # which under load it sometimes did (CI and a fresh clone saw 400): that says nothing of the cap.
    opening = b"--xx\r\ncontent-disposition: form-data; name=\"email\"\r\n\r\n" if "multipart" in content_type else b""
    with PeakRss() as rss:
        status, _, response = _offer(site.url, "/subscribe", chunked=True, total=64 * CHUNK, content_type=content_type,
                                     opening=opening)
    assert status == answer, response[:300]
    assert rss.growth < RSS_BOUND


def test_the_limit_is_a_setting_and_forms_under_it_work(small_site) -> None:
    site = small_site
    reader = site.data["readers"][1]
    path = site.vote_path(reader, 1, site.data["c1"], "b")
    with site.client() as client:
        page = client.get(path)
        token = csrf_of(page.text)
        refused = client.post(path, data={"csrf": token, "padding": "p" * 3000})
        assert refused.status_code == 413
        assert "more than this site takes" in refused.text
        assert site.rows("SELECT * FROM vote") == []
        accepted = client.post(path, data={"csrf": token, "padding": "p" * 1000})
        assert accepted.status_code == 200, accepted.text
        # chunked (no Content-Length), over the limit: counted as it streams
        streamed = client.post(path, content=iter([b"csrf=" + token.encode() + b"&p=", b"q" * 4096]),
                               headers={"content-type": "application/x-www-form-urlencoded"})
        assert streamed.status_code == 413
    assert site.rows("SELECT subscriber_id, choice FROM vote") == [(reader, "b")]


def test_the_setting_is_checked(home: Path) -> None:
    from webapp import configure

    from digest.config import load_settings
    from digest.errors import ConfigError

    configure(home, "[web]\nmax_body_bytes = 10")
    with pytest.raises(ConfigError, match="max_body_bytes"):
        load_settings(home)
