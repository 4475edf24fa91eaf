"""Pairs and the comparison card, through the real CLI on a real SQLite file."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from editorial_support import add_settings, add_tools, as_json, refused, review_all, sql


NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def tools(home):
    return add_tools(home)


def test_pair_prints_the_new_comparison_id_and_default_title(cli, tools) -> None:
    result = cli("pair", "patchwise", str(tools["lintern"]))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "1"
    card = as_json(cli("comparison", "show", "1", "--json"))
    assert card["title"] == "Patchwise vs Lintern"
    assert (card["a"]["slug"], card["b"]["slug"]) == ("patchwise", "lintern")
    assert result.stderr == "comparison 1: Patchwise vs Lintern (A patchwise, B lintern)\n"


def test_pair_with_a_title(cli, tools) -> None:
    assert cli("pair", "minutely", "recapper", "--title", "Two bots in your meeting").exit_code == 0
    assert as_json(cli("comparison", "show", "1", "--json"))["title"] == "Two bots in your meeting"


@pytest.mark.parametrize(("args", "message"), [
    (("patchwise", "patchwise"), "error: a tool cannot be compared with itself (patchwise is both A and B)"),
    (("patchwise", "1"), "error: a tool cannot be compared with itself (patchwise is both A and B)"),
    (("patchwise", "nosuchtool"), "error: no tool 'nosuchtool'"),
    (("999", "lintern"), "error: no tool '999'"),
    (("patchwise", "lintern", "--title", "   "), "error: the title is empty"),
    (("patchwise", "lintern", "--title", "x" * 301), "error: the title is 301 characters; the limit is 300"),
])
def test_pair_refusals(cli, home, tools, args, message) -> None:
    assert refused(cli, home, "pair", *args).startswith(message)


def test_pairing_again_warns_naming_the_earlier_comparison_and_issue(cli, home, tools) -> None:
    assert cli("pair", "patchwise", "lintern").exit_code == 0
    again = cli("pair", "lintern", "patchwise")
    assert again.exit_code == 0
    assert "warning: lintern and patchwise were compared before: comparison 1 (in no issue yet)" in again.stderr
    assert cli("issue", "new", "--subject", "One", "--comparison", "1").exit_code == 0
    sql(home, "UPDATE issue SET status = 'sent' WHERE number = 1")
    third = cli("pair", "patchwise", "lintern")
    assert third.exit_code == 0 and third.stdout.strip() == "3"
    assert "comparison 1 (issue 1, sent)" in third.stderr
    assert "comparison 2 (in no issue yet)" in third.stderr


def test_unknown_comparison_and_bad_id(cli, home, tools) -> None:
    assert refused(cli, home, "comparison", "show", "7") .startswith("error: no comparison 7")
    assert refused(cli, home, "comparison", "show", "seven").startswith("error: comparison 'seven' is not a number")


# --- the figures, as the card shows them ------------------------------------------------------

@pytest.fixture
def compared(cli, tools):
    assert cli("pair", "patchwise", "lintern").exit_code == 0
    return 1


def figures(cli) -> dict:
    card = as_json(cli("comparison", "show", "1", "--json"))
    return {"a": card["a"]["ship_label"], "b": card["b"]["ship_label"], "verdict": card["verdict"],
            "label": card["verdict_label"], "split": card["split_reviewers"],
            "community": (card["a"]["community_label"], card["b"]["community_label"])}


def test_no_reviews_shows_dashes_and_pending(cli, compared) -> None:
    assert figures(cli) == {"a": "—", "b": "—", "verdict": "pending",
                            "label": "pending: no reviews of Patchwise or Lintern yet", "split": [],
                            "community": ("—", "—")}
    shown = cli("comparison", "show", "1")
    assert shown.exit_code == 0
    assert "not reviewed" in shown.stdout and "Panel ship" in shown.stdout
    assert "pending: no reviews of Patchwise or Lintern yet" in shown.stdout


def test_one_side_reviewed_is_still_pending(cli, compared) -> None:
    review_all(cli, 1, "patchwise", "lintern", "SS--", "----")
    out = figures(cli)
    assert (out["a"], out["b"], out["verdict"]) == ("100%", "—", "pending")
    assert out["label"] == "pending: no reviews of Lintern yet"


def test_higher_ship_percentage_wins(cli, compared) -> None:
    review_all(cli, 1, "patchwise", "lintern", "SSSK", "SKKK")
    out = figures(cli)
    assert out == {"a": "75%", "b": "25%", "verdict": "a",
                   "label": "Patchwise wins (75% vs 25% panel ship)",
                   "split": ["skeptic", "buyer"], "community": ("—", "—")}


def test_a_tie_is_a_split_decision(cli, compared) -> None:
    review_all(cli, 1, "patchwise", "lintern", "SKSK", "KSKS")
    out = figures(cli)
    assert (out["a"], out["b"], out["verdict"], out["label"]) == ("50%", "50%", "split", "split decision (50% each)")
    assert out["split"] == ["builder", "skeptic", "buyer", "futurist"]


def test_one_reviewer_missing_counts_only_the_given_reviews(cli, compared) -> None:
    review_all(cli, 1, "patchwise", "lintern", "SSS-", "SSKK")
    out = figures(cli)
    assert (out["a"], out["b"], out["verdict"]) == ("100%", "50%", "a")
    card = as_json(cli("comparison", "show", "1", "--json"))
    futurist = next(line for line in card["scorecard"] if line["reviewer"] == "futurist")
    assert futurist["a"] is None and futurist["stance"] == "incomplete"
    assert card["a"]["reviews"] == 3 and card["b"]["reviews"] == 4


def test_thirds_round_half_up(cli, home, compared) -> None:
    add_settings(home, 
        "".join(f'[[panel]]\nkey = "{k}"\nname = "{k.title()}"\nremit = "r"\n' for k in ("one", "two", "three")),
        encoding="utf-8")
    for reviewer, a, b in (("one", "ship", "ship"), ("two", "ship", "skip"), ("three", "skip", "skip")):
        for tool, verdict in (("patchwise", a), ("lintern", b)):
            assert cli("review", "1", "--tool", tool, "--reviewer", reviewer, "--verdict", verdict,
                       "--quote", "q").exit_code == 0
    out = figures(cli)
    assert (out["a"], out["b"], out["verdict"]) == ("67%", "33%", "a")


def test_community_votes_show_on_the_card(cli, home, compared) -> None:
    review_all(cli, 1, "patchwise", "lintern", "SSSS", "SSSS")
    for n in range(3):
        sql(home, "INSERT INTO subscriber (email, email_key, status, source, created_at, bounce_count) "
                  "VALUES (?, ?, 'active', 'cli', ?, 0)", f"r{n}@x.example", f"r{n}@x.example", NOW)
    for n, choice in enumerate("abb", start=1):
        sql(home, "INSERT INTO vote (comparison_id, subscriber_id, choice, created_at, updated_at) "
                  "VALUES (1, ?, ?, ?, ?)", n, choice, NOW, NOW)
    out = figures(cli)
    assert out["community"] == ("33%", "67%")
    assert out["verdict"] == "split"  # the panel decides the verdict, not the votes
    assert "3 votes" in cli("comparison", "show", "1").stdout


def test_card_shows_everything_a_reader_sees(cli, compared) -> None:
    review_all(cli, 1, "patchwise", "lintern", "SSSK", "SKKK")
    assert cli("comparison", "set", "1", "--pricing-read", "One is free to start; the other bills per seat.").exit_code == 0
    shown = cli("comparison", "show", "1")
    text = " ".join(shown.stdout.split())
    for expected in ("Comparison 1 · Patchwise vs Lintern", "code review", "An AI reviewer on every pull",
                     "75%", "25%", "Freemium", "Paid", "Panel ship", "Community", "Entry",
                     "Reviewer scorecard", "The Builder", "The Futurist", "SHIP", "SKIP",
                     "builder says ship on", "One is free to start; the other bills per seat.",
                     "Patchwise wins (75% vs 25% panel ship)", "The Skeptic favours Patchwise"):
        assert expected in text, expected
    card = as_json(cli("comparison", "show", "1", "--json"))
    assert card["pricing_read"] == "One is free to start; the other bills per seat."
    assert card["a"]["price_label"] == "Freemium" and card["b"]["price"] == "paid"
    assert card["a"]["description"].startswith("Patchwise reads each pull request")
    assert card["scorecard"][0]["a"]["quote"] == "builder says ship on patchwise."
    assert card["winner"] == "patchwise" and card["issue"] is None and card["id"] == 1


def test_comparison_set_and_delete(cli, home, compared) -> None:
    review_all(cli, 1, "patchwise", "lintern", "S---", "K---")
    assert refused(cli, home, "comparison", "set", "1").startswith("error: nothing to change")
    assert cli("comparison", "set", "1", "--title", "Robot reviewers").exit_code == 0
    listed = as_json(cli("comparison", "list", "--json"))
    assert [c["title"] for c in listed] == ["Robot reviewers"]
    result = cli("comparison", "delete", "1")
    assert result.exit_code == 0, result.output
    assert sql(home, "SELECT count(*) FROM review") == [(0,)]
    assert as_json(cli("comparison", "list", "--json")) == []


def test_a_comparison_in_a_sent_issue_is_locked(cli, home, compared) -> None:
    assert cli("issue", "new", "--subject", "S", "--comparison", "1").exit_code == 0
    sql(home, "UPDATE issue SET status = 'sent'")
    message = refused(cli, home, "review", "1", "--tool", "patchwise", "--reviewer", "builder",
                      "--verdict", "ship", "--quote", "late", code=1)
    assert message.startswith("error: comparison 1 is in issue 1, which is sent;")
    refused(cli, home, "comparison", "set", "1", "--title", "New", code=1)
    refused(cli, home, "comparison", "delete", "1", code=1)


def test_pair_and_issue_new_as_json(cli, tools) -> None:
    assert cli("pair", "patchwise", "lintern").exit_code == 0
    again = as_json(cli("pair", "lintern", "patchwise", "--json"))
    assert again == {"id": 2, "title": "Lintern vs Patchwise", "a": "lintern", "b": "patchwise", "earlier": [1]}
    issue = as_json(cli("issue", "new", "--subject", "S", "--comparison", "2", "--json"))
    assert (issue["number"], issue["status"], issue["ready"]) == (1, "draft", False)
    assert issue["comparisons"][0]["id"] == 2 and issue["comparisons"][0]["position"] == 1
    assert issue["comparisons"][0]["issue"] == {"number": 1, "status": "draft"}


def test_comparison_list_builds_the_same_cards_without_the_orm(cli, home, tools, settings, engine) -> None:
    """`comparison list` reads through digest.data.comparison_cards (no ORM): the same cards,
    field for field, as editorial.cards.list_cards, with or without --unassigned."""
    from digest.data.comparison_cards import comparison_rows
    from digest.data.engine import connect
    from digest.db import session_scope
    from digest.editorial.card_view import build_card
    from digest.editorial.cards import list_cards

    for a, b in (("patchwise", "lintern"), ("minutely", "recapper"), ("pixelmuse", "voxly")):
        assert cli("pair", a, b).exit_code == 0
    review_all(cli, 1, "patchwise", "lintern", "SSSK", "SK-K")
    review_all(cli, 3, "pixelmuse", "voxly", "S---", "----")
    sql(home, "INSERT INTO review (comparison_id, tool_id, reviewer, verdict, quote, created_at, updated_at) "
              "SELECT 3, tool_b_id, 'gone', 'skip', 'q', ?, ? FROM comparison WHERE id = 3", NOW, NOW)  # left the panel
    assert cli("tools", "edit", "patchwise", "--price", "Open source").exit_code == 0
    sql(home, "INSERT INTO subscriber (email, email_key, status, source, created_at, bounce_count) "
              "VALUES ('r@x.example', 'r@x.example', 'active', 'cli', ?, 0)", NOW)
    sql(home, "INSERT INTO vote (comparison_id, subscriber_id, choice, created_at, updated_at) VALUES (1, 1, 'b', ?, ?)",
        NOW, NOW)
    assert cli("issue", "new", "--subject", "S", "--comparison", "1").exit_code == 0
    for unassigned in (False, True):
        with session_scope(engine) as session:
            expected = [c.to_json() for c in list_cards(session=session, panel=settings.panel, unassigned=unassigned)]
        with connect(settings) as db, db.transaction():
            rows = comparison_rows(db, unassigned=unassigned)
        assert [build_card(comparison=r.comparison, tool_a=r.tool_a, tool_b=r.tool_b, reviews=r.reviews,
                           votes=r.votes, issue=r.issue, panel=settings.panel).to_json() for r in rows] == expected
    assert [c["id"] for c in expected] == [3, 2] and len(as_json(cli("comparison", "list", "--json"))) == 3


def test_price_labels_agree_with_the_models() -> None:
    from digest.editorial.card_view import price_label
    from digest.models import EntryPrice

    for price in EntryPrice:
        for text in (price.value, price.label, price.label.upper(), price.value.replace("-", "_")):
            assert price_label(text) == price.label
    assert price_label("per seat") == "per seat"


# --- comparison show, byte for byte ----------------------------------------------------------

SHOW_GOLDEN = Path(__file__).with_name("golden") / "comparison-show.json"


def comparisons_of_every_kind(cli, home, engine) -> None:
    """A sent issue's three reviewed and voted comparisons, one in a draft reviewed by a
    reviewer who has left the panel, one in no issue and never reviewed, an edited tool; every
    time fixed so the output can be compared byte for byte."""
    from digest.db import session_scope
    from digest.demo.sample import add_sample_issue, sample_issue_data

    with session_scope(engine, write=True) as session:
        add_sample_issue(session=session, data=sample_issue_data(number=1))
    sql(home, "UPDATE issue SET status = 'sent', sent_at = ? WHERE number = 1", NOW)
    add_tools(home, ["stubby", "pixelmuse", "voxly"])
    assert cli("pair", "stubby", "pixelmuse", "--title", "Robots «draw» robots").exit_code == 0
    assert cli("pair", "voxly", "stubby").exit_code == 0
    review_all(cli, 4, "stubby", "pixelmuse", "SK-S", "KKS-")
    sql(home, "INSERT INTO review (comparison_id, tool_id, reviewer, verdict, quote, created_at, updated_at) "
              "SELECT 4, tool_a_id, 'oldhand', 'ship', 'Left the panel, kept the review.', ?, ? FROM comparison "
              "WHERE id = 4", NOW, NOW)
    assert cli("issue", "new", "--subject", "Draft", "--comparison", "4").exit_code == 0
    assert cli("comparison", "set", "4", "--pricing-read", "One free, one per seat.").exit_code == 0
    assert cli("tools", "edit", "pixelmuse", "--price", "free").exit_code == 0
    for table in ("comparison", "review"):
        sql(home, f"UPDATE {table} SET created_at = ?, updated_at = ?", NOW, NOW)
    sql(home, "UPDATE tool SET first_seen_at = ?, published_at = ?", NOW, NOW)


def test_comparison_show_prints_what_the_orm_version_printed(cli, home, engine) -> None:
    """`digest comparison show` (plain and --json) for every kind of comparison: the same output,
    byte for byte, as when it read through SQLModel (recorded from that version, on both
    backends). UPDATE_GOLDEN=1 rewrites the file on purpose."""
    comparisons_of_every_kind(cli, home, engine)
    printed = {}
    for number in range(1, 6):
        for args in ((str(number),), (str(number), "--json")):
            result = cli("comparison", "show", *args)
            assert result.exit_code == 0, result.output
            printed[" ".join(("comparison show", *args))] = result.stdout
    if os.environ.get("UPDATE_GOLDEN") == "1":
        SHOW_GOLDEN.write_text(json.dumps(printed, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    assert printed == json.loads(SHOW_GOLDEN.read_text(encoding="utf-8"))
