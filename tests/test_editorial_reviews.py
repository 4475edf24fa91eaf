"""Reviews one at a time and whole REVIEWS.toml scorecards: every refusal, nothing half-written."""

from __future__ import annotations

from pathlib import Path

import pytest

from editorial_support import add_settings, add_tools, as_json, dump, refused, sql


@pytest.fixture
def comparison(cli, home) -> int:
    add_tools(home)
    assert cli("pair", "patchwise", "lintern").exit_code == 0
    return 1


def scorecard(cli) -> dict:
    card = as_json(cli("comparison", "show", "1", "--json"))
    return {(line["reviewer"], side): (line[side]["verdict"], line[side]["quote"])
            for line in card["scorecard"] for side in ("a", "b") if line[side]}


def test_record_then_replace_a_review(cli, comparison) -> None:
    first = cli("review", "1", "--tool", "patchwise", "--reviewer", "skeptic", "--verdict", "SHIP",
                "--quote", "  Solid, for now.  ")
    assert first.exit_code == 0, first.output
    assert first.stderr == "comparison 1: recorded skeptic's ship on patchwise\n"
    second = cli("review", "1", "--tool", "1", "--reviewer", "skeptic", "--verdict", "skip",
                 "--quote", "Changed my mind: the moat is thin.")
    assert second.stderr == "comparison 1: replaced skeptic's skip on patchwise\n"
    assert scorecard(cli) == {("skeptic", "a"): ("skip", "Changed my mind: the moat is thin.")}


def test_quote_from_stdin(cli, comparison) -> None:
    result = cli("review", "1", "--tool", "lintern", "--reviewer", "buyer", "--verdict", "ship",
                 "--quote", "-", input="Pays for itself in a week.\n")
    assert result.exit_code == 0, result.output
    assert scorecard(cli)[("buyer", "b")] == ("ship", "Pays for itself in a week.")


@pytest.mark.parametrize(("changes", "message"), [
    ({"--reviewer": "critic"}, "error: unknown reviewer 'critic'; the panel is builder, skeptic, buyer, futurist"),
    ({"--tool": "minutely"}, "error: tool 'minutely' is not in comparison 1 (A is patchwise, B is lintern)"),
    ({"--tool": "nosuch"}, "error: tool 'nosuch' is not in comparison 1"),
    ({"--verdict": "maybe"}, "error: verdict 'maybe' is not ship or skip"),
    ({"--quote": "   "}, "error: the quote is empty"),
    ({"--quote": "x" * 1201}, "error: the quote is 1,201 characters; the limit is 1,200"),
])
def test_review_refusals(cli, home, comparison, changes, message) -> None:
    args = {"--tool": "patchwise", "--reviewer": "builder", "--verdict": "ship", "--quote": "Fine."}
    args.update(changes)
    flat = [item for pair in args.items() for item in pair]
    assert refused(cli, home, "review", "1", *flat).startswith(message)


def test_a_quote_of_exactly_1200_characters_is_fine(cli, comparison) -> None:
    result = cli("review", "1", "--tool", "patchwise", "--reviewer", "builder", "--verdict", "ship",
                 "--quote", "y" * 1200)
    assert result.exit_code == 0


def test_review_usage_errors(cli, home, comparison) -> None:
    assert refused(cli, home, "review", "1", "--tool", "patchwise").startswith(
        "error: missing --reviewer, --verdict, --quote")
    assert refused(cli, home, "review", "1", "--file", "x.toml", "--tool", "patchwise").startswith(
        "error: --file records a whole scorecard; leave out --tool")
    assert refused(cli, home, "review", "9", "--tool", "patchwise", "--reviewer", "builder",
                   "--verdict", "ship", "--quote", "q").startswith("error: no comparison 9")
    assert refused(cli, home, "review", "1", "--file", str(home / "absent.toml")).endswith("absent.toml: file not found")


def test_the_default_panel(cli, home) -> None:
    assert as_json(cli("panel", "--json")) == [
        {"key": "builder", "name": "The Builder", "remit": "developer experience: is the primitive right, is it pleasant to build on"},
        {"key": "skeptic", "name": "The Skeptic", "remit": "competition and risk: who else does this, what breaks it"},
        {"key": "buyer", "name": "The Buyer", "remit": "business and pricing: who pays, from which budget, what locks them in"},
        {"key": "futurist", "name": "The Futurist", "remit": "where the trend goes: what must hold for this to matter in three years"},
    ]
    assert cli("panel").stdout.splitlines()[1] == "skeptic   The Skeptic: competition and risk: who else does this, what breaks it"


def test_a_custom_panel_from_digest_toml(cli, home, comparison) -> None:
    add_settings(home, 
        '[[panel]]\nkey = "ops"\nname = "The Operator"\nremit = "runs it at 3am"\n', encoding="utf-8")
    assert cli("review", "1", "--tool", "patchwise", "--reviewer", "ops", "--verdict", "ship",
               "--quote", "Pages me less.").exit_code == 0
    assert refused(cli, home, "review", "1", "--tool", "patchwise", "--reviewer", "builder",
                   "--verdict", "ship", "--quote", "q").startswith("error: unknown reviewer 'builder'; the panel is ops")
    card = as_json(cli("comparison", "show", "1", "--json"))
    assert [(line["reviewer"], line["name"]) for line in card["scorecard"]] == [("ops", "The Operator")]
    assert as_json(cli("panel", "--json")) == [{"key": "ops", "name": "The Operator", "remit": "runs it at 3am"}]
    # the issue is ready once the one-person panel has reviewed both tools
    assert cli("review", "1", "--tool", "lintern", "--reviewer", "ops", "--verdict", "skip",
               "--quote", "Wakes me up.").exit_code == 0
    assert cli("issue", "new", "--subject", "S", "--comparison", "1").exit_code == 0
    assert as_json(cli("issue", "show", "1", "--json"))["ready"] is True


# --- REVIEWS.toml -------------------------------------------------------------------------------

GOOD = '''\
comparison = 1
pricing_read = "Patchwise starts free; Lintern bills per seat from day one."

[b]
price = "Open source"

[[reviews]]
reviewer = "builder"
tool = "patchwise"
verdict = "ship"
quote = """The inline comments land where I already work. "Good" defaults."""

[[reviews]]
reviewer = "builder"
tool = "lintern"
verdict = "skip"
quote = "Severity ranking is noisy on small diffs."
'''


def write(tmp_path: Path, text: str, name: str = "REVIEWS.toml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_a_scorecard_file_records_everything_in_it(cli, comparison, tmp_path) -> None:
    result = cli("review", "1", "--file", write(tmp_path, GOOD))
    assert result.exit_code == 0, result.output
    assert result.stderr == ("comparison 1: changed pricing read; changed lintern price; "
                             "recorded builder on patchwise; recorded builder on lintern\n")
    assert scorecard(cli) == {("builder", "a"): ("ship", 'The inline comments land where I already work. "Good" defaults.'),
                              ("builder", "b"): ("skip", "Severity ranking is noisy on small diffs.")}
    card = as_json(cli("comparison", "show", "1", "--json"))
    assert card["pricing_read"] == "Patchwise starts free; Lintern bills per seat from day one."
    assert card["b"]["price"] == "open-source" and card["b"]["edited"] == ["price"]
    again = cli("review", "1", "--file", write(tmp_path, GOOD))
    assert again.stderr == "comparison 1: no changes\n"


def test_a_scorecard_leaves_other_reviews_alone(cli, comparison, tmp_path) -> None:
    assert cli("review", "1", "--tool", "lintern", "--reviewer", "futurist", "--verdict", "ship",
               "--quote", "Early to a real trend.").exit_code == 0
    assert cli("review", "1", "--file", write(tmp_path, GOOD)).exit_code == 0
    assert ("futurist", "b") in scorecard(cli)


def bad(edit_from: str, edit_to: str) -> str:
    assert edit_from in GOOD
    return GOOD.replace(edit_from, edit_to, 1)


@pytest.mark.parametrize(("text", "message"), [
    (bad('verdict = "skip"', 'verdict = "nope"'), "REVIEWS.toml:16: reviews[1].verdict: verdict 'nope' is not ship or skip"),
    (bad('reviewer = "builder"\ntool = "lintern"', 'reviewer = "critic"\ntool = "lintern"'),
     "REVIEWS.toml:14: reviews[1].reviewer: unknown reviewer 'critic'"),
    (bad('tool = "lintern"', 'tool = "voxly"'), "REVIEWS.toml:15: reviews[1].tool: tool 'voxly' is not in comparison 1"),
    (bad('quote = "Severity', 'quote = "   "\n# "Severity'), "REVIEWS.toml:17: reviews[1].quote: the quote is empty"),
    (bad("Severity ranking", "S" * 1300), "REVIEWS.toml:17: reviews[1].quote: the quote is 1,325 characters; the limit is 1,200"),
    (bad('tool = "lintern"\nverdict = "skip"\n', 'tool = "lintern"\n'), "REVIEWS.toml:13: reviews[1].verdict: missing"),
    (bad('tool = "lintern"', 'tool = "patchwise"'), "REVIEWS.toml:13: reviews[1]: builder reviews patchwise twice (also reviews[0])"),
    (bad('price = "Open source"', 'price = "cheap"'), "REVIEWS.toml:5: b.price: 'cheap' is not an entry price"),
    (bad("comparison = 1", "comparison = 2"), "REVIEWS.toml:1: comparison: this file is for comparison 2, not 1"),
    (bad('[[reviews]]\nreviewer = "builder"\ntool = "lintern"', '[[reviews]]\nreviewer = "builder"\nmood = "grumpy"\ntool = "lintern"'),
     "REVIEWS.toml:15: reviews[1].mood: unknown key"),
    (bad('verdict = "skip"', 'verdict = skip'), "REVIEWS.toml:16: invalid TOML: Invalid value"),
    ("", "REVIEWS.toml: reviews: no [[reviews]] tables and nothing else to record"),
])
def test_a_bad_scorecard_names_line_and_field_and_writes_nothing(cli, home, comparison, tmp_path, text, message) -> None:
    error = refused(cli, home, "review", "1", "--file", write(tmp_path, text))
    assert error.startswith("error: " + message), error
    assert "nothing was written" in error
    assert scorecard(cli) == {}


def test_every_problem_is_counted_and_the_valid_half_is_not_written(cli, home, comparison, tmp_path) -> None:
    text = bad('verdict = "skip"', 'verdict = "nope"').replace('reviewer = "builder"\ntool = "patchwise"',
                                                                'reviewer = "nobody"\ntool = "patchwise"')
    refused(cli, home, "review", "1", "--file", write(tmp_path, text))
    lines = cli("review", "1", "--file", write(tmp_path, text)).stderr.splitlines()
    assert lines[0] == "error: REVIEWS.toml: 2 problems, each below; nothing was written"
    # each mistake explained in full, with its line, not only the first
    assert lines[1:] == ["  REVIEWS.toml:8: reviews[0].reviewer: unknown reviewer 'nobody'; "
                         "the panel is builder, skeptic, buyer, futurist",
                         "  REVIEWS.toml:16: reviews[1].verdict: verdict 'nope' is not ship or skip"]
    assert sql(home, "SELECT count(*) FROM review") == [(0,)]
    assert dump(home)  # the database is still readable and unchanged (checked by refused)


def test_the_sample_scorecards_are_valid_scorecards(cli, home, tmp_path) -> None:
    from importlib import resources

    add_tools(home)
    for number, (a, b) in enumerate((("patchwise", "lintern"), ("minutely", "recapper")), start=1):
        assert cli("pair", a, b).exit_code == 0
        path = resources.files("digest.demo").joinpath("samples", f"scorecard-{number}.toml")
        result = cli("review", str(number), "--file", str(path))
        assert result.exit_code == 0, result.output
        card = as_json(cli("comparison", "show", str(number), "--json"))
        assert card["verdict"] in ("a", "b", "split")
        assert card["pricing_read"]
        for line in card["scorecard"]:
            for side in ("a", "b"):
                words = len(line[side]["quote"].split())
                assert 60 <= words <= 120, (number, line["reviewer"], side, words)
