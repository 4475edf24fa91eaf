"""What every response and every form shares: security headers, CSRF, the client's address.

CSRF uses the signed double-submit pattern: a random value in an HttpOnly, SameSite=Lax
cookie, and in each form an HMAC of that value under the newsletter's secret. A cross-site
page can make a browser send the cookie but can neither read it nor compute the HMAC. It is
hand-written (a dozen lines on hmac) rather than asgi-csrf because the RFC 8058 one-click
unsubscribe must pass on its body alone (mail providers post it without cookies), which a
middleware that decides before the handler has parsed the body cannot express, and because
a failed check must answer with the app's own friendly page.

The client's address is the socket peer, or the first X-Forwarded-For hop when the peer is
one of `web.trusted_proxies`; it is used for scanner marks and rate limits, never logged.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import secrets
from collections.abc import Iterable

CSRF_COOKIE = "digest_csrf"
CSRF_FIELD = "csrf"
_CSRF_COOKIE_AGE = 30 * 86400

BASE_CSP = ("default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data: https:; "
            "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")


def script_hash(script: str) -> str:
    """The CSP source expression that allows exactly this inline script."""
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def csp_with_script(script: str) -> str:
    return BASE_CSP + "; script-src " + script_hash(script)


def security_headers(*, https: bool) -> list[tuple[bytes, bytes]]:
    headers = [
        (b"content-security-policy", BASE_CSP.encode("ascii")),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"x-frame-options", b"DENY"),
        (b"cross-origin-opener-policy", b"same-origin"),
        (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    ]
    if https:
        headers.append((b"strict-transport-security", b"max-age=31536000"))
    return headers


class SecurityHeaders:
    """Pure ASGI middleware: adds the security headers to every response, errors included.

    A response that set its own Content-Security-Policy (the vote page, with its script's
    hash) keeps it; every other header is added where missing.
    """

    def __init__(self, app, *, https: bool) -> None:  # noqa: ANN001
        self.app = app
        self.headers = security_headers(https=https)

    async def __call__(self, scope, receive, send) -> None:  # noqa: ANN001
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message) -> None:  # noqa: ANN001
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(n, v) for n, v in self.headers if n not in present]
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        await self.app(scope, receive, send_with_headers)


class Csrf:
    """Issues and checks the signed double-submit CSRF tokens."""

    def __init__(self, secret: str) -> None:
        key = hashlib.sha256(b"digest-csrf-v1\x00" + secret.encode("utf-8")).digest()
        self._base = hmac.new(key, digestmod=hashlib.sha256)

    def _sign(self, value: str) -> str:
        mac = self._base.copy()
        mac.update(value.encode("ascii", "replace"))
        return base64.urlsafe_b64encode(mac.digest()[:18]).decode("ascii")

    @staticmethod
    def new_cookie() -> str:
        return secrets.token_urlsafe(16)

    @staticmethod
    def usable_cookie(value: str | None) -> bool:
        return bool(value) and 16 <= len(value) <= 64 and value.isascii()

    def form_token(self, cookie: str) -> str:
        return self._sign(cookie)

    def check(self, cookie: str | None, token: str | None) -> bool:
        """True when the form's token is the signature of the request's cookie."""
        if not self.usable_cookie(cookie) or not token:
            return False
        return hmac.compare_digest(self._sign(cookie), token)

    @staticmethod
    def cookie_header(value: str, *, https: bool) -> str:
        secure = "; Secure" if https else ""
        return f"{CSRF_COOKIE}={value}; Max-Age={_CSRF_COOKIE_AGE}; Path=/; HttpOnly; SameSite=Lax{secure}"


def parse_networks(spec: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """The networks of a comma-separated `web.trusted_proxies` (validated by the settings loader)."""
    return tuple(ipaddress.ip_network(p.strip(), strict=False) for p in spec.split(",") if p.strip())


def client_address(peer: str | None, forwarded_for: str | None,
                   trusted: Iterable[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> str:
    """Who is asking: the socket peer, or the nearest untrusted X-Forwarded-For hop.

    Proxies append to the header, so only its right end is theirs: the hops are read from the
    right, trusted proxies skipped, and the first other address is the client. Anything to its
    left was written by the client and could be forged (a made-up address to dodge a scanner
    mark or a rate limit), so it is never believed.
    """
    peer = peer or "unknown"
    trusted = tuple(trusted)
    if not trusted or not forwarded_for:
        return peer

    def is_trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        return any(address in network for network in trusted)

    try:
        if not is_trusted(ipaddress.ip_address(peer)):
            return peer
    except ValueError:
        return peer
    client = peer
    for hop in reversed(forwarded_for.split(",")):
        try:
            address = ipaddress.ip_address(hop.strip())
        except ValueError:
            return peer
        client = str(address)
        if not is_trusted(address):
            break
    return client
