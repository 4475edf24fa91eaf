"""Client addresses behind proxies, CSRF tokens and rate limits, down to the functions."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from webapp import Site, _site, csrf_of, smtp_inbox  # noqa: F401

from digest.ratelimit import hit
from digest.web.security import Csrf, client_address, parse_networks


def test_client_address_believes_forwarded_for_only_from_trusted_proxies() -> None:
    trusted = parse_networks("10.0.0.0/8, ::1")
    assert client_address("10.1.2.3", "203.0.113.9, 10.1.2.3", trusted) == "203.0.113.9"
    assert client_address("::1", "2001:db8::5", trusted) == "2001:db8::5"
    assert client_address("192.0.2.1", "203.0.113.9", trusted) == "192.0.2.1"  # not a trusted peer
    assert client_address("10.1.2.3", "garbage", trusted) == "10.1.2.3"
    assert client_address("10.1.2.3", None, trusted) == "10.1.2.3"
    assert client_address("10.1.2.3", "203.0.113.9", ()) == "10.1.2.3"
    assert client_address(None, None, trusted) == "unknown"
    # a client that sends its own X-Forwarded-For cannot choose its address: the proxy appends
    # the real one, and only the hops the trusted proxies wrote are believed
    assert client_address("10.1.2.3", "6.6.6.6, 203.0.113.9", trusted) == "203.0.113.9"
    assert client_address("10.1.2.3", "6.6.6.6, 203.0.113.9, 10.9.9.9", trusted) == "203.0.113.9"


def test_csrf_token_is_bound_to_its_cookie_and_secret() -> None:
    csrf = Csrf("secret")
    cookie = csrf.new_cookie()
    token = csrf.form_token(cookie)
    assert csrf.check(cookie, token)
    assert not csrf.check(csrf.new_cookie(), token)
    assert not csrf.check(cookie, Csrf("other").form_token(cookie))
    assert not csrf.check(None, token) and not csrf.check(cookie, None) and not csrf.check("short", token)


def test_rate_limit_slides_across_windows(engine) -> None:
    def go(at: float):  # noqa: ANN202
        with engine.begin() as connection:
            return hit(connection, key="k", limit=2, window=100, now=at)

    assert [go(1000).allowed, go(1010).allowed, go(1020).allowed] == [True, True, False]
    # early in the next window the previous one still weighs in; later it fades out
    assert go(1105).allowed is False
    decision = go(1150)
    assert decision.allowed is False and decision.retry_after >= 1
    assert go(1195).allowed is False  # refused requests count too: hammering keeps it shut
    assert go(1290).allowed is True  # once the old window has faded out
    assert go(5000).allowed is True  # long after: a fresh start, old windows pruned
    with engine.connect() as connection:
        from sqlalchemy import text

        assert connection.execute(text("SELECT count(*) FROM ratecount")).scalar() == 1


@pytest.fixture
def proxied_site(home: Path, smtp_inbox) -> Iterator[Site]:  # noqa: F811
    yield from _site(home, smtp_inbox, web='trusted_proxies = "127.0.0.1"')


def test_behind_a_trusted_proxy_the_forwarded_client_is_the_one_marked(proxied_site) -> None:
    site = proxied_site
    a, b, _ = site.data["readers"]
    c1 = site.data["c1"]
    scanner, person = {"x-forwarded-for": "203.0.113.9"}, {"x-forwarded-for": "198.51.100.7, 127.0.0.1"}
    with site.client() as client:
        client.get("/p/1", headers=scanner)
        for reader, headers in ((a, scanner), (b, person)):
            path = site.vote_path(reader, 1, c1, "a")
            csrf = csrf_of(client.get(path).text)
            assert client.post(path, data={"csrf": csrf}, headers=headers).status_code == 200
    assert site.rows("SELECT subscriber_id FROM vote") == [(b,)]
    assert site.rows("SELECT client, subscriber_id FROM discardedaction") == [("203.0.113.9", a)]
