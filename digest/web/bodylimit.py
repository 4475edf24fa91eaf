"""A cap on request bodies, enforced while they stream, on every route.

Every request the app takes (a vote, an unsubscribe, a sign-up) has a body of a few hundred
bytes, yet a handler that reads its body would otherwise buffer whatever a client sends: a
300 MB POST to a vote link grew the server by the same again. This pure ASGI middleware
answers 413 before reading anything when Content-Length is over the limit, and counts a
chunked body as it arrives, stopping the handler that reads it at the first chunk past the
limit. The server's memory for a request body is therefore bounded by the limit plus one chunk,
whatever the client sends.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.exceptions import HTTPException

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class BodyTooLarge(HTTPException):
    """Raised inside a handler that reads more than the limit; the app answers it with 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=f"request body over {limit} bytes",
                         headers={"connection": "close"})


class BodyLimit:
    """Refuses request bodies larger than `limit` bytes with `page` (HTML) and status 413."""

    def __init__(self, app: Callable[..., Awaitable[None]], *, limit: int, page: bytes) -> None:
        self.app = app
        self.limit = limit
        self.page = page

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.limit:
            await self._refuse(send)
            return
        seen = 0
        started = False

        async def counted() -> dict[str, Any]:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise BodyTooLarge(self.limit)
            return message

        async def watched(message: dict[str, Any]) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge:
            # only when raised outside the app's own error handling (which answers it itself)
            if started:
                raise
            await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"text/html; charset=utf-8"),
                                (b"content-length", str(len(self.page)).encode("ascii")),
                                (b"cache-control", b"no-store"), (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": self.page})


def _content_length(scope: dict[str, Any]) -> int | None:
    """The declared body length; None when absent (chunked) or unreadable (the server refuses those)."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            text = value.strip()
            if not text.isdigit():
                return None
            return int(text) if len(text) <= 18 else 10**18
    return None
