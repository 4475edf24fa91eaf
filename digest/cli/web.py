"""`digest serve`: run the web app (votes, unsubscribe, sign-up, archive)."""

from __future__ import annotations

from typing import Optional

import typer

from digest.cli.context import app_context
from digest.cli.output import say


def serve(
    ctx: typer.Context,
    host: Optional[str] = typer.Option(None, "--host", help="Address to listen on (default: web.host)."),
    port: Optional[int] = typer.Option(None, "--port", min=0, max=65535, help="Port to listen on (default: web.port)."),
) -> None:
    """Run the web app until stopped: vote and unsubscribe links land here, and the archive lives here.

    One uvicorn worker; put a reverse proxy in front for TLS and list it in web.trusted_proxies.

    Example: digest serve --host 0.0.0.0 --port 8000
    """
    from digest.web import serve as run

    import logging

    state = app_context(ctx)
    state.engine  # noqa: B018  (fails early, with one line, on a missing or old database)
    if not state.quiet:
        logging.getLogger("digest.web").setLevel(logging.INFO)  # request logs: route, status, time
    run(state.settings, host=host, port=port, log_level="warning" if state.quiet else "info",
        on_listening=lambda url: say(ctx, f"serving on {url} (Ctrl-C to stop)", note=True))


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
