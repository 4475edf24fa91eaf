"""Previewing a rendered issue: open the web version in a browser, or serve it on loopback.

`digest issue preview` renders the issue, then opens `web.html` in the browser named by
$BROWSER, or in the system's browser when there is a display. Without either (a server, a
container, an SSH session) it serves the rendered files on 127.0.0.1 until Ctrl-C: `/` is the
web version, `/email.html` the email (placeholders visible), `/email.txt` the text part.
"""

from __future__ import annotations

import os
import sys
import threading
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

    def __init__(self, folder: Path, *, host: str = "127.0.0.1", port: int = 0) -> None:
        if not host.startswith("127.") and host not in ("localhost", "::1"):
            raise UsageError(f"the preview only serves on loopback; {host} is not a loopback address")
        files = {path: (folder / name, kind) for path, (name, kind) in ROUTES.items()}
        missing = [str(p) for p, _ in files.values() if not p.is_file()]
        if missing:
            raise RenderError(f"nothing to preview: {missing[0]} is missing", hint="run `digest issue render` first")

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                route = files.get(self.path.split("?", 1)[0])
                if route is None:
                    self.send_error(HTTPStatus.NOT_FOUND, "not part of this preview")
                    return
                body = route[0].read_bytes()
                self.send_response(HTTPStatus.OK)
                self.send_header("Content-Type", route[1])
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
