"""The editorial demo stages on a catalogue holding the sample pairs: issue 1 then issue 2."""

from __future__ import annotations

from datetime import UTC, datetime

from editorial_support import add_tools, as_json, sql

from digest.demo import STAGES, DemoContext, run_demo


def test_the_demo_stages_assemble_ready_issues_from_the_sample_scorecards(cli, home, settings) -> None:
    from digest.demo.editorial import first_issue, second_issue

    add_tools(home)
    said: list[str] = []
    run = DemoContext(home=home, say=said.append, settings=settings)
    first_issue(run)
    assert run.comparisons == [1] and run.issues == [1]
    assert said[0].startswith("digest suggest: ") and "top: patchwise vs lintern" in said[0]
    assert "digest pair patchwise lintern: comparison 1" in said[1]
    assert said[2] == "digest review 1 --file scorecard-1.toml: 8 reviews and the pricing read"
    issue = as_json(cli("issue", "show", "1", "--json"))
    assert issue["ready"] is True and issue["subject"] == "Two robot reviewers, one pull request"
    assert issue["preheader"] and issue["intro"] and issue["notes"] == []
    card = issue["comparisons"][0]
    assert (card["a"]["ship_label"], card["b"]["ship_label"], card["winner"]) == ("75%", "50%", "patchwise")
    assert card["split_reviewers"] == ["skeptic", "buyer", "futurist"]

    # issue 1 goes out; issue 2 is made from tools polled before it
    sql(home, "UPDATE issue SET status = 'sent', sent_at = ?", datetime.now(UTC))
    second_issue(run)
    assert run.comparisons == [1, 2] and run.issues == [1, 2]
    second = as_json(cli("issue", "show", "2", "--json"))
    assert second["ready"] is True
    card = second["comparisons"][0]
    assert {card["a"]["slug"], card["b"]["slug"]} == {"minutely", "recapper"}
    assert card["winner"] == "recapper"


def test_digest_demo_assembles_issue_1_from_the_polled_sample_feeds(tmp_path, make_cli) -> None:
    lines: list[str] = []
    folder = tmp_path / "demo"
    run = run_demo(keep=folder, say=lines.append, stages=STAGES[:[s.name for s in STAGES].index("first_issue") + 1])
    assert run.comparisons == [1] and run.issues == [1]
    suggested = next(line for line in lines if line.startswith("digest suggest: "))
    assert "top: lintern vs patchwise" in suggested or "top: patchwise vs lintern" in suggested
    assert "digest pair patchwise lintern: comparison 1, \"Patchwise vs Lintern\"" in lines
    assert "digest review 1 --file scorecard-1.toml: 8 reviews and the pricing read" in lines
    cli = make_cli(folder)
    issue = as_json(cli("issue", "show", "1", "--json"))
    assert issue["ready"] is True and issue["notes"] == []
    card = issue["comparisons"][0]
    assert (card["a"]["slug"], card["b"]["slug"]) == ("patchwise", "lintern")
    assert (card["a"]["price_label"], card["b"]["price_label"]) == ("Freemium", "Open source")
    assert (card["a"]["ship_label"], card["b"]["ship_label"], card["winner"]) == ("75%", "50%", "patchwise")
    # what is left for issue 2: the note takers rank first among the tools still unpaired (the
    # demo sends issue 1, so they count as found before the last sent issue)
    assert as_json(cli("suggest", "--include-older", "--json"))["suggestions"][0]["reason"].startswith(
        "same category (meetings)")
