"""The public archive, the feed, health, error pages, security headers and request logs."""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET

import pytest
from webapp import csrf_of, site, smtp_inbox  # noqa: F401


def test_archive_lists_only_sent_issues(site) -> None:  # noqa: F811
    with site.client() as client:
        response = client.get("/issues/")
    assert response.status_code == 200
    assert "Release notes that write themselves" in response.text
    assert "secret" not in response.text and "Draft" not in response.text


@pytest.mark.parametrize("number", [2, 3, 4, 99])
def test_unsent_and_unknown_issues_are_not_public(site, number) -> None:  # noqa: F811
    with site.client() as client:
        response = client.get(f"/issues/{number}")
    assert response.status_code == 404
    assert "secret" not in response.text and "Draft" not in response.text


def _web_version_link(message) -> str:
    import re

    html = message.get_body(("html",)).get_content()
    links = re.findall(r'<a [^>]*href="([^"]+)"[^>]*>View in your browser</a>', html)
    assert len(links) == 1, html
    return links[0].replace("&amp;", "&")


def test_the_emails_web_version_link_opens_the_issue_while_it_is_sending(site, smtp_inbox) -> None:  # noqa: F811
    from sqlalchemy import text

    from delivery_helpers import make_ready_issue
    from digest.outbox import queue_issue
    from digest.sender import send_queued

    inbox, _port = smtp_inbox
    make_ready_issue(site.engine, site.settings, number=5, subject="Five: out now")
    queue_issue(engine=site.engine, settings=site.settings, number=5)
    with site.client() as client:
        assert client.get("/issues/5").status_code == 404  # queued, nothing sent: not public yet
    report = send_queued(settings=site.settings, engine=site.engine, issue_number=5, wait=False)
    assert report.sent == 3
    link = _web_version_link(inbox.to("reader0@example.org")[0])
    assert link.startswith(site.url + "/issues/5?t=")
    with site.engine.begin() as connection:  # as it is while the first send is still going on
        connection.execute(text("UPDATE issue SET status = 'sending', sent_at = NULL WHERE number = 5"))
    with site.client() as client:
        opened = client.get(link)
        assert opened.status_code == 200 and "Pair 0" in opened.text
        assert opened.headers["cache-control"] == "private, no-store"
        assert "noindex" in opened.headers["x-robots-tag"]
        assert client.get("/issues/5").status_code == 404
        assert "Five: out now" not in client.get("/issues/").text
        assert "Five: out now" not in client.get("/feed.xml").text


@pytest.mark.parametrize("number", [2, 3, 4])
def test_a_valid_web_token_opens_an_unsent_issue_and_nothing_else_does(site, number) -> None:  # noqa: F811
    from digest import links
    from digest.tokens import Purpose

    good = links.web_version_url("", number, site.signer)
    other_issue = links.web_version_url("", 1 if number != 1 else 2, site.signer).split("?", 1)[1]
    wrong_purpose = "t=" + site.signer.sign(Purpose.UNSUBSCRIBE, 0, subject_id=number)
    forged = good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB")
    with site.client() as client:
        assert client.get(good).status_code == 200
        for query in (other_issue, wrong_purpose, "t=", "t=" + "A" * 500, "t=%00"):
            response = client.get(f"/issues/{number}?{query}")
            assert response.status_code == 404, query
            assert "secret" not in response.text and "Draft" not in response.text
        assert client.get(forged).status_code == 404
        assert client.get(f"/issues/{number}").status_code == 404  # the token's page was not cached for all


def test_a_sent_issue_queued_again_for_new_readers_stays_public(site) -> None:  # noqa: F811
    from sqlalchemy import text

    with site.engine.begin() as connection:  # what `digest issue queue 1` does once new readers joined
        connection.execute(text("UPDATE issue SET status = 'sending' WHERE number = 1"))
    with site.client() as client:
        page = client.get("/issues/1")
        assert page.status_code == 200 and "Writing assistants for release notes" in page.text
        assert page.headers["cache-control"].startswith("public")
        assert "Release notes that write themselves" in client.get("/issues/").text
        assert "Release notes that write themselves" in client.get("/feed.xml").text


def test_issue_page_shows_current_community_figures(site) -> None:  # noqa: F811
    c1 = site.data["c1"]
    a, b, c = site.data["readers"]
    with site.client() as client:
        page = client.get("/issues/1")
        assert page.status_code == 200
        assert "Writing assistants for release notes" in page.text and "No reader votes yet" in page.text
        for reader, choice in ((a, "a"), (b, "b"), (c, "b")):
            path = site.vote_path(reader, 1, c1, choice)
            client.post(path, data={"csrf": csrf_of(client.get(path).text)})
        page = client.get("/issues/1")
    import re

    text = re.sub(r"<[^>]+>", " ", page.text)
    text = re.sub(r"\s+", " ", text)
    assert re.search(r"Quillsmith[^%]{0,80}33%", text) and re.search(r"Draftwell[^%]{0,80}67%", text), text
    assert re.search(r"\b3 (reader )?votes", text), text


def test_feed_is_atom_with_sent_issues_only(site) -> None:  # noqa: F811
    with site.client() as client:
        response = client.get("/feed.xml")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/atom+xml")
    ns = {"atom": "http://www.w3.org/2005/Atom"}
    root = ET.fromstring(response.content)
    entries = root.findall("atom:entry", ns)
    assert [e.find("atom:title", ns).text for e in entries] == ["#1: Release notes that write themselves"]
    assert entries[0].find("atom:link", ns).get("href") == site.url + "/issues/1"


def test_landing_page_has_pitch_latest_issue_and_form(site) -> None:  # noqa: F811
    with site.client() as client:
        response = client.get("/")
    assert response.status_code == 200
    assert "Weekly AI Tool Verdicts" in response.text
    assert 'href="/issues/1"' in response.text
    assert 'action="/subscribe"' in response.text and csrf_of(response.text)
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_every_response_carries_the_security_headers(site) -> None:  # noqa: F811
    with site.client() as client:
        for method, path in [("GET", "/"), ("GET", "/issues/"), ("GET", "/issues/1"), ("GET", "/nowhere"),
                             ("GET", "/vote/garbage"), ("POST", "/issues/"), ("GET", "/healthz"),
                             ("GET", "/feed.xml"), ("GET", "/p/1")]:
            response = client.request(method, path)
            headers = response.headers
            assert headers["x-content-type-options"] == "nosniff", path
            assert headers["referrer-policy"] == "no-referrer", path
            csp = headers["content-security-policy"]
            assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp, path
            assert "script-src" not in csp, path
            assert response.status_code < 500


@pytest.mark.parametrize("path", ["/", "/issues/", "/issues/1", "/feed.xml", "/healthz",
                                  "/static/site.css", "/issues/99", "/nowhere"])
def test_head_is_answered_wherever_get_is(site, path: str, caplog) -> None:  # noqa: F811
    with caplog.at_level(logging.INFO, logger="digest.web.access"), site.client() as client:
        get = client.get(path)
        head = client.head(path)
    assert head.status_code == get.status_code and head.status_code != 405
    assert head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]
    assert head.headers["content-security-policy"] == get.headers["content-security-policy"]
    if get.status_code == 200 and path != "/":  # the landing page's CSRF token differs per request
        assert head.headers["content-length"] == get.headers["content-length"]
    lines = [r.getMessage() for r in caplog.records if r.name == "digest.web.access"]
    assert any(line.startswith("HEAD ") for line in lines), lines


def test_head_changes_nothing_where_only_post_acts(site) -> None:  # noqa: F811
    before = site.snapshot()
    with site.client() as client:
        assert client.head("/subscribe").status_code == 405
        assert client.head(site.unsubscribe_path(site.data["readers"][0])).status_code == 200
    assert site.snapshot() == before


def test_site_pages_refuse_an_undefined_variable(site) -> None:  # noqa: F811
    """A template that names a variable nobody passes fails loudly (StrictUndefined), as the
    email's do, instead of leaving an empty spot on a live page."""
    from jinja2 import UndefinedError

    from digest.web.pages import Pages

    pages = Pages(site.settings)
    with pytest.raises(UndefinedError):
        pages.env.from_string("<p>{{ issue.subjcet }} {{ mispelt }}</p>").render()
    override = site.home / "templates" / "site"
    override.mkdir(parents=True)
    (override / "message.html").write_text('{% extends "site/layout.html" %}{% block main %}{{ heding }}{% endblock %}',
                                           encoding="utf-8")
    with pytest.raises(UndefinedError):
        Pages(site.settings).render("site/message.html", heading="Nothing here", lines=(), link=None)


def test_healthz_checks_the_database(site) -> None:  # noqa: F811
    with site.client() as client:
        response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok", "database": "ok"}


def test_request_logs_name_the_route_not_the_path_or_client(site, caplog) -> None:  # noqa: F811
    token_path = site.unsubscribe_path(site.data["readers"][0])
    with caplog.at_level(logging.INFO, logger="digest.web.access"), site.client() as client:
        client.get(token_path)
        client.get("/issues/1")
    lines = [r.getMessage() for r in caplog.records if r.name == "digest.web.access"]
    assert any(line.startswith("GET /unsubscribe/{token} 200") for line in lines), lines
    assert any(line.startswith("GET /issues/{number} 200") for line in lines), lines
    text = "\n".join(lines)
    assert token_path.split("/")[-1] not in text and "127.0.0.1" not in text


@pytest.mark.sqlite_only
def test_a_broken_database_gets_a_503_page_not_a_traceback(site) -> None:  # noqa: F811
    with site.engine.begin() as connection:
        from sqlalchemy import text

        connection.execute(text("ALTER TABLE issue RENAME TO issue_gone"))
    with site.client() as client:
        response = client.get("/issues/")
        health = client.get("/healthz")
    assert response.status_code == 503 and "Back in a moment" in response.text
    assert "Traceback" not in response.text and "issue" not in response.text.split("<main", 1)[1].split("</main>")[0]
    assert health.status_code == 200  # the database itself still answers


@pytest.mark.parametrize("spelling", ["1.0", "+1", "01", "%C2%B9", "%D9%A1", "1%20", "%201", "1_0", "0x1",
                                      "99999999999999999999"])
def test_an_issue_has_one_address(site, spelling: str) -> None:  # noqa: F811
    with site.client() as client:
        assert client.get("/issues/1").status_code == 200
        response = client.get(f"/issues/{spelling}")
        assert response.status_code == 404, (spelling, response.status_code)
        assert "Release notes that write themselves" not in response.text
        assert client.get(f"/p/{spelling}").status_code == 404
