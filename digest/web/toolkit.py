"""What every route handler shares: the app's state (`Web`), its FastAPI dependencies, form parsing.

Routes (`digest.web.routes_*`) import this module and never the factory (`digest.web.app`),
which imports them: a handler gets the app's state through `WebDep`, never by building it.
Handlers stay thin: verify, call one library function on the store's DB thread, render a
page. GET never changes a vote or a subscriber; only POST acts (the canary, whose purpose is
to be fetched, marks a scanner).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any, Generic, TypeVar

from fastapi import Depends, Path
from starlette.requests import Request as StarletteRequest

from digest.errors import TokenError
from digest.ids import canonical
from digest.links import CONFIRM_PATH, PROOF_SUBSCRIBER_ID, UNSUBSCRIBE_PATH
from digest.tokens import Claims, Purpose, Signer, VoteClaims
from digest.web.pages import Pages
from digest.web.security import CSRF_COOKIE, Csrf, client_address, parse_networks
from digest.web.store import Store, TtlCache

if TYPE_CHECKING:
    from fastapi import Request
    from starlette.responses import Response

    from digest.config import Settings

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


WebDep = Annotated[Web, Depends(web_of)]


# --- signed links ----------------------------------------------------------------------------

C = TypeVar("C", Claims, VoteClaims)


@dataclass(frozen=True)
class SignedLink(Generic[C]):
    """A link from an email whose token verified for its purpose: the token as it came (a page
    posts back to the same address) and what it says."""

    token: str
    claims: C

    @property
    def proof(self) -> bool:
        """A proof's link (signed for `PROOF_SUBSCRIBER_ID`): it belongs to no reader, and the
        handler shows what it would do instead of doing it."""
        return self.claims.subscriber_id == PROOF_SUBSCRIBER_ID


class LinkRefused(Exception):
    """A link's token did not verify; the app answers with `Web.token_error`'s page (400, no-store)."""

    def __init__(self, error: TokenError) -> None:
        super().__init__(error.message)
        self.error = error


def open_link(web: Web, token: str, purpose: Purpose) -> SignedLink:
    """The verified link of `token` for `purpose` (a vote link carries its comparison and choice);
    LinkRefused when it is forged, altered, expired or meant for something else."""
    try:
        if purpose is Purpose.VOTE:
            return SignedLink(token, web.signer.verify_vote(token))
        return SignedLink(token, web.signer.verify(token, purpose=purpose))
    except TokenError as exc:
        raise LinkRefused(exc) from None


def verified_token(purpose: Purpose) -> Callable[..., Any]:
    """The FastAPI dependency that opens the `{token}` of the route's path for `purpose`."""

    async def verified(token: str, request: StarletteRequest) -> SignedLink:
        return open_link(request.app.state.web, token, purpose)

    return verified


VoteLink = Annotated[SignedLink[VoteClaims], Depends(verified_token(Purpose.VOTE))]
ConfirmLink = Annotated[SignedLink[Claims], Depends(verified_token(Purpose.CONFIRM))]
UnsubscribeLink = Annotated[SignedLink[Claims], Depends(verified_token(Purpose.UNSUBSCRIBE))]
