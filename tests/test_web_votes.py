"""Votes over a real socket: GET shows, POST counts, scanners are set aside, bad links refused."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from webapp import csrf_of, site, smtp_inbox  # noqa: F401

from digest.tokens import Purpose


def _vote(site, client, path: str):  # noqa: ANN001, ANN202
    page = client.get(path)
    assert page.status_code == 200, page.text
    return client.post(path, data={"csrf": csrf_of(page.text)})


def test_get_shows_the_choice_and_changes_nothing(site) -> None:  # noqa: F811
    reader = site.data["readers"][0]
    path = site.vote_path(reader, 1, site.data["c1"], "b")
    before = site.snapshot()
    with site.client() as client:
        for _ in range(3):
            response = client.get(path)
            assert response.status_code == 200
            assert "Draftwell" in response.text and "Writing assistants for release notes" in response.text
            assert "<noscript>" in response.text
            assert response.headers["cache-control"] == "no-store"
            head = client.head(path)
            assert head.status_code in (200, 405)
    assert site.snapshot() == before


def test_post_records_one_vote_and_a_new_vote_replaces_it(site) -> None:  # noqa: F811
    reader = site.data["readers"][0]
    c1 = site.data["c1"]
    with site.client() as client:
        response = _vote(site, client, site.vote_path(reader, 1, c1, "a"))
        assert response.status_code == 200
        assert "Quillsmith 100%" in response.text
        assert site.rows("SELECT subscriber_id, comparison_id, choice FROM vote") == [(reader, c1, "a")]
        # the same click again changes nothing; the other button replaces the vote
        _vote(site, client, site.vote_path(reader, 1, c1, "a"))
        response = _vote(site, client, site.vote_path(reader, 1, c1, "b"))
        assert "Draftwell 100%" in response.text
    assert site.rows("SELECT subscriber_id, comparison_id, choice FROM vote") == [(reader, c1, "b")]


def test_the_page_shows_the_community_split(site) -> None:  # noqa: F811
    c1 = site.data["c1"]
    a, b, c = site.data["readers"]
    with site.client() as client:
        _vote(site, client, site.vote_path(a, 1, c1, "a"))
        _vote(site, client, site.vote_path(b, 1, c1, "a"))
        response = _vote(site, client, site.vote_path(c, 1, c1, "b"))
    split = re.sub(r"\s+", " ", re.search(r'id="community-split">(.*?)</p>', response.text, re.S).group(1))
    assert "Quillsmith 67%" in split and "Draftwell 33%" in split and "3 votes" in split


def test_vote_page_carries_only_its_own_hashed_script(site) -> None:  # noqa: F811
    import base64
    import hashlib

    path = site.vote_path(site.data["readers"][0], 1, site.data["c1"], "a")
    with site.client() as client:
        response = client.get(path)
    scripts = re.findall(r"<script>(.*?)</script>", response.text, re.S)
    assert len(scripts) == 1
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
    csp = response.headers["content-security-policy"]
    assert f"script-src 'sha256-{digest}'" in csp
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline'" not in csp.split("script-src")[1]


@pytest.mark.parametrize("case", ["other-issue", "draft", "unknown-comparison"])
def test_a_comparison_outside_the_signed_issue_is_refused(site, case) -> None:  # noqa: F811
    reader = site.data["readers"][0]
    issue, comparison = {"other-issue": (2, site.data["c1"]), "draft": (2, site.data["c3"]),
                         "unknown-comparison": (1, 999)}[case]
    path = site.vote_path(reader, issue, comparison, "a")
    before = site.snapshot()
    with site.client() as client:
        landing = client.get("/")
        response = client.post(path, data={"csrf": csrf_of(landing.text)})
        assert response.status_code == 400
        assert client.get(path).status_code == 400
    assert site.snapshot() == before


def test_forged_altered_expired_and_cross_purpose_tokens_are_refused(site) -> None:  # noqa: F811
    reader, c1 = site.data["readers"][0], site.data["c1"]
    good = site.signer.vote_token(reader, 1)
    from digest.tokens import Signer

    forged = Signer("another secret").vote_token(reader, 1)
    altered = good[:-3] + ("AAA" if good[-3:] != "AAA" else "BBB")
    expired = site.signer.sign(Purpose.VOTE, reader, subject_id=1, ttl=timedelta(days=1),
                               now=datetime.now(UTC) - timedelta(days=2))
    unsubscribe = site.signer.sign(Purpose.UNSUBSCRIBE, reader)
    before = site.snapshot()
    with site.client() as client:
        csrf = csrf_of(client.get("/").text)
        for token, words in [(forged, "not valid"), (altered, "not valid"), (expired, "expired"),
                             (unsubscribe, "meant for something else")]:
            for method in ("GET", "POST"):
                response = client.request(method, f"/vote/{token}.{c1}a", data={"csrf": csrf} if method == "POST" else None)
                assert response.status_code == 400, (token, method)
                assert words in response.text and response.headers["cache-control"] == "no-store"
        for broken in ("/vote/nonsense", f"/vote/{good}", f"/vote/{good}.{c1}c", f"/vote/{good}.x1a"):
            assert client.post(broken, data={"csrf": csrf}).status_code == 400
    assert site.snapshot() == before


def test_post_without_the_csrf_token_is_refused(site) -> None:  # noqa: F811
    path = site.vote_path(site.data["readers"][0], 1, site.data["c1"], "a")
    with site.client() as client:
        client.get(path)
        assert client.post(path).status_code == 403
        assert client.post(path, data={"csrf": "made-up"}).status_code == 403
    with site.client() as other:  # a token from another browser's cookie does not fit
        page = other.get(path)
    with site.client() as client:
        assert client.post(path, data={"csrf": csrf_of(page.text)}).status_code == 403
    assert site.scalar("SELECT count(*) FROM vote") == 0


def test_a_vote_link_for_a_removed_reader_is_refused(site) -> None:  # noqa: F811
    path = site.vote_path(424242, 1, site.data["c1"], "a")
    with site.client() as client:
        response = _vote(site, client, path)
    assert response.status_code == 400
    assert site.scalar("SELECT count(*) FROM vote") == 0


def test_canary_marks_the_client_and_its_votes_are_discarded(site) -> None:  # noqa: F811
    a, b, _ = site.data["readers"]
    c1 = site.data["c1"]
    with site.client() as client:
        vote_page = client.get(site.vote_path(a, 1, c1, "a"))
        assert client.get("/p/1").status_code == 200
        response = client.post(site.vote_path(a, 1, c1, "a"), data={"csrf": csrf_of(vote_page.text)})
        # the scanner sees what a person would see
        assert response.status_code == 200 and "is in" in response.text
    assert site.scalar("SELECT count(*) FROM vote") == 0
    assert site.rows("SELECT kind, subscriber_id, client FROM discardedaction") == [("vote", a, "127.0.0.1")]
    # another client address (through a trusted proxy it would be the forwarded one) still counts:
    # here we expire the mark to show the window ends
    site.rows("SELECT 1")  # no-op read
    with site.engine.begin() as connection:
        from sqlalchemy import text

        connection.execute(text("UPDATE scannermark SET until = :t"), {"t": "2000-01-01 00:00:00.000000"})
    with site.client() as client:
        _vote(site, client, site.vote_path(b, 1, c1, "b"))
    assert site.rows("SELECT subscriber_id, choice FROM vote") == [(b, "b")]


def test_a_proofs_links_show_what_they_would_do_and_change_nothing(site) -> None:  # noqa: F811
    """Proofs (and sample.eml) sign their links for PROOF_SUBSCRIBER_ID: the editor clicks them
    before the issue goes out, and after; no vote and no subscriber changes."""
    from digest.links import PROOF_SUBSCRIBER_ID

    before = site.snapshot()
    with site.client() as client:
        for issue, comparison, tool in ((2, site.data["c3"], "Tonal"), (1, site.data["c1"], "Draftwell")):
            path = site.vote_path(PROOF_SUBSCRIBER_ID, issue, comparison, "b")
            for response in (client.get(path), client.post(path)):
                assert response.status_code == 200
                assert "This is a proof" in response.text and f"vote for {tool}" in response.text
        # a proof's link still names a comparison of its own issue
        assert client.get(site.vote_path(PROOF_SUBSCRIBER_ID, 2, site.data["c1"], "a")).status_code == 400
        unsubscribe = site.unsubscribe_path(PROOF_SUBSCRIBER_ID)
        for response in (client.get(unsubscribe), client.post(unsubscribe, data={"List-Unsubscribe": "One-Click"})):
            assert response.status_code == 200 and "This is a proof" in response.text
    assert site.snapshot() == before


@pytest.mark.parametrize("target", ["\u00b2a", "1\u00b2a", "\u0661a", "+1a", "01a", "1.0a", "0a", "99999999999a"])
def test_a_vote_link_with_an_odd_comparison_id_is_refused_not_a_server_error(site, target: str) -> None:  # noqa: F811
    c1 = site.data["c1"]
    assert c1 == 1  # so that "+1", "01" and "1.0" would name it if they were read as numbers
    token = site.signer.vote_token(site.data["readers"][0], 1)
    before = site.snapshot()
    with site.client() as client:
        csrf = csrf_of(client.get("/").text)
        for method in ("GET", "POST"):
            response = client.request(method, f"/vote/{token}.{target}", data={"csrf": csrf} if method == "POST" else None)
            assert response.status_code == 400, (target, method, response.status_code)
            assert "not valid" in response.text
    assert site.snapshot() == before


def test_a_tool_name_that_looks_like_the_switch_link_stays_text(site) -> None:  # noqa: F811
    """Before: a name holding `__digest_switch_link__` took the reader's switch link, and the real
    link on the thank-you page stayed a placeholder."""
    from sqlalchemy import text

    with site.engine.begin() as connection:
        connection.execute(text("UPDATE tool SET name = 'Quill __digest_switch_link__' WHERE name = 'Quillsmith'"))
    reader = site.data["readers"][0]
    with site.client() as client:
        done = _vote(site, client, site.vote_path(reader, 1, site.data["c1"], "a"))
    assert done.status_code == 200 and "Quill __digest_switch_link__" in done.text
    switch = re.findall(r'href="(/vote/[^"]+)"', done.text)
    assert len(switch) == 1 and switch[0].endswith(f".{site.data['c1']}b"), done.text
