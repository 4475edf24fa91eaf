"""`digest suggest` on small hand-made catalogues where the right pairs are known."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from editorial_support import add_tools, as_json, sql


def pairs(cli, *args: str) -> list[tuple[str, str]]:
    data = as_json(cli("suggest", "--json", *args))
    return [(s["a"]["slug"], s["b"]["slug"]) for s in data["suggestions"]]


def test_the_right_pairs_rank_first_with_reasons(cli, home) -> None:
    add_tools(home)
    data = as_json(cli("suggest", "--json"))
    assert data["since"] is None and data["candidates"] == 7
    ranked = [(s["a"]["slug"], s["b"]["slug"]) for s in data["suggestions"]]
    assert ranked[:2] == [("patchwise", "lintern"), ("minutely", "recapper")]
    top = data["suggestions"][0]
    assert top["category"] == "same" and top["similarity"] > 30
    assert {"pull", "request", "review", "test", "finding"} <= set(top["shared_words"])
    assert top["reason"].startswith("same category (code review); descriptions ")
    assert "both mention pull, request" in top["reason"]
    # unrelated categories never pair: voice and image generation, meetings and code review
    assert ("pixelmuse", "voxly") not in ranked
    assert not any({"minutely", "patchwise"} == {a, b} for a, b in ranked)
    # a related category ranks below a same-category pair
    related = next(s for s in data["suggestions"] if {s["a"]["slug"], s["b"]["slug"]} == {"patchwise", "stubby"})
    assert related["category"] == "related" and related["score"] < data["suggestions"][1]["score"]
    scores = [s["score"] for s in data["suggestions"]]
    assert scores == sorted(scores, reverse=True)


def test_the_human_table_names_the_first_pair_command(cli, home) -> None:
    add_tools(home)
    shown = cli("suggest", "--limit", "2")
    assert shown.exit_code == 0
    assert "2 suggestions among 7 unpaired tools (no issue sent yet)" in shown.stdout
    assert "pair the first with: digest pair patchwise lintern" in shown.stdout
    assert "recapper" in shown.stdout and "stubby" not in shown.stdout


def test_paired_tools_and_compared_pairs_drop_out(cli, home) -> None:
    add_tools(home)
    assert cli("pair", "patchwise", "lintern").exit_code == 0
    assert pairs(cli)[0] == ("minutely", "recapper")
    assert all("patchwise" not in pair and "lintern" not in pair for pair in pairs(cli))
    with_paired = pairs(cli, "--include-paired")
    assert ("patchwise", "lintern") not in with_paired and ("lintern", "patchwise") not in with_paired
    assert ("patchwise", "stubby") in with_paired


def test_only_tools_found_since_the_last_sent_issue(cli, home) -> None:
    add_tools(home, ["patchwise", "lintern", "stubby"], first_seen=datetime(2026, 1, 1, tzinfo=UTC))
    assert cli("issue", "new", "--subject", "Old").exit_code == 0
    sql(home, "UPDATE issue SET status = 'sent', sent_at = ? WHERE number = 1", datetime(2026, 2, 1, tzinfo=UTC))
    add_tools(home, ["minutely", "recapper"], first_seen=datetime(2026, 2, 3, tzinfo=UTC))
    data = as_json(cli("suggest", "--json"))
    assert data["since"].startswith("2026-02-01") and data["candidates"] == 2
    assert [(s["a"]["slug"], s["b"]["slug"]) for s in data["suggestions"]] == [("minutely", "recapper")]
    assert "1 suggestion among 2 unpaired tools found since the last sent issue (2026-02-01 00:00)" in cli("suggest").stdout
    older = as_json(cli("suggest", "--json", "--include-older"))
    assert older["since"] is None and older["candidates"] == 5
    assert [(s["a"]["slug"], s["b"]["slug"]) for s in older["suggestions"]][0] == ("patchwise", "lintern")


def test_uncategorised_tools_pair_only_on_close_descriptions(cli, home) -> None:
    add_tools(home, ["patchwise", "minutely"])
    add_tools(home, ["reviewbot", "paintbox"], reviewbot={
        "category": None, "name": "ReviewBot", "tagline": "Code review for pull requests",
        "description": "ReviewBot reads each pull request, runs the tests and posts code review findings."},
        paintbox={"category": None, "name": "Paintbox", "tagline": "Paint with prompts",
                  "description": "Paintbox turns a sketch into a finished illustration."})
    data = as_json(cli("suggest", "--json"))
    found = [(s["a"]["slug"], s["b"]["slug"], s["category"]) for s in data["suggestions"]]
    assert found == [("patchwise", "reviewbot", "uncategorised")]
    assert data["suggestions"][0]["reason"].startswith("no category on reviewbot; descriptions")


@pytest.mark.parametrize("slugs", [[], ["voxly"], ["voxly", "pixelmuse"]])
def test_nothing_to_suggest(cli, home, slugs) -> None:
    if slugs:
        add_tools(home, slugs)
    shown = cli("suggest")
    assert shown.exit_code == 0
    tools = "unpaired tool" if len(slugs) == 1 else "unpaired tools"
    assert shown.stdout.startswith(f"no pairs to suggest among {len(slugs)} {tools} (no issue sent yet)\n")
    assert as_json(cli("suggest", "--json"))["suggestions"] == []


def test_limit(cli, home) -> None:
    add_tools(home)
    assert pairs(cli, "--limit", "1") == [("patchwise", "lintern")]
    assert len(pairs(cli, "--limit", "3")) == 3
    bad = cli("suggest", "--limit", "0")
    assert bad.exit_code == 2 and "--limit" in bad.stderr


def test_no_new_tools_points_at_the_older_ones(cli, home) -> None:
    add_tools(home, ["patchwise", "lintern", "stubby"], first_seen=datetime(2026, 1, 1, tzinfo=UTC))
    assert cli("pair", "patchwise", "lintern").exit_code == 0
    assert cli("issue", "new", "--subject", "Old").exit_code == 0
    sql(home, "UPDATE issue SET status = 'sent', sent_at = ? WHERE number = 1", datetime(2026, 2, 1, tzinfo=UTC))
    add_tools(home, ["minutely"], first_seen=datetime(2026, 2, 3, tzinfo=UTC))
    shown = cli("suggest")
    assert shown.exit_code == 0
    assert shown.stdout.splitlines() == [
        "no pairs to suggest among 1 unpaired tool found since the last sent issue (2026-02-01 00:00)",
        "1 older unpaired tool found before it: digest suggest --include-older"]
    assert as_json(cli("suggest", "--json"))["older"] == 1  # stubby; patchwise and lintern are paired


GOLDEN = Path(__file__).with_name("golden") / "suggest.json"
INVOCATIONS = (("--json",), ("--json", "--include-paired"), ("--json", "--include-older"),
               ("--json", "--include-older", "--include-paired"), ("--json", "--include-older", "--limit", "2"),
               (), ("--include-older", "--limit", "3"), ("--include-paired", "--limit", "1"))


def catalogue_of_every_rule(cli, home) -> None:
    """Older and newer tools, hidden, kept and non-launch ones, uncategorised ones, paired tools
    on both sides of the last sent issue, an earlier sent issue and a draft."""
    before, after = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 3, tzinfo=UTC)
    add_tools(home, ["patchwise", "lintern", "stubby", "pixelmuse", "oldhidden"], first_seen=before,
              oldhidden={"category": "code review", "override": "hide"})
    add_tools(home, ["minutely", "recapper", "voxly", "reviewbot", "hiddenbot", "nolaunch", "keptnote", "huddle"],
              first_seen=after, huddle={"category": "meetings", "tagline": "Stand-ups in writing",
                                        "description": "Huddle collects each team member's update and "
                                                       "writes the meeting summary."}, reviewbot={
                  "category": None, "name": "ReviewBot", "tagline": "Code review for pull requests",
                  "description": "ReviewBot reads each pull request, runs the tests and posts code review findings."},
              hiddenbot={"category": "code review", "override": "hide", "description": "Reviews pull requests."},
              nolaunch={"category": "meetings", "launch": False, "description": "Meeting notes, a meeting recap."},
              keptnote={"category": "meeting notes", "launch": False, "override": "keep", "name": "KeptNote",
                        "tagline": "Meeting notes and action items", "description": "KeptNote records every "
                        "meeting, writes the summary and sends the action items to the team."})
    for pair in (("patchwise", "lintern"), ("minutely", "keptnote")):
        assert cli("pair", *pair).exit_code == 0
    for subject in ("Old", "Older", "Draft"):
        assert cli("issue", "new", "--subject", subject).exit_code == 0
    sql(home, "UPDATE issue SET status = 'sent', sent_at = ? WHERE number = 1", datetime(2026, 2, 1, tzinfo=UTC))
    sql(home, "UPDATE issue SET status = 'sent', sent_at = ? WHERE number = 2", datetime(2026, 1, 15, tzinfo=UTC))


def test_every_option_prints_what_the_orm_version_printed(cli, home) -> None:
    """`digest suggest` reads through digest.data.pair_candidates (no ORM): the same output, byte
    for byte, as when it read through SQLModel (recorded from that version, on both backends).
    UPDATE_GOLDEN=1 rewrites the file on purpose."""
    catalogue_of_every_rule(cli, home)
    printed = {}
    for args in INVOCATIONS:
        result = cli("suggest", *args)
        assert result.exit_code == 0, result.output
        printed[" ".join(("suggest", *args))] = result.stdout
    if os.environ.get("UPDATE_GOLDEN") == "1":
        GOLDEN.write_text(json.dumps(printed, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    assert printed == json.loads(GOLDEN.read_text(encoding="utf-8"))


def test_the_older_hint_counts_only_tools_include_older_would_add(cli, home) -> None:
    """A hidden or non-launch tool found before the last sent issue is never a candidate, so the
    hint to run --include-older does not count it (it said 2 older tools when 1 would be added)."""
    before = datetime(2026, 1, 1, tzinfo=UTC)
    add_tools(home, ["patchwise", "oldhidden", "oldnews"], first_seen=before,
              oldhidden={"override": "hide"}, oldnews={"launch": False})
    assert cli("issue", "new", "--subject", "Old").exit_code == 0
    sql(home, "UPDATE issue SET status = 'sent', sent_at = ? WHERE number = 1", datetime(2026, 2, 1, tzinfo=UTC))
    add_tools(home, ["minutely"], first_seen=datetime(2026, 2, 3, tzinfo=UTC))
    report = as_json(cli("suggest", "--json"))
    widened = as_json(cli("suggest", "--json", "--include-older"))
    assert report["older"] == widened["candidates"] - report["candidates"] == 1
    assert cli("suggest").stdout.splitlines()[-1] == "1 older unpaired tool found before it: digest suggest --include-older"
