"""A real HTTP server on 127.0.0.1 for feed tests: each path answers as a Route says.

Routes can be changed between polls (`server.route(...)` again). The server answers
conditional GETs (ETag / Last-Modified -> 304), gzip, redirects, error statuses with
Retry-After, slow responses (a delay that ends early when the server stops) and records every
request it saw, plus the most requests it had in flight at once.
"""

from __future__ import annotations

import gzip
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str = "application/rss+xml; charset=utf-8"
    etag: str | None = None
    last_modified: str | None = None
    gzip: bool = False
    location: str | None = None  # for redirects
    retry_after: str | None = None
    delay: float = 0.0  # seconds before answering
    gate: threading.Event | None = None  # answer only once the test opens it (bounded: 30 s)
    chunked: bool = False  # no Content-Length: the body streams
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Seen:
    path: str
    headers: dict[str, str]


class FeedServer:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[Seen] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_GET(self) -> None:  # noqa: N802
                with server._lock:
                    server.requests.append(Seen(self.path, {k.lower(): v for k, v in self.headers.items()}))
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                try:
                    self._answer(server.routes.get(self.path.split("?", 1)[0]))
                finally:
                    with server._lock:
                        server.in_flight -= 1

            def _answer(self, route: Route | None) -> None:
                if route is None:
                    self._send(404, b"not found", {"Content-Type": "text/plain"})
                    return
                if route.delay:
                    server._stopping.wait(route.delay)
                if route.gate is not None:
                    route.gate.wait(30)
                headers = {"Content-Type": route.content_type, **route.headers}
                if route.etag:
                    headers["ETag"] = route.etag
                if route.last_modified:
                    headers["Last-Modified"] = route.last_modified
                if route.location:
                    headers["Location"] = route.location
                if route.retry_after:
                    headers["Retry-After"] = route.retry_after
                if route.status == 200 and (
                        (route.etag and self.headers.get("If-None-Match") == route.etag)
                        or (route.last_modified and self.headers.get("If-Modified-Since") == route.last_modified)):
                    self._send(304, b"", {k: v for k, v in headers.items() if k != "Content-Type"})
                    return
                body = route.body
                if route.gzip and "gzip" in (self.headers.get("Accept-Encoding") or ""):
                    body = gzip.compress(body)
                    headers["Content-Encoding"] = "gzip"
                self._send(route.status, body, headers, chunked=route.chunked)

            def _send(self, status: int, body: bytes, headers: dict[str, str], *, chunked: bool = False) -> None:
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                if chunked:
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    for start in range(0, len(body), 16384):
                        piece = body[start:start + 16384]
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                    self.wfile.write(b"0\r\n\r\n")
                    return
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if body:
                    self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: object, client_address: object) -> None:
                pass  # a client that gave up (a timeout test) is not an error of the server

        self.httpd = Server((host, 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()
        self.base = f"http://{host}:{self.httpd.server_address[1]}"

    def route(self, path: str, **kwargs: object) -> str:
        """Serve `path` as described; returns its full URL."""
        self.routes[path] = Route(**kwargs)  # type: ignore[arg-type]
        return self.url(path)

    def url(self, path: str) -> str:
        return self.base + path

    def hits(self, path: str) -> list[Seen]:
        return [seen for seen in self.requests if seen.path.split("?", 1)[0] == path]

    def close(self) -> None:
        self._stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def rss(*items: str, title: str = "Test feed", version: str = "2.0", extra_ns: str = "") -> bytes:
    """An RSS document around item XML strings."""
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="{version}"{extra_ns}><channel>'
            f"<title>{title}</title><link>https://feed.example/</link><description>d</description>"
            f"{''.join(items)}</channel></rss>").encode()


def item(title: str, link: str | None = None, guid: str | None = None, description: str = "",
         categories: tuple[str, ...] = (), pub_date: str = "Mon, 23 Nov 2026 09:00:00 GMT") -> str:
    parts = [f"<title>{title}</title>"]
    if link is not None:
        parts.append(f"<link>{link}</link>")
    if guid is not None:
        parts.append(f'<guid isPermaLink="false">{guid}</guid>')
    parts.append(f"<pubDate>{pub_date}</pubDate>")
    parts += [f"<category>{c}</category>" for c in categories]
    if description:
        parts.append(f"<description>{description}</description>")
    return "<item>" + "".join(parts) + "</item>"
