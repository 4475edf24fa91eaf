"""Editor text holds no control characters: a NUL, BEL or ESC in a quote, a tool's tagline, a
title, an intro or a review file is refused at input (exit 2, the field named), where today it
is stored and breaks `issue render` later. Tabs and line breaks stay allowed."""

from __future__ import annotations

import pytest
from test_editorial_edit import comparison, editor, seen  # noqa: F401

from editorial_support import add_tools, as_json, refused, review_all

BAD = [("\x00", "U+0000 (NUL)"), ("\x07", "U+0007 (BEL)"), ("\x1b", "U+001B (ESC)"), ("\x7f", "U+007F (DEL)"),
       ("\x9b", "U+009B"), ("\x0c", "U+000C (form feed)"), ("\x1f", "U+001F")]


@pytest.fixture
def draft(cli, home) -> int:
    """Comparison 1 (patchwise vs lintern) with reviews, in draft issue 1."""
    add_tools(home)
    assert cli("pair", "patchwise", "lintern").exit_code == 0
    review_all(cli, 1, "patchwise", "lintern", "SSK-", "SKK-")
    assert cli("issue", "new", "--subject", "A week", "--comparison", "1").exit_code == 0
    return 1


@pytest.mark.parametrize(("char", "named"), BAD)
def test_a_review_quote_with_a_control_character_is_refused(cli, home, draft, char: str, named: str) -> None:
    line = refused(cli, home, "review", "1", "--tool", "lintern", "--reviewer", "futurist", "--verdict", "ship",
                   "--quote", f"Red{char}[31m alert")
    assert line.startswith(f"error: the quote contains control character {named} at character 4")
    assert "\x1b" not in line and "\x00" not in line  # the error itself is safe to print


@pytest.mark.parametrize(("args", "field"), [
    (("review", "1", "--tool", "lintern", "--reviewer", "futurist", "--verdict", "ship", "--quote", "-"), "quote"),
    (("tools", "edit", "patchwise", "--tagline", "Ships\x07 fast"), "--tagline"),
    (("tools", "edit", "patchwise", "--name", "Patch\x00wise"), "--name"),
    (("tools", "edit", "patchwise", "--description", "Line one\nline\x1b two"), "--description"),
    (("tools", "edit", "patchwise", "--vendor", "Acme\x1b"), "--vendor"),
    (("tools", "edit", "patchwise", "--category", "dev\x08tools"), "--category"),
    (("tools", "edit", "patchwise", "--price", "$5\x00"), "--price"),
    (("tools", "edit", "patchwise", "--url", "https://example.org/\x1b"), "--url"),
    (("pair", "patchwise", "lintern", "--title", "A\x1b title"), "title"),
    (("comparison", "set", "1", "--title", "A\x00 title"), "title"),
    (("comparison", "set", "1", "--pricing-read", "Free\x1b vs paid"), "pricing read"),
    (("issue", "set", "1", "--intro", "Hello\x07 readers"), "intro"),
    (("issue", "new", "--subject", "Hi", "--intro", "-"), "intro"),
    (("issue", "set", "1", "--subject", "Bell\x07"), "subject"),
    (("issue", "set", "1", "--preheader", "Esc\x1b"), "preheader"),
])
def test_every_editor_field_refuses_control_characters(cli, home, draft, args, field: str) -> None:
    stdin = "Typed\x1b[2J on stdin" if "-" in args else None
    line = refused(cli, home, *args, input=stdin)
    assert field in line and "control character" in line, line


def test_a_review_file_with_an_escaped_control_character_names_the_field(cli, home, draft, tmp_path) -> None:
    reviews = tmp_path / "REVIEWS.toml"
    reviews.write_text('comparison = 1\n\n[[reviews]]\ntool = "lintern"\nreviewer = "futurist"\n'
                       'verdict = "ship"\nquote = "Bell \\u0007 ringing"\n', encoding="utf-8")
    line = refused(cli, home, "review", "1", "--file", str(reviews))
    assert "REVIEWS.toml:7" in line and "quote" in line and "U+0007 (BEL)" in line, line


def test_comparison_edit_marks_a_control_character_and_writes_nothing(cli, home, comparison, tmp_path) -> None:  # noqa: F811
    body = '''
        if not text.startswith("# ! "):
            path.write_text(text.replace('title = "Patchwise vs Lintern"', 'title = "Patchwise\\\\u001b[5m vs Lintern"'),
                            encoding="utf-8")
    '''
    line = refused(cli, home, "comparison", "edit", "1", env=editor(tmp_path, body))
    assert "title: the title contains control character U+001B (ESC)" in line, line
    assert "control character U+001B (ESC)" in seen(tmp_path)[1].splitlines()[1]


def test_tabs_and_line_breaks_are_still_welcome_and_the_issue_renders(cli, home, draft, tmp_path) -> None:
    quote = "First line\n\tindented second line\r\nthird"
    assert cli("review", "1", "--tool", "lintern", "--reviewer", "futurist", "--verdict", "ship",
               "--quote", quote).exit_code == 0
    assert cli("issue", "set", "1", "--intro", "Para one.\n\nPara\ttwo.").exit_code == 0
    assert cli("tools", "edit", "patchwise", "--tagline", "Ships\tfast").exit_code == 0
    card = as_json(cli("comparison", "show", "1", "--json"))
    futurist = next(line for line in card["scorecard"] if line["reviewer"] == "futurist")
    assert futurist["b"]["quote"] == quote.replace("\r\n", "\n")
    result = cli("issue", "render", "1", "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output


def test_what_is_refused() -> None:
    from digest.editorial.text import control_problem

    assert control_problem("tab\tnewline\ncarriage\r return, café, 漢字, emoji 🙂, \u2028") is None
    assert control_problem("x\x85") == "control character U+0085 (NEL) at character 2"
    assert control_problem("bad \udcff byte") == "bytes that are not UTF-8 at character 5"
