"""Unsubscribe (RFC 8058), sign-up with double opt-in, and confirmation, over a real socket."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
from webapp import csrf_of, site, smtp_inbox, wait_until  # noqa: F401

from digest.tokens import Purpose


def _status(site, subscriber_id: int) -> str:  # noqa: ANN001
    return site.scalar("SELECT status FROM subscriber WHERE id = :i", i=subscriber_id)


# --- unsubscribe ---------------------------------------------------------------------------

def test_one_click_post_unsubscribes_at_once_without_cookies(site) -> None:  # noqa: F811
    reader = site.data["readers"][0]
    with site.client() as client:
        response = client.post(site.unsubscribe_path(reader), data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert "location" not in response.headers
    assert _status(site, reader) == "unsubscribed"
    assert site.rows("SELECT email_key, reason FROM suppression") == [("reader0@example.org", "unsubscribed")]
    assert site.scalar("SELECT status FROM subscriber WHERE id = :i", i=site.data["readers"][1]) == "active"


def test_one_click_also_works_as_multipart(site) -> None:  # noqa: F811
    reader = site.data["readers"][1]
    with site.client() as client:
        response = client.post(site.unsubscribe_path(reader), files={"List-Unsubscribe": (None, "One-Click")})
    assert response.status_code == 200
    assert _status(site, reader) == "unsubscribed"


def _hidden_fields(html: str) -> dict[str, str]:
    """What a browser posts for the page's form: its hidden inputs."""
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html))


def test_unsubscribe_page_shows_one_button_and_changes_nothing(site) -> None:  # noqa: F811
    reader = site.data["readers"][0]
    before = site.snapshot()
    with site.client() as client:
        page = client.get(site.unsubscribe_path(reader))
        assert page.status_code == 200
        assert len(re.findall(r"<button", page.text)) == 1 and "<script" not in page.text
        assert site.snapshot() == before
    # the button works in a browser that keeps no cookies: the form is the one-click body
    with site.client() as cookieless:
        response = cookieless.post(site.unsubscribe_path(reader), data=_hidden_fields(page.text))
    assert response.status_code == 200 and "You are unsubscribed" in response.text
    assert _status(site, reader) == "unsubscribed"


def test_a_form_post_without_csrf_or_one_click_body_is_refused(site) -> None:  # noqa: F811
    reader = site.data["readers"][0]
    before = site.snapshot()
    with site.client() as client:
        for body in (None, {"List-Unsubscribe": "yes"}):
            response = client.post(site.unsubscribe_path(reader), data=body)
            assert response.status_code == 403
            assert "Nothing changed" in response.text and "unsubscribed" not in response.text.lower()
    assert site.snapshot() == before


def test_an_older_page_posting_its_form_token_still_unsubscribes(site) -> None:  # noqa: F811
    """A folder's own unsubscribe.html from an older version posts the form token, not the body."""
    reader = site.data["readers"][1]
    with site.client() as client:
        assert client.get(site.unsubscribe_path(reader)).status_code == 200
        token = csrf_of(client.get("/").text)  # the token of the cookie the page set
        response = client.post(site.unsubscribe_path(reader), data={"csrf": token})
    assert response.status_code == 200 and _status(site, reader) == "unsubscribed"


def test_unsubscribing_twice_keeps_the_first_time(site) -> None:  # noqa: F811
    reader = site.data["readers"][0]
    with site.client() as client:
        client.post(site.unsubscribe_path(reader), data={"List-Unsubscribe": "One-Click"})
        after_first = site.snapshot()
        response = client.post(site.unsubscribe_path(reader), data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert site.snapshot() == after_first


def test_bad_unsubscribe_tokens_are_refused_with_the_database_unchanged(site) -> None:  # noqa: F811
    from digest.tokens import Signer

    reader = site.data["readers"][0]
    forged = Signer("not our secret").sign(Purpose.UNSUBSCRIBE, reader)
    vote = site.signer.vote_token(reader, 1)
    confirm = site.signer.sign(Purpose.CONFIRM, reader)
    expired = site.signer.sign(Purpose.UNSUBSCRIBE, reader, ttl=timedelta(minutes=5),
                               now=datetime.now(UTC) - timedelta(hours=1))
    before = site.snapshot()
    with site.client() as client:
        for token in (forged, vote, confirm, expired, "x" * 36, ""):
            for response in (client.post(f"/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"}),
                             client.get(f"/unsubscribe/{token}")):
                assert response.status_code in (400, 404), token
                if token:
                    assert response.status_code == 400 and "This link does not work" in response.text
                    assert response.headers["cache-control"] == "no-store"
    assert site.snapshot() == before


def test_one_click_from_a_scanner_marked_rate_limited_client_unsubscribes(site) -> None:  # noqa: F811
    """RFC 8058: the one-click POST always unsubscribes, whatever the client did before."""
    reader, other = site.data["readers"][0], site.data["readers"][1]
    with site.client() as client:
        assert client.get("/p/1").status_code == 200  # the canary: this client is now a "scanner"
        for i in range(5):  # and it has used up its sign-up allowance
            _signup(client, f"burst{i}@example.org")
        assert _signup(client, "one-more@example.org").status_code == 429
    with site.client() as cookieless:
        response = cookieless.post(site.unsubscribe_path(reader), data={"List-Unsubscribe": "One-Click"})
        page = cookieless.get(site.unsubscribe_path(other))
        button = cookieless.post(site.unsubscribe_path(other), data=_hidden_fields(page.text))
    assert response.status_code == 200 and "You are unsubscribed" in response.text
    assert _status(site, reader) == "unsubscribed"
    assert button.status_code == 200 and _status(site, other) == "unsubscribed"
    assert sorted(site.rows("SELECT email_key, reason FROM suppression")) == [
        ("reader0@example.org", "unsubscribed"), ("reader1@example.org", "unsubscribed")]
    assert site.scalar("SELECT count(*) FROM discardedaction") == 0


def test_each_unsubscribe_page_says_only_what_happened(site, smtp_inbox) -> None:  # noqa: F811
    inbox, _ = smtp_inbox
    reader = site.data["readers"][0]
    one_click = {"List-Unsubscribe": "One-Click"}
    with site.client() as client:
        first = client.post(site.unsubscribe_path(reader), data=one_click)
        again = client.post(site.unsubscribe_path(reader), data=one_click)
        gone = client.post(site.unsubscribe_path(99999), data=one_click)
        _signup(client, "pending@example.org")
        wait_until(lambda: inbox.to("pending@example.org"))
        pending = site.scalar("SELECT id FROM subscriber WHERE email_key = 'pending@example.org'")
        cancelled = client.post(site.unsubscribe_path(pending), data=one_click)
    assert first.status_code == 200 and "No more issues will be sent to you" in first.text
    assert again.status_code == 200 and "already left" in again.text and "nothing changed" in again.text
    assert gone.status_code == 404 and "nothing to unsubscribe" in gone.text
    assert "You are unsubscribed" not in gone.text
    assert cancelled.status_code == 200 and "Sign-up cancelled" in cancelled.text
    assert _status(site, pending) == "unsubscribed"
    assert site.scalar("SELECT reason FROM suppression WHERE email_key = 'pending@example.org'") == "unsubscribed"


# --- sign-up and confirmation ---------------------------------------------------------------

def _signup(client, email: str):  # noqa: ANN001, ANN202
    csrf = csrf_of(client.get("/").text)
    return client.post("/subscribe", data={"email": email, "csrf": csrf})


def _confirm_link(site, inbox, address: str) -> str:  # noqa: ANN001
    message = wait_until(lambda: inbox.to(address))[-1]
    text = message.get_body(("plain",)).get_content()
    link = re.search(r"http://\S+/confirm/\S+", text).group(0)
    assert link.startswith(site.url)
    return link[len(site.url):]


def test_double_opt_in_from_form_to_active(site, smtp_inbox) -> None:  # noqa: F811
    inbox, _ = smtp_inbox
    with site.client() as client:
        response = _signup(client, "New.Person@Example.org")
        assert response.status_code == 200 and "Check your inbox" in response.text
        row = site.rows("SELECT id, email, status, source FROM subscriber WHERE email_key = 'new.person@example.org'")
        assert [tuple(r[1:]) for r in row] == [("New.Person@example.org", "pending", "web")]
        path = _confirm_link(site, inbox, "New.Person@example.org")
        message = inbox.to("New.Person@example.org")[0]
        assert "Confirm your subscription" in message["Subject"]
        before = site.snapshot()
        page = client.get(path)
        assert page.status_code == 200 and "Yes, subscribe me" in page.text
        assert site.snapshot() == before  # the GET only shows the button
        response = client.post(path, data={"csrf": csrf_of(page.text)})
    assert response.status_code == 200 and "You are subscribed" in response.text
    assert site.scalar("SELECT status FROM subscriber WHERE email_key = 'new.person@example.org'") == "active"


def test_replayed_confirmation_changes_nothing(site, smtp_inbox) -> None:  # noqa: F811
    inbox, _ = smtp_inbox
    with site.client() as client:
        _signup(client, "replay@example.org")
        path = _confirm_link(site, inbox, "replay@example.org")
        csrf = csrf_of(client.get(path).text)
        assert client.post(path, data={"csrf": csrf}).status_code == 200
        confirmed = site.snapshot()
        assert client.post(path, data={"csrf": csrf}).status_code == 200
        assert site.snapshot() == confirmed
        # after unsubscribing, the old confirmation link does not bring the address back
        subscriber = site.scalar("SELECT id FROM subscriber WHERE email_key = 'replay@example.org'")
        client.post(site.unsubscribe_path(subscriber), data={"List-Unsubscribe": "One-Click"})
        left = site.snapshot()
        response = client.post(path, data={"csrf": csrf})
    assert response.status_code == 400 and "used up" in response.text
    assert site.snapshot() == left


def test_signing_up_again_after_unsubscribing_lifts_the_suppression(site, smtp_inbox) -> None:  # noqa: F811
    inbox, _ = smtp_inbox
    reader = site.data["readers"][2]
    with site.client() as client:
        client.post(site.unsubscribe_path(reader), data={"List-Unsubscribe": "One-Click"})
        # the confirmation must be requested after leaving: move the departure a minute back
        with site.engine.begin() as connection:
            from sqlalchemy import text

            connection.execute(text("UPDATE subscriber SET unsubscribed_at = :t WHERE id = :i"),
                               {"t": (datetime.now(UTC) - timedelta(minutes=2)).strftime("%Y-%m-%d %H:%M:%S.%f"),
                                "i": reader})
        _signup(client, "reader2@example.org")
        assert _status(site, reader) != "active"  # no mail before the click, and the suppression stays
        assert site.scalar("SELECT count(*) FROM suppression") == 1
        path = _confirm_link(site, inbox, "reader2@example.org")
        client.post(path, data={"csrf": csrf_of(client.get(path).text)})
    assert _status(site, reader) == "active"
    assert site.scalar("SELECT count(*) FROM suppression") == 0


def test_signup_answers_identically_for_known_and_unknown_addresses(site, smtp_inbox) -> None:  # noqa: F811
    inbox, _ = smtp_inbox
    answers = []
    for email in ("reader0@example.org", "stranger@example.org"):
        with site.client() as client:
            response = _signup(client, email)
            answers.append((response.status_code, response.text,
                            sorted((k, v) for k, v in response.headers.items() if k not in ("date", "content-length"))))
    assert answers[0] == answers[1]
    assert len(answers[0][1]) == len(answers[1][1])
    wait_until(lambda: inbox.to("stranger@example.org"))
    assert inbox.to("reader0@example.org") == []  # already active: nothing to confirm


def test_signup_is_rate_limited_per_client(site) -> None:  # noqa: F811
    # signup_rate = 3 per hour in the test settings
    with site.client() as client:
        codes = [_signup(client, f"burst{i}@example.org").status_code for i in range(5)]
        assert codes == [200, 200, 200, 429, 429]
        refused = _signup(client, "later@example.org")
        assert int(refused.headers["retry-after"]) > 0
    assert site.scalar("SELECT count(*) FROM subscriber WHERE email_key LIKE 'burst%'") == 3
    assert site.scalar("SELECT count(*) FROM subscriber WHERE email_key = 'later@example.org'") == 0


def test_signup_refuses_bad_addresses_and_missing_csrf(site) -> None:  # noqa: F811
    before = site.snapshot()
    with site.client() as client:
        assert client.post("/subscribe", data={"email": "someone@example.org"}).status_code == 403
        for bad in ("", "not-an-address", "a@b", "x" * 400 + "@example.org"):
            response = _signup(client, bad)
            assert response.status_code in (400, 429)
    after = site.snapshot()
    after.pop("ratecount"), before.pop("ratecount")
    assert after == before


def test_a_scanner_confirmation_is_discarded(site, smtp_inbox) -> None:  # noqa: F811
    inbox, _ = smtp_inbox
    with site.client() as client:
        _signup(client, "scanned@example.org")
        path = _confirm_link(site, inbox, "scanned@example.org")
        csrf = csrf_of(client.get(path).text)
        client.get("/p/7")
        response = client.post(path, data={"csrf": csrf})
    # set aside, and the page says so: it does not claim a subscription that did not happen
    assert response.status_code == 202 and "Not confirmed yet" in response.text
    assert "You are subscribed" not in response.text
    assert site.scalar("SELECT status FROM subscriber WHERE email_key = 'scanned@example.org'") == "pending"
    assert site.scalar("SELECT kind FROM discardedaction") == "confirm"


def test_a_replayed_confirmation_from_a_scanner_says_it_changed_nothing(site, smtp_inbox) -> None:  # noqa: F811
    inbox, _ = smtp_inbox
    with site.client() as client:
        _signup(client, "twice@example.org")
        path = _confirm_link(site, inbox, "twice@example.org")
        csrf = csrf_of(client.get(path).text)
        assert "Welcome aboard" in client.post(path, data={"csrf": csrf}).text
        client.get("/p/1")
        replay = client.post(path, data={"csrf": csrf})
    assert replay.status_code == 200 and "nothing changed" in replay.text
    assert site.scalar("SELECT count(*) FROM discardedaction") == 0


def test_the_confirmation_email_offers_one_click_unsubscribe_which_suppresses(site, smtp_inbox) -> None:  # noqa: F811
    inbox, _ = smtp_inbox
    with site.client() as client:
        _signup(client, "typed-by-someone-else@example.org")
        message = wait_until(lambda: inbox.to("typed-by-someone-else@example.org"))[-1]
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        link = re.fullmatch(r"<(http://[^>]+)>", message["List-Unsubscribe"]).group(1)
        assert link.startswith(site.url + "/unsubscribe/")
        path = _confirm_link(site, inbox, "typed-by-someone-else@example.org")
        # what a mail provider does for its unsubscribe button: a cookieless POST of the body
        response = httpx.post(link, data={"List-Unsubscribe": "One-Click"}, timeout=10)
        assert response.status_code == 200 and "Sign-up cancelled" in response.text
        confirm = client.post(path, data={"csrf": csrf_of(client.get(path).text)})
    assert confirm.status_code == 400 and "you are not subscribed" in confirm.text
    row = site.rows("SELECT s.status, p.reason FROM subscriber s JOIN suppression p ON p.email_key = s.email_key "
                    "WHERE s.email_key = 'typed-by-someone-else@example.org'")
    assert [tuple(r) for r in row] == [("unsubscribed", "unsubscribed")]


def test_bad_confirm_tokens_are_refused(site) -> None:  # noqa: F811
    reader = site.data["readers"][0]
    expired = site.signer.sign(Purpose.CONFIRM, reader, ttl=timedelta(days=7), now=datetime.now(UTC) - timedelta(days=8))
    unsubscribe = site.signer.sign(Purpose.UNSUBSCRIBE, reader)
    before = site.snapshot()
    with site.client() as client:
        csrf = csrf_of(client.get("/").text)
        for token, words in ((expired, "expired"), (unsubscribe, "meant for something else"), ("AAAA", "not valid")):
            for method in ("GET", "POST"):
                response = client.request(method, f"/confirm/{token}", data={"csrf": csrf} if method == "POST" else None)
                assert response.status_code == 400 and words in response.text
                assert response.headers["cache-control"] == "no-store"
    assert site.snapshot() == before
