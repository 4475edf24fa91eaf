"""Previewing a rendered issue: open the web version in a browser, or serve it on loopback.

`digest issue preview` renders the issue, then opens `web.html` in the browser named by
$BROWSER, or in the system's browser when there is a display. Without either (a server, a
container, an SSH session) it serves the rendered files on 127.0.0.1 until Ctrl-C: `/` is the
web version, `/email.html` the email and `/email.txt` its text part, as one sample reader gets
them. Their links point at the preview server itself, which answers each kind (a vote, an
unsubscribe, the web version) with a page saying what the link does for a reader: nothing is
recorded, and no link leads to the live site or to a 404.
"""

from __future__ import annotations

import html
import os
import re
import sys
import threading
from collections.abc import Mapping
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from digest.errors import RenderError, UsageError

ROUTES = {
    "/": ("web.html", "text/html; charset=utf-8"),
    "/web.html": ("web.html", "text/html; charset=utf-8"),
    "/email.html": ("email.html", "text/html; charset=utf-8"),
    "/email.txt": ("email.txt", "text/plain; charset=utf-8"),
    "/email.mjml": ("email.mjml", "text/plain; charset=utf-8"),
}


# What a link in the previewed email does for a reader, by the path prefix the web app serves.
LINK_PAGES = {
    "/vote/": "In a reader's email this button records their vote: {choice}. A reader can change "
              "it by clicking the other button.",
    "/unsubscribe/": "In a reader's email this link unsubscribes them at once, with one click.",
    "/confirm/": "In a confirmation email this link confirms a sign-up.",
    "/p/": "An invisible link that only mail scanners follow; readers never see it.",
}
_VOTE_SUFFIX = re.compile(r"\.(\d+)([ab])$")


def link_page(path: str, choices: Mapping[int, tuple[str, str]]) -> str | None:
    """The preview's answer to a link of the previewed email, or None when `path` is none."""
    for prefix, what in LINK_PAGES.items():
        if path.startswith(prefix):
            choice = "a vote in this issue"
            match = _VOTE_SUFFIX.search(path)
            if match and int(match.group(1)) in choices:
                names = choices[int(match.group(1))]
                choice = f"{names[0 if match.group(2) == 'a' else 1]} in \u201c{names[0]} vs {names[1]}\u201d"
            text = html.escape(what.format(choice=choice))
            return ("<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>Preview link</title>"
                    "<body style=\"font-family:sans-serif;max-width:36em;margin:3em auto;line-height:1.5\">"
                    f"<h1>This is a preview</h1><p>{text}</p><p>Nothing was recorded: the preview "
                    "acts on no one.</p><p><a href=\"/email.html\">Back to the email</a> \u00b7 "
                    "<a href=\"/\">the web version</a></p></body></html>")
    return None


def has_display(environ: dict[str, str] | None = None) -> bool:
    """True where a graphical browser can open a window (macOS, Windows, X11 or Wayland)."""
    environ = os.environ if environ is None else environ
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"))


def open_in_browser(url: str, environ: dict[str, str] | None = None) -> bool:
    """Open `url` in $BROWSER, or the system browser when there is a display; False if neither.

    Raises RenderError when $BROWSER names a browser that cannot be run.
    """
    import webbrowser

    environ = os.environ if environ is None else environ
    named = environ.get("BROWSER", "").strip()
    if named:
        try:
            opened = webbrowser.get(named).open(url)
        except webbrowser.Error as exc:
            raise RenderError(f"cannot run the browser named by $BROWSER ({named}): {exc}") from None
        if not opened:
            raise RenderError(f"the browser named by $BROWSER ({named}) failed to open {url}")
        return True
    if has_display(environ):
        return webbrowser.open(url)
    return False


class PreviewServer:
    """The rendered files of one issue over HTTP on a loopback address (read-only, GET only)."""

    def __init__(self, folder: Path, *, host: str = "127.0.0.1", port: int = 0,
                 choices: Mapping[int, tuple[str, str]] | None = None) -> None:
        if not host.startswith("127.") and host not in ("localhost", "::1"):
            raise UsageError(f"the preview only serves on loopback; {host} is not a loopback address")
        files = {path: (folder / name, kind) for path, (name, kind) in ROUTES.items()}
        missing = [str(p) for p, _ in files.values() if not p.is_file()]
        if missing:
            raise RenderError(f"nothing to preview: {missing[0]} is missing", hint="run `digest issue render` first")
        pages: dict[str, tuple[bytes, str]] = {}
        self.pages = pages  # path -> (body, type): served instead of the file (`set_page`)
        votes = dict(choices or {})

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                path = self.path.split("?", 1)[0]
                if path.startswith("/issues/"):  # the email's web-version link
                    path = "/web.html"
                route = files.get(path)
                if path in pages:
                    body, kind = pages[path]
                elif route is not None:
                    body, kind = route[0].read_bytes(), route[1]
                elif (page := link_page(path, votes)) is not None:
                    body, kind = page.encode("utf-8"), "text/html; charset=utf-8"
                else:
                    self.send_error(HTTPStatus.NOT_FOUND, "not part of this preview")
                    return
                self.send_response(HTTPStatus.OK)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args) -> None:  # noqa: A002
                pass

        try:
            self.httpd = ThreadingHTTPServer((host, port), Handler)
        except OSError as exc:
            raise RenderError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
        self.httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    def set_page(self, path: str, body: str, kind: str = "text/html; charset=utf-8") -> None:
        """Serve `body` at `path` instead of the file (the email with links to this server)."""
        self.pages[path] = (body.encode("utf-8"), kind)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/"

    def start(self) -> None:
        """Serve in a background thread (tests, embedding); `close()` stops it."""
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="digest-preview", daemon=True)
        self._thread.start()

    def serve_forever(self) -> None:
        try:
            self.httpd.serve_forever()
        finally:
            self.httpd.server_close()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
