"""Fetching over real HTTP on 127.0.0.1: conditional GET, redirects, errors, limits, gzip."""

from __future__ import annotations

import asyncio
import gzip
import zlib

import pytest
from feedserver import FeedServer, item, rss

from digest.fetch import (
    BodyTooLarge,
    FetchRequest,
    FetchResult,
    Inflater,
    UnsupportedEncoding,
    fetch_all,
    retry_after_seconds,
)

BODY = rss(item("Fetched – over HTTP", "https://fetched.example/", "f1"))


def fetch(requests: list[FetchRequest], **options) -> dict[str, FetchResult]:
    settings = {"concurrency": 8, "per_host": 4, "timeout": 5.0, "max_bytes": 1_000_000,
                "user_agent": "digest-test"} | options
    results: dict[str, FetchResult] = {}

    async def collect(result: FetchResult) -> None:
        results[result.name] = result

    asyncio.run(fetch_all(requests, on_result=collect, **settings))
    return results


def test_etag_and_last_modified_are_sent_back_and_answered_with_304(feed_server: FeedServer) -> None:
    url = feed_server.route("/f.xml", body=BODY, etag='"v1"', last_modified="Mon, 23 Nov 2026 09:00:00 GMT")
    first = fetch([FetchRequest("f", url)])["f"]
    assert (first.status, first.body, first.etag, first.last_modified) == (
        200, BODY, '"v1"', "Mon, 23 Nov 2026 09:00:00 GMT")
    again = fetch([FetchRequest("f", url, etag=first.etag)])["f"]
    assert again.ok and again.not_modified and again.body == b""
    assert feed_server.hits("/f.xml")[-1].headers["if-none-match"] == '"v1"'
    by_date = fetch([FetchRequest("f", url, last_modified=first.last_modified)])["f"]
    assert by_date.status == 304
    assert feed_server.hits("/f.xml")[-1].headers["if-modified-since"] == first.last_modified


def test_only_a_wholly_permanent_redirect_chain_moves_the_feed(feed_server: FeedServer) -> None:
    final = feed_server.route("/new.xml", body=BODY)
    feed_server.route("/moved", status=301, location="/new.xml")
    feed_server.route("/moved308", status=308, location=final)
    feed_server.route("/temp", status=302, location="/new.xml")
    feed_server.route("/chain", status=301, location="/temp")
    results = fetch([FetchRequest(n, feed_server.url(p)) for n, p in
                     [("moved", "/moved"), ("moved308", "/moved308"), ("temp", "/temp"), ("chain", "/chain")]])
    assert all(r.status == 200 and r.body == BODY and r.final_url == final for r in results.values())
    assert {n: r.permanent_redirect for n, r in results.items()} == {
        "moved": True, "moved308": True, "temp": False, "chain": False}


def test_redirect_loops_and_non_http_targets_are_errors(feed_server: FeedServer) -> None:
    feed_server.route("/loop", status=301, location="/loop")
    feed_server.route("/ftp", status=301, location="ftp://files.example/feed")
    results = fetch([FetchRequest("loop", feed_server.url("/loop")), FetchRequest("ftp", feed_server.url("/ftp"))])
    assert results["loop"].error == "more than 5 redirects"
    assert "non-http" in results["ftp"].error


@pytest.mark.parametrize(("status", "retry_after", "wait"), [(404, None, None), (410, None, None),
                                                              (500, None, None), (503, "120", 120.0),
                                                              (429, "7", 7.0)])
def test_error_statuses_are_results_not_exceptions(feed_server: FeedServer, status: int,
                                                   retry_after: str | None, wait: float | None) -> None:
    url = feed_server.route("/e", status=status, body=b"nope", retry_after=retry_after)
    result = fetch([FetchRequest("e", url)])["e"]
    assert (result.status, result.ok, result.retry_after, result.body) == (status, False, wait, b"")
    assert result.error.startswith(f"HTTP {status}")


def test_retry_after_as_an_http_date() -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    assert retry_after_seconds("Mon, 30 Nov 2026 12:10:00 GMT", now=now) == 600
    assert retry_after_seconds("soon", now=now) is None


def test_a_response_slower_than_the_timeout_fails_only_that_feed(feed_server: FeedServer) -> None:
    slow = feed_server.route("/slow", body=BODY, delay=10)
    fast = feed_server.route("/fast", body=BODY)
    results = fetch([FetchRequest("slow", slow), FetchRequest("fast", fast)], timeout=0.5)
    assert results["slow"].error == "timed out after 0.5s" and results["slow"].status is None
    assert results["fast"].ok and results["fast"].body == BODY


def test_a_body_over_the_cap_is_refused_while_streaming(feed_server: FeedServer) -> None:
    big = rss(*(item(f"Tool{i} – padding {'x' * 200}", f"https://t{i}.example/", f"g{i}") for i in range(200)))
    declared = feed_server.route("/big", body=big)
    streamed = feed_server.route("/streamed", body=big, chunked=True)
    bomb = feed_server.route("/gzbomb", body=b"<rss>" + b" " * 3_000_000 + b"</rss>", gzip=True)
    results = fetch([FetchRequest(n, u) for n, u in [("big", declared), ("streamed", streamed), ("bomb", bomb)]],
                    max_bytes=20_000)
    for name, result in results.items():
        suffix = " once decompressed" if name == "bomb" else ""
        assert result.error == "body larger than 20000 bytes" + suffix and result.body == b""


def test_gzip_is_asked_for_and_decoded(feed_server: FeedServer) -> None:
    url = feed_server.route("/gz", body=BODY, gzip=True)
    result = fetch([FetchRequest("gz", url)])["gz"]
    assert result.body == BODY
    assert "gzip" in feed_server.hits("/gz")[0].headers["accept-encoding"]


def test_unreachable_host_is_a_result(feed_server: FeedServer) -> None:
    closed = FeedServer()
    url = closed.url("/gone")
    closed.close()
    result = fetch([FetchRequest("down", url)])["down"]
    assert result.error.startswith("cannot connect")


def test_per_host_limit_bounds_requests_in_flight(feed_server: FeedServer) -> None:
    urls = [feed_server.route(f"/p{i}", body=BODY, delay=0.15) for i in range(8)]
    results = fetch([FetchRequest(f"p{i}", u) for i, u in enumerate(urls)], concurrency=8, per_host=2)
    assert all(r.ok for r in results.values())
    assert feed_server.max_in_flight == 2
    assert all(seen.headers["user-agent"] == "digest-test" for seen in feed_server.requests)


@pytest.mark.parametrize("encoding", ["gzip", "x-gzip", "deflate", "raw-deflate", "identity", None])
def test_the_inflater_undoes_each_encoding_it_asks_for(encoding: str | None) -> None:
    compress = {"gzip": gzip.compress, "x-gzip": gzip.compress, "deflate": zlib.compress,
                "raw-deflate": lambda data: zlib.compress(data, wbits=-zlib.MAX_WBITS)}.get(encoding, lambda d: d)
    wire = compress(BODY)
    inflater = Inflater("deflate" if encoding == "raw-deflate" else encoding, 10_000)
    decoded = b"".join(inflater.feed(wire[i:i + 7]) for i in range(0, len(wire), 7)) + inflater.finish()
    assert decoded == BODY


def test_the_inflater_reads_every_gzip_member() -> None:
    inflater = Inflater("gzip", 10_000)
    assert inflater.feed(gzip.compress(b"one ") + gzip.compress(b"two")) + inflater.finish() == b"one two"


def test_the_inflater_stops_a_bomb_at_the_limit() -> None:
    bomb = gzip.compress(bytes(50_000_000), 9)  # 50 KB that inflate to 50 MB
    inflater = Inflater("gzip", 1_000_000)
    with pytest.raises(BodyTooLarge):
        inflater.feed(bomb)
    assert inflater.size <= 1_000_001  # never held more than one byte past the limit


@pytest.mark.parametrize("encoding", ["gzip, gzip", "br", "zstd", "compress"])
def test_an_encoding_digest_did_not_ask_for_is_refused(encoding: str) -> None:
    with pytest.raises(UnsupportedEncoding, match="unsupported Content-Encoding"):
        Inflater(encoding, 1000)
