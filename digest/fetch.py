"""Fetch: many feeds at once over HTTP, politely, with conditional GET.

`fetch_all` runs on asyncio with httpx: a global limit on requests in flight, a per-host
limit (a host never sees more than `per_host` of our requests at once), a deadline
per feed covering connect, headers and the whole body, a cap on the body enforced while
streaming, both on the wire and once decoded (gzip and deflate are inflated here in bounded
steps, so a compression bomb costs at most the cap; see `Inflater`), and
ETag / Last-Modified so an unchanged feed costs a 304.

Redirects are followed by hand (at most five) so the caller learns whether the whole chain
was permanent (301/308: the stored URL should change) or not (302/303/307: it should not).

Nothing here raises for a single feed's trouble: every outcome, network errors included, is a
FetchResult, so one feed's failure never stops the others.
"""

from __future__ import annotations

import asyncio
import email.utils
import os
import time
import zlib
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

if TYPE_CHECKING:
    import httpx

MAX_REDIRECTS = 5
ACCEPT_ENCODING = "gzip, deflate"  # what Inflater can undo, one layer
ACCEPT = ("application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
          "application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5")


@dataclass(frozen=True)
class FetchRequest:
    name: str
    url: str
    etag: str | None = None
    last_modified: str | None = None


@dataclass
class FetchResult:
    """What one feed's request came to; `error` is set for every failure."""

    name: str
    url: str  # the URL asked for
    status: int | None = None  # the final HTTP status, None when no response came
    body: bytes = b""
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    final_url: str | None = None  # where the body came from, after redirects
    permanent_redirect: bool = False  # every hop was 301/308: store final_url
    error: str | None = None
    retry_after: float | None = None  # seconds, from a Retry-After header
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None and self.status is not None and (self.status == 304 or 200 <= self.status < 300)

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class Clients:
    """One small httpx client and one semaphore per (scheme, host).

    A host never sees more than `per_host` of our requests at once, and each client's pool
    only ever holds that host's few connections (one shared pool of hundreds makes httpcore
    scan every connection on every request). https clients share one verifying SSL context,
    created on first use; http clients get a context that trusts nothing, so they could
    never fetch https unverified.
    """

    def __init__(self, *, per_host: int, timeout: float, user_agent: str, transport: Any = None) -> None:
        self.per_host = per_host
        self.timeout = timeout
        self.user_agent = user_agent
        self.transport = transport
        self._clients: dict[tuple[str, str], tuple[httpx.AsyncClient, asyncio.Semaphore]] = {}
        self._verified: Any = None
        # proxy settings come from the environment; without any, skip httpx's lookup per client
        self._trust_env = any(name.lower().endswith("_proxy") for name in os.environ)

    def _context(self, scheme: str) -> Any:
        import ssl

        if scheme != "https":
            return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # no CA loaded: verifies nothing
        if self._verified is None:
            import certifi

            self._verified = ssl.create_default_context(cafile=certifi.where())
        return self._verified

    def __call__(self, url: str) -> tuple[httpx.AsyncClient, asyncio.Semaphore]:
        parts = urlsplit(url)
        key = (parts.scheme, (parts.hostname or "").lower())
        found = self._clients.get(key)
        if found is None:
            import httpx

            client = httpx.AsyncClient(
                timeout=httpx.Timeout(self.timeout),
                limits=httpx.Limits(max_connections=self.per_host, max_keepalive_connections=self.per_host),
                headers={"User-Agent": self.user_agent, "Accept": ACCEPT, "Accept-Encoding": ACCEPT_ENCODING},
                follow_redirects=False, verify=self._context(parts.scheme), transport=self.transport,
                trust_env=self._trust_env)
            found = self._clients[key] = (client, asyncio.Semaphore(self.per_host))
        return found

    async def aclose(self) -> None:
        for client, _ in self._clients.values():
            await client.aclose()
        self._clients.clear()


async def fetch_one(clients: Clients, request: FetchRequest, *, timeout: float,
                    max_bytes: int) -> FetchResult:
    """Fetch one feed; every failure is returned in the result, never raised."""
    import httpx

    started = time.monotonic()
    result = FetchResult(name=request.name, url=request.url)
    try:
        async with asyncio.timeout(timeout):
            await _follow(clients, request, result, max_bytes=max_bytes)
    except TimeoutError:
        result.error = f"timed out after {timeout:g}s"
    except httpx.TimeoutException:
        result.error = f"timed out after {timeout:g}s"
    except httpx.ConnectError as exc:
        result.error = f"cannot connect: {_reason(exc)}"
    except httpx.HTTPError as exc:
        result.error = f"{type(exc).__name__}: {_reason(exc)}"
    except UnsupportedEncoding as exc:
        result.error = str(exc)
    except zlib.error as exc:
        result.error = f"the body's compression is broken: {_reason(exc)}"
    except Exception as exc:  # noqa: BLE001 - one feed's surprise must not stop the poll
        result.error = f"{type(exc).__name__}: {_reason(exc)}"
    if result.error:
        result.body = b""
    result.elapsed = time.monotonic() - started
    return result


async def _follow(clients: Clients, request: FetchRequest, result: FetchResult, *,
                  max_bytes: int) -> None:
    headers = {}
    if request.etag:
        headers["If-None-Match"] = request.etag
    if request.last_modified:
        headers["If-Modified-Since"] = request.last_modified
    url = request.url
    permanent = True
    for _hop in range(MAX_REDIRECTS + 1):
        client, host_slots = clients(url)
        async with host_slots:
            async with client.stream("GET", url, headers=headers) as response:
                status = response.status_code
                location = response.headers.get("location")
                if status in (301, 302, 303, 307, 308) and location:
                    target = urljoin(url, location.strip())
                    if urlsplit(target).scheme not in ("http", "https"):
                        result.status = status
                        result.error = f"HTTP {status} redirect to a non-http URL"
                        return
                    permanent = permanent and status in (301, 308)
                    url = target
                    continue
                result.status = status
                result.final_url = url
                result.permanent_redirect = permanent and url != request.url
                if status == 304:
                    return
                if not 200 <= status < 300:
                    result.error = f"HTTP {status}" + (f" {response.reason_phrase}" if response.reason_phrase else "")
                    result.retry_after = retry_after_seconds(response.headers.get("retry-after"))
                    return
                result.etag = response.headers.get("etag")
                result.last_modified = response.headers.get("last-modified")
                result.content_type = response.headers.get("content-type")
                result.body = await _read_capped(response, max_bytes)
                if result.body is None:
                    result.body = b""
                    result.error = f"body larger than {max_bytes} bytes" + (
                        " once decompressed" if response.headers.get("content-encoding") else "")
                return
    result.error = f"more than {MAX_REDIRECTS} redirects"


async def _read_capped(response: httpx.Response, max_bytes: int) -> bytes | None:
    """The decoded body, or None as soon as it passes `max_bytes` on the wire or once decoded.

    Raises UnsupportedEncoding for a Content-Encoding other than gzip or deflate (one layer)
    and zlib.error for a broken stream: both end up as the feed's error.
    """
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        return None
    inflater = Inflater(response.headers.get("content-encoding"), max_bytes)
    chunks: list[bytes] = []
    wire = 0
    try:
        async for chunk in response.aiter_raw():
            wire += len(chunk)
            if wire > max_bytes:
                return None
            chunks.append(inflater.feed(chunk))
        chunks.append(inflater.finish())
    except BodyTooLarge:
        return None
    return b"".join(chunks)


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:200] or type(exc).__name__


def interleave_hosts(requests: Iterable[FetchRequest]) -> list[FetchRequest]:
    """Requests in round-robin order over their hosts, so that feeds waiting for a busy host
    do not hold the global slots that other hosts could use."""
    by_host: dict[str, list[FetchRequest]] = {}
    for request in requests:
        by_host.setdefault((urlsplit(request.url).hostname or "").lower(), []).append(request)
    queues = list(by_host.values())
    ordered: list[FetchRequest] = []
    for index in range(max((len(q) for q in queues), default=0)):
        ordered.extend(q[index] for q in queues if index < len(q))
    return ordered


async def fetch_all(requests: Iterable[FetchRequest], *, concurrency: int, per_host: int,
                    timeout: float, max_bytes: int, user_agent: str,
                    on_result: Callable[[FetchResult], Awaitable[None]],
                    transport: Any = None) -> None:
    """Fetch every request concurrently and await `on_result` for each as it completes.

    `on_result` runs on the event loop; an exception it raises stops the whole run (it is the
    caller's own bug or a database failure, not a feed's).
    """
    limit = asyncio.Semaphore(concurrency)
    clients = Clients(per_host=per_host, timeout=timeout, user_agent=user_agent, transport=transport)

    async def one(request: FetchRequest) -> None:
        async with limit:
            result = await fetch_one(clients, request, timeout=timeout, max_bytes=max_bytes)
        await on_result(result)

    tasks = [asyncio.create_task(one(request)) for request in interleave_hosts(requests)]
    try:
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        await clients.aclose()


# --- bounded decoding ---------------------------------------------------------------------------

_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


class BodyTooLarge(Exception):
    """The body, decoded, passed the cap."""


class UnsupportedEncoding(Exception):
    """A Content-Encoding digest did not ask for."""


class Inflater:
    """A body's Content-Encoding (gzip or deflate, one layer) undone in steps that never hold
    more than `limit` decoded bytes, so a compression bomb costs at most `limit` of memory:
    zlib is asked for at most the room left each time, and the rest of the input waits.

    httpx's own decoders inflate each network chunk whole (a 64 KB chunk of a bomb is 64 MB,
    and `gzip, gzip` multiplies that again), which is why digest reads raw bytes and decodes here.
    """

    def __init__(self, content_encoding: str | None, limit: int) -> None:
        encoding = (content_encoding or "").strip().lower()
        if encoding in ("", "identity"):
            self._zlib = None
        elif encoding in _WBITS:
            self._zlib = zlib.decompressobj(_WBITS[encoding])
        else:
            raise UnsupportedEncoding(f"unsupported Content-Encoding {content_encoding!r}")
        self.encoding = encoding
        self.limit = limit
        self.size = 0
        self._started = False

    def feed(self, data: bytes) -> bytes:
        """The decoded bytes of `data`; BodyTooLarge once the total passes the limit, zlib.error
        for a broken stream."""
        if self._zlib is None:
            return self._count(data)
        parts = []
        while data:
            try:
                out = self._zlib.decompress(data, self._room())
            except zlib.error:
                if self.encoding == "deflate" and not self._started:  # raw deflate, no zlib header
                    self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
                    self._started = True
                    continue
                raise
            self._started = True
            parts.append(self._count(out))
            data = self._zlib.unconsumed_tail
            if self._zlib.eof:
                data = self._zlib.unused_data
                if not data or self.encoding == "deflate":
                    break
                self._zlib = zlib.decompressobj(_WBITS[self.encoding])  # another gzip member
        return b"".join(parts)

    def finish(self) -> bytes:
        """Whatever zlib still holds after the last chunk, within the limit."""
        parts = []
        while self._zlib is not None and not self._zlib.eof and (out := self._zlib.decompress(b"", self._room())):
            parts.append(self._count(out))
        return b"".join(parts)

    def _room(self) -> int:
        return self.limit - self.size + 1  # one byte more than fits tells "too large"

    def _count(self, out: bytes) -> bytes:
        self.size += len(out)
        if self.size > self.limit:
            raise BodyTooLarge
        return out
