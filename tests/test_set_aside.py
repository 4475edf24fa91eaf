"""Clicks a mail scanner made are kept, listed for the editor, and applied only on request."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

from webapp import csrf_of, site, smtp_inbox  # noqa: F401


def _scanner_vote(site, subscriber_id: int, choice: str) -> None:  # noqa: ANN001
    """The canary marks the client; a vote posted from it is set aside."""
    path = site.vote_path(subscriber_id, 1, site.data["c1"], choice)
    with site.client() as client:
        page = client.get(path)
        assert client.get("/p/1").status_code == 200
        assert client.post(path, data={"csrf": csrf_of(page.text)}).status_code == 200


def test_set_aside_votes_are_listed_and_applied_on_request(site, cli) -> None:  # noqa: F811
    a, b, _ = site.data["readers"]
    _scanner_vote(site, a, "a")
    _scanner_vote(site, b, "b")
    assert site.scalar("SELECT count(*) FROM vote") == 0

    listed = cli("set-aside", "list")
    assert listed.exit_code == 0, listed.output
    assert listed.output.count("vote for") == 2 and "127.0.0.1" in listed.output and "Quillsmith vs Draftwell" in listed.output
    rows = json.loads(cli("set-aside", "list", "--json").output)
    assert {row["kind"] for row in rows} == {"vote"}
    by_reader = {row["subscriber"]: row["id"] for row in rows}
    assert len(by_reader) == 2

    # reader b has since voted themselves: applying the scanner's vote must not replace theirs
    site.rows("SELECT 1")
    with site.engine.begin() as connection:
        from sqlalchemy import text

        connection.execute(text("UPDATE scannermark SET until = :t"), {"t": "2000-01-01 00:00:00.000000"})
    with site.client() as client:
        path = site.vote_path(b, 1, site.data["c1"], "a")
        client.post(path, data={"csrf": csrf_of(client.get(path).text)})
    assert site.rows("SELECT subscriber_id, choice FROM vote") == [(b, "a")]

    ids = sorted(row["id"] for row in rows)
    applied = cli("set-aside", "apply", *map(str, ids))
    assert applied.exit_code == 0, applied.output
    assert "applied" in applied.output and "superseded" in applied.output
    assert sorted(site.rows("SELECT subscriber_id, choice FROM vote")) == sorted([(a, "a"), (b, "a")])
    assert cli("set-aside", "list").output.strip() == "nothing set aside"


def test_a_vote_set_aside_by_an_older_version_still_lists_and_applies(site, cli) -> None:  # noqa: F811
    """Rows written before the detail was JSON say "comparison 12 choice b" in plain text."""
    from sqlalchemy import text

    a, b, _ = site.data["readers"]
    _scanner_vote(site, a, "a")
    with site.engine.begin() as connection:
        connection.execute(text("INSERT INTO discardedaction (kind, client, subscriber_id, detail, created_at) "
                                "VALUES ('vote', '10.0.0.9', :reader, :detail, :at)"),
                           {"reader": b, "detail": f"comparison {site.data['c1']} choice b",
                            "at": "2026-12-01 10:00:00.000000"})
    rows = json.loads(cli("set-aside", "list", "--json").output)
    assert sorted(row["what"].split(" (")[0] for row in rows) == ["vote for Draftwell", "vote for Quillsmith"]
    applied = cli("set-aside", "apply", *(str(row["id"]) for row in rows))
    assert applied.exit_code == 0, applied.output
    assert sorted(site.rows("SELECT subscriber_id, choice FROM vote")) == sorted([(a, "a"), (b, "b")])


def test_unknown_ids_apply_nothing(site, cli) -> None:  # noqa: F811
    a = site.data["readers"][0]
    _scanner_vote(site, a, "a")
    (row,) = json.loads(cli("set-aside", "list", "--json").output)
    result = cli("set-aside", "apply", str(row["id"]), "999")
    assert result.exit_code == 2
    assert "no set-aside action 999" in result.output and len(result.output.strip().splitlines()) == 1
    assert site.scalar("SELECT count(*) FROM vote") == 0
    assert site.scalar("SELECT count(*) FROM discardedaction") == 1


def test_bad_kind_is_one_line(cli) -> None:
    result = cli("set-aside", "list", "--kind", "bogus")
    assert result.exit_code == 2 and "unknown kind 'bogus'" in result.output
    assert cli("set-aside", "list").output.strip() == "nothing set aside"


LIST_GOLDEN = Path(__file__).with_name("golden") / "set-aside-list.json"


def test_set_aside_list_prints_what_the_orm_version_printed(cli, home, engine) -> None:
    """`digest set-aside list` (plain, --json, --kind, --limit) over votes in JSON and the older
    text form, an unreadable one, one in a deleted comparison, confirmations and unsubscribes,
    a subscriber who is gone and two actions of the same moment: the same output, byte for byte,
    as when it read through SQLModel (recorded from that version, on both backends).
    UPDATE_GOLDEN=1 rewrites the file on purpose."""
    from delivery_helpers import add_subscribers
    from editorial_support import add_tools, sql

    readers = add_subscribers(engine, ["ann@reader.example", "bo@reader.example"])
    add_tools(home, ["patchwise", "lintern", "minutely", "recapper"])
    for pair in (("patchwise", "lintern"), ("minutely", "recapper"), ("lintern", "recapper")):
        assert cli("pair", *pair).exit_code == 0
    assert cli("comparison", "delete", "3").exit_code == 0
    actions = (("vote", readers[0], '{"comparison_id":1,"choice":"a"}', 1),
               ("vote", readers[1], "comparison 2 choice b", 2),
               ("vote", readers[0], '{"comparison_id":3,"choice":"b"}', 3),
               ("vote", readers[1], "not a vote", 4),
               ("confirm", readers[1], "", 5),
               ("unsubscribe", readers[0], "one-click", 6),
               ("unsubscribe", 999, "", 6),
               ("vote", None, '{"comparison_id":2,"choice":"a"}', 7))
    for kind, subscriber, detail, day in actions:
        sql(home, "INSERT INTO discardedaction (kind, client, subscriber_id, detail, created_at) VALUES (?, ?, ?, ?, ?)",
            kind, "198.51.100.7", subscriber, detail, datetime(2026, 3, day, 8, 30, tzinfo=UTC))
    printed = {}
    for args in ((), ("--json",), ("--kind", "vote"), ("--kind", "unsubscribe", "--json"), ("--kind", "confirm"),
                 ("--limit", "3"), ("--limit", "2", "--kind", "vote", "--json")):
        result = cli("set-aside", "list", *args)
        assert result.exit_code == 0, result.output
        printed[" ".join(("set-aside list", *args))] = result.stdout
    if os.environ.get("UPDATE_GOLDEN") == "1":
        LIST_GOLDEN.write_text(json.dumps(printed, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    assert printed == json.loads(LIST_GOLDEN.read_text(encoding="utf-8"))


def _scanner_confirm(site, inbox, email: str) -> None:  # noqa: ANN001
    """A sign-up whose confirmation click comes from a client the canary marked."""
    import re

    from webapp import wait_until

    with site.client() as client:
        client.post("/subscribe", data={"email": email, "csrf": csrf_of(client.get("/").text)})
        message = wait_until(lambda: inbox.to(email))[-1]
        link = re.search(r"http://\S+/confirm/\S+", message.get_body(("plain",)).get_content()).group(0)
        path = link[len(site.url):]
        csrf = csrf_of(client.get(path).text)
        client.get("/p/1")
        response = client.post(path, data={"csrf": csrf})
    assert response.status_code == 202 and "Not confirmed yet" in response.text


def test_applying_a_set_aside_confirmation_never_lifts_a_suppression(site, cli, smtp_inbox) -> None:  # noqa: F811
    inbox, _ = smtp_inbox
    reader = site.data["readers"][0]
    with site.client() as client:
        client.post(site.unsubscribe_path(reader), data={"List-Unsubscribe": "One-Click"})
    with site.engine.begin() as connection:  # the departure a few minutes back, the new sign-up after it
        from sqlalchemy import text

        connection.execute(text("UPDATE subscriber SET unsubscribed_at = '2000-01-01 00:00:00.000000' WHERE id = :i"),
                           {"i": reader})
    _scanner_confirm(site, inbox, "reader0@example.org")
    _scanner_confirm(site, inbox, "newcomer@example.org")
    rows = {row["subscriber"]: row["id"] for row in json.loads(cli("set-aside", "list", "--json").output)}
    applied = cli("set-aside", "apply", str(rows["reader0@example.org"]), str(rows["newcomer@example.org"]))
    assert applied.exit_code == 0, applied.output
    assert "refused: reader0@example.org confirmation: not applied, the address is suppressed (unsubscribed)" \
        in applied.output
    assert "applied: newcomer@example.org confirmation: confirmed" in applied.output
    assert site.scalar("SELECT status FROM subscriber WHERE id = :i", i=reader) == "pending"
    assert site.rows("SELECT email_key FROM suppression") == [("reader0@example.org",)]
    assert site.scalar("SELECT status FROM subscriber WHERE email_key = 'newcomer@example.org'") == "active"
