"""The web app: what every handler shares (`Web`), the app factory, error pages, request logs.

Handlers live in `digest.web.routes_*` and stay thin: verify, call one library function on
the store's DB thread, render a page. GET never changes a vote or a subscriber; only POST acts
(the canary, whose purpose is to be fetched, marks a scanner).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Path

from starlette.requests import Request as StarletteRequest

from digest.ids import canonical
from digest.links import CONFIRM_PATH, UNSUBSCRIBE_PATH
from digest.tokens import Purpose, Signer
from digest.web.bodylimit import BodyLimit
from digest.web.pages import Pages
from digest.web.security import (CSRF_COOKIE, Csrf, SecurityHeaders, client_address, parse_networks)
from digest.web.store import Store, TtlCache

if TYPE_CHECKING:
    from fastapi import FastAPI, Request
    from starlette.responses import Response

    from digest.config import Settings
    from digest.errors import TokenError

log = logging.getLogger("digest.web")
access_log = logging.getLogger("digest.web.access")

_TOKEN_LINES = {
    "expired": "This link has expired. Links in older emails stop working after a while; the newest issue has fresh ones.",
    "wrong-purpose": "This link is meant for something else. Please use the link exactly as it came in the email.",
    "invalid": "This link is not valid: it may have been cut short or altered on the way. Please use the link exactly as it came in the email.",
}


@dataclass
class Web:
    """The app's shared state, built once per worker."""

    settings: Settings
    store: Store
    pages: Pages
    signer: Signer
    csrf: Csrf
    mailer: Callable[..., None]
    figures: TtlCache
    issue_pages: TtlCache
    vote_targets: dict[tuple[int, int], Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.https = self.settings.base_url.startswith("https://")
        self.trusted = parse_networks(self.settings.web.trusted_proxies)
        self._rate_key = hashlib.sha256(b"digest-rate-keys\x00" + self.settings.secret_key.encode()).digest()
        self.scanner_window = timedelta(seconds=self.settings.web.scanner_window)

    # --- who is asking -------------------------------------------------------------------

    def client(self, request: Request) -> str:
        peer = request.client.host if request.client else None
        return client_address(peer, request.headers.get("x-forwarded-for"), self.trusted)

    def rate_key(self, action: str, client: str) -> str:
        """A rate-limit key that does not store the client's address in the clear."""
        digest = hmac.new(self._rate_key, client.encode(), hashlib.sha256).hexdigest()[:32]
        return f"{action}:{digest}"

    # --- links ---------------------------------------------------------------------------

    def confirm_link(self, subscriber_id: int, *, now: datetime | None = None) -> str:
        """A confirmation link that remembers when it was requested (to the minute)."""
        now = now or datetime.now(UTC)
        token = self.signer.sign(Purpose.CONFIRM, subscriber_id, subject_id=int(now.timestamp() // 60), now=now)
        return self.settings.base_url + CONFIRM_PATH.format(token=token)

    def unsubscribe_link(self, subscriber_id: int) -> str:
        """The subscriber's one-click unsubscribe link, as issues carry it (it never expires)."""
        return self.settings.base_url + UNSUBSCRIBE_PATH.format(token=self.signer.sign(Purpose.UNSUBSCRIBE,
                                                                                        subscriber_id))

    def web_token_ok(self, token: str, number: int) -> bool:
        """Whether `token` is the signed web-version token of issue `number` (see links.web_version_url)."""
        from digest.errors import TokenError

        if len(token) > 64:
            return False
        try:
            return self.signer.verify(token, purpose=Purpose.WEB).subject_id == number
        except TokenError:
            return False

    # --- responses -----------------------------------------------------------------------

    def html(self, body: str, *, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        from starlette.responses import HTMLResponse

        return HTMLResponse(body, status_code=status, headers=headers)

    def page(self, template: str, /, *, status: int = 200, headers: dict[str, str] | None = None,
             **context: Any) -> Response:
        return self.html(self.pages.render(template, **context), status=status, headers=headers)

    def message(self, heading: str, *lines: str, status: int = 200, link: tuple[str, str] | None = None,
                headers: dict[str, str] | None = None) -> Response:
        target = {"href": link[0], "text": link[1]} if link else None
        return self.page("site/message.html", status=status, headers=headers, heading=heading,
                         lines=lines, link=target)

    def form_page(self, request: Request, template: str, /, *, status: int = 200,
                  headers: dict[str, str] | None = None, **context: Any) -> Response:
        """A page with a form: the form carries the CSRF token of the request's cookie
        (a new cookie is set when the request has none)."""
        cookie = request.cookies.get(CSRF_COOKIE)
        fresh = not self.csrf.usable_cookie(cookie)
        if fresh:
            cookie = self.csrf.new_cookie()
        response = self.page(template, status=status, headers=headers, csrf=self.csrf.form_token(cookie), **context)
        if fresh:
            response.headers.append("set-cookie", self.csrf.cookie_header(cookie, https=self.https))
        return response

    def csrf_ok(self, request: Request, token: str | None) -> bool:
        return self.csrf.check(request.cookies.get(CSRF_COOKIE), token)

    def csrf_failed(self) -> Response:
        return self.message("Please try that again",
                            "This form was open too long, or your browser did not send back the cookie "
                            "this site sets to protect its forms. Go back, reload the page and press the button again.",
                            status=403, headers=NO_STORE)

    def token_error(self, exc: TokenError) -> Response:
        return self.message("This link does not work", _TOKEN_LINES.get(exc.reason, _TOKEN_LINES["invalid"]),
                            status=400, headers=NO_STORE, link=("/", "Go to the front page"))


NO_STORE = {"cache-control": "no-store"}
TOO_LARGE = ("That is more than this site takes",
             "Forms here are a few lines long; this request sent far more, so it was refused unread.")


async def _issue_number(number: Annotated[str, Path(description="An issue number: ASCII digits, no sign or leading zero")]) -> int:
    """The issue number in a URL, read by `digest.ids.canonical`: one spelling per issue, so
    `/issues/+1`, `/issues/01` or `/issues/1.0` are no page at all (404), not issue 1 again."""
    from starlette.exceptions import HTTPException

    value = canonical(number)
    if value is None:
        raise HTTPException(status_code=404)
    return value


IssueNumber = Annotated[int, Depends(_issue_number)]
MAX_FORM_BYTES = 64 * 1024


async def form_fields(request: Request) -> dict[str, str]:
    """A small urlencoded form's fields (first value of each), parsed without python-multipart's
    overhead; other content types go through Starlette's parser. Oversized bodies give {}."""
    from urllib.parse import parse_qsl

    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if kind in ("", "application/x-www-form-urlencoded"):
        body = await request.body()
        if len(body) > MAX_FORM_BYTES:
            return {}
        fields: dict[str, str] = {}
        for key, value in parse_qsl(body.decode("latin-1"), keep_blank_values=True):
            fields.setdefault(key, value)
        return fields
    form = await request.form(max_files=0, max_fields=20)
    return {key: value for key, value in form.items() if isinstance(value, str)}


def form_schema(*fields: str) -> dict:
    """OpenAPI `requestBody` for a handler that reads its form with `form_fields`."""
    properties = {name: {"type": "string"} for name in fields}
    return {"requestBody": {"content": {"application/x-www-form-urlencoded": {
        "schema": {"type": "object", "properties": properties}}}}}


async def web_of(request: StarletteRequest) -> Web:
    """The FastAPI dependency that hands a handler the app's shared state (async: a sync
    dependency would cost a thread hop per request)."""
    return request.app.state.web


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
    from digest.web import routes_archive, routes_audience, routes_votes, routes_webhooks
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
    for module in (routes_votes, routes_audience, routes_archive, routes_webhooks):
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
    app.add_exception_handler(RequestValidationError, bad_request)
    app.add_exception_handler(DatabaseError, database_down)
    app.add_exception_handler(OperationalError, database_down)
    app.add_exception_handler(sqlite3.OperationalError, database_down)
    app.add_exception_handler(Exception, internal)
