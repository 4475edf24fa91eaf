"""The app factory: `create_app` puts the routes, error pages and middleware around one `Web`.

What the handlers share lives in `digest.web.toolkit`; this module imports the routes, and
no route imports it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from starlette.requests import Request as StarletteRequest

from digest.tokens import Signer
from digest.web.bodylimit import BodyLimit
from digest.web.pages import Pages
from digest.web.security import Csrf, SecurityHeaders
from digest.web.store import Store, TtlCache
from digest.web.toolkit import NO_STORE, LinkRefused, Web

if TYPE_CHECKING:
    from fastapi import FastAPI, Request
    from starlette.responses import Response

    from digest.config import Settings

log = logging.getLogger("digest.web")
access_log = logging.getLogger("digest.web.access")
TOO_LARGE = ("That is more than this site takes",
             "Forms here are a few lines long; this request sent far more, so it was refused unread.")


def _web(request: StarletteRequest) -> Web:
    return request.app.state.web


class RequestLog:
    """Logs method, route template, status and time: never the path (tokens), never the client."""

    def __init__(self, app) -> None:  # noqa: ANN001
        self.app = app

    async def __call__(self, scope, receive, send) -> None:  # noqa: ANN001
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]

        async def capture(message) -> None:  # noqa: ANN001
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            if access_log.isEnabledFor(logging.INFO):
                route = scope.get("route")
                template = getattr(route, "path", None) or "(no route)"
                access_log.info("%s %s %d %.1fms", scope.get("method"), template, status[0],
                                (time.perf_counter() - started) * 1000)


class HeadAsGet:
    """Answers HEAD wherever GET is served, as HTTP requires (monitors, link checkers and
    scanners send it): the GET handler runs, and the response goes out with its headers and
    without its body. FastAPI routes declared with GET alone would answer 405."""

    def __init__(self, app) -> None:  # noqa: ANN001
        self.app = app

    async def __call__(self, scope, receive, send) -> None:  # noqa: ANN001
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        inner = {**scope, "method": "GET"}

        async def headers_only(message) -> None:  # noqa: ANN001
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        try:
            await self.app(inner, receive, headers_only)
        finally:
            if "route" in inner:
                scope["route"] = inner["route"]  # for the request log


def create_app(settings: Settings, *, mailer: Callable[..., None] | None = None, figures_ttl: float = 1.0,
               page_ttl: float = 30.0):  # noqa: ANN201
    """The ASGI app for `settings`: security headers and request logs around the FastAPI app.

    `figures_ttl` bounds how stale the vote page's community split may be (a recount per
    comparison at most that often keeps the vote hot path flat); `page_ttl` the same for the
    archive's pages and feed. Raises DatabaseError when the database is missing or old.
    """
    from contextlib import asynccontextmanager

    from fastapi import FastAPI

    from digest.db import open_database
    from digest.config import require_secret_key
    from digest.bounces.webhooks import SnsVerifier
    from digest.web import routes_archive, routes_subscription, routes_votes, routes_webhooks
    from digest.web.mail import send_confirmation

    require_secret_key(settings)
    engine = open_database(settings)
    pages = Pages(settings)
    store = Store(engine, threads=settings.database.pool_size)
    web = Web(settings=settings, store=store, pages=pages, signer=Signer(settings.secret_key),
              csrf=Csrf(settings.secret_key),
              mailer=mailer or (lambda *, to, link, unsubscribe: send_confirmation(settings, pages, to=to, link=link,
                                                                                   unsubscribe=unsubscribe)),
              figures=TtlCache(figures_ttl), issue_pages=TtlCache(page_ttl))

    @asynccontextmanager
    async def lifespan(_app: FastAPI):  # noqa: ANN202
        import gc

        gc.collect()
        gc.freeze()  # start-up objects (templates, routes, modules) leave the GC's scans: shorter pauses
        yield
        store.close()

    app = FastAPI(title=settings.name, version="1", docs_url=None, redoc_url=None, lifespan=lifespan)
    app.state.web = web
    _error_pages(app)
    app.state.sns = SnsVerifier(settings.bounces, cert_file=_sns_cert(settings))
    for module in (routes_votes, routes_subscription, routes_archive, routes_webhooks):
        app.include_router(module.router)
    limit = settings.web.max_body_bytes
    wrapped = SecurityHeaders(RequestLog(BodyLimit(HeadAsGet(app), limit=limit,
                                                   page=pages.render("site/message.html", heading=TOO_LARGE[0],
                                                                     lines=TOO_LARGE[1:], link=None).encode())),
                              https=web.https)
    wrapped.fastapi = app  # type: ignore[attr-defined]
    return wrapped


def _sns_cert(settings: Settings) -> bytes | None:
    """The PEM of `[bounces] sns_cert_file`, when set (SNS certificates are then never fetched)."""
    from digest.errors import ConfigError

    if not settings.bounces.sns_cert_file:
        return None
    try:
        return (settings.home / settings.bounces.sns_cert_file).read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read the SNS certificate: {exc.strerror}", key="bounces.sns_cert_file") from None


def _error_pages(app: FastAPI) -> None:
    from fastapi.exceptions import RequestValidationError
    from starlette.exceptions import HTTPException

    import sqlite3

    from sqlalchemy.exc import OperationalError

    from digest.errors import DatabaseError

    async def http_error(request: Request, exc: HTTPException) -> Response:
        web = _web(request)
        if exc.status_code == 404:
            return web.message("Nothing here", "There is no page at this address.", status=404,
                               link=("/issues/", "See every issue"))
        if exc.status_code == 413:
            return web.message(*TOO_LARGE, status=413, headers={**NO_STORE, "connection": "close"})
        return web.message("That did not work", exc.detail if isinstance(exc.detail, str) else "",
                           status=exc.status_code, headers=getattr(exc, "headers", None))

    async def refused_link(request: Request, exc: LinkRefused) -> Response:
        return _web(request).token_error(exc.error)

    async def bad_request(request: Request, exc: RequestValidationError) -> Response:
        return _web(request).message("That did not work",
                                       "The request was incomplete or malformed.", status=400)

    async def database_down(request: Request, exc: Exception) -> Response:
        log.error("database error: %s", getattr(exc, "message", None) or type(exc).__name__)
        return _web(request).message("Back in a moment", "The site cannot reach its database just now.",
                                       status=503, headers={"retry-after": "30"})

    async def internal(request: Request, exc: Exception) -> Response:
        log.error("internal error: %s", type(exc).__name__)
        return _web(request).message("Something went wrong on our side",
                                       "It has been logged. Please try again in a moment.", status=500)

    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(LinkRefused, refused_link)
    app.add_exception_handler(RequestValidationError, bad_request)
    app.add_exception_handler(DatabaseError, database_down)
    app.add_exception_handler(OperationalError, database_down)
    app.add_exception_handler(sqlite3.OperationalError, database_down)
    app.add_exception_handler(Exception, internal)
