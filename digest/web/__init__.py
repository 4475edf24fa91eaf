"""The web app: scanner-proof votes, one-click unsubscribe, double opt-in sign-up, the archive.

`create_app(settings)` builds the ASGI app; `serve(settings, host=, port=)` runs it with uvicorn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from digest.config import Settings


def create_app(settings: Settings, **options):  # noqa: ANN003, ANN201
    from digest.web.app import create_app as build

    return build(settings, **options)


def serve(settings: Settings, *, host: str | None = None, port: int | None = None, log_level: str = "info") -> None:
    """Run the app with uvicorn until stopped. Access logs are the app's own (no addresses, no tokens)."""
    import uvicorn

    app = create_app(settings)
    uvicorn.run(app, host=host or settings.web.host, port=settings.web.port if port is None else port,
                access_log=False, proxy_headers=False, server_header=False, log_level=log_level)


__all__ = ["create_app", "serve"]
