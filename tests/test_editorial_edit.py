"""`digest comparison edit` with a real $EDITOR: small Python scripts that edit the file the way
a person would, run by the real command through the real subprocess call."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from editorial_support import add_settings, add_tools, as_json, dump, refused, review_all, sql

TRICKY = 'He said """ship it""" and left. C:\\temp\\new, a tab\there, café, and a "quote"\nsecond line'


@pytest.fixture
def comparison(cli, home) -> int:
    add_tools(home)
    assert cli("pair", "patchwise", "lintern").exit_code == 0
    review_all(cli, 1, "patchwise", "lintern", "SSK-", "SKK-")
    result = cli("review", "1", "--tool", "lintern", "--reviewer", "futurist", "--verdict", "ship",
                 "--quote", "-", input=TRICKY)
    assert result.exit_code == 0, result.output
    assert cli("comparison", "set", "1", "--pricing-read", "Free vs paid.").exit_code == 0
    return 1


def editor(tmp_path: Path, body: str) -> dict[str, str]:
    """An $EDITOR that runs `body` with `path` (the file) and `text` (its content) defined;
    every text it was opened on is appended to seen.log."""
    script = tmp_path / "editor.py"
    script.write_text(textwrap.dedent('''\
        import sys, pathlib
        path = pathlib.Path(sys.argv[-1])
        text = path.read_text(encoding="utf-8")
        log = pathlib.Path(__file__).with_name("seen.log")
        with log.open("a", encoding="utf-8") as handle:
            handle.write(text + "\\n=====\\n")
        ''') + textwrap.dedent(body), encoding="utf-8")
    return {"EDITOR": f"{sys.executable} {script}", "VISUAL": ""}


def seen(tmp_path: Path) -> list[str]:
    return (tmp_path / "seen.log").read_text(encoding="utf-8").split("\n=====\n")[:-1]


def state(cli) -> dict:
    card = as_json(cli("comparison", "show", "1", "--json"))
    return {"title": card["title"], "pricing_read": card["pricing_read"],
            "prices": (card["a"]["price"], card["b"]["price"]),
            "reviews": {(line["reviewer"], side): (line[side]["verdict"], line[side]["quote"])
                        for line in card["scorecard"] for side in ("a", "b") if line[side]}}


def test_quitting_without_saving_changes_nothing(cli, home, comparison, tmp_path) -> None:
    before = dump(home)
    result = cli("comparison", "edit", "1", env=editor(tmp_path, "pass\n"))
    assert result.exit_code == 0, result.output
    assert result.stderr == "comparison 1: no changes\n"
    assert dump(home) == before


def test_saving_unchanged_is_byte_identical_and_changes_nothing(cli, home, comparison, tmp_path) -> None:
    before = dump(home)
    result = cli("comparison", "edit", "1", env=editor(tmp_path, 'path.write_bytes(path.read_bytes())\n'))
    assert result.stderr == "comparison 1: no changes\n"
    assert dump(home) == before
    # opening again shows exactly the same document: rendering is deterministic
    cli("comparison", "edit", "1", env=editor(tmp_path, "pass\n"))
    first, second = seen(tmp_path)
    assert first == second


def test_the_document_round_trips_every_stored_value(cli, home, comparison, tmp_path) -> None:
    import tomllib

    cli("comparison", "edit", "1", env=editor(tmp_path, "pass\n"))
    (document,) = seen(tmp_path)
    data = tomllib.loads(document)
    stored = state(cli)
    assert data["title"] == stored["title"] and data["pricing_read"] == stored["pricing_read"]
    assert (data["a"]["price"], data["b"]["price"]) == stored["prices"]
    assert {(r["reviewer"], "a" if r["tool"] == "patchwise" else "b"): (r["verdict"], r["quote"])
            for r in data["reviews"]} == stored["reviews"]
    assert stored["reviews"][("futurist", "b")] == ("ship", TRICKY)
    assert "not reviewed yet: futurist on patchwise" in document


def test_an_edit_is_applied(cli, home, comparison, tmp_path) -> None:
    body = '''
        text = text.replace('title = "Patchwise vs Lintern"', 'title = "Robot reviewers"')
        text = text.replace('price = "paid"', 'price = "Open source"')
        marker = 'reviewer = "skeptic"\\ntool = "lintern"\\nverdict = "skip"'
        assert marker in text
        text = text.replace(marker, 'reviewer = "skeptic"\\ntool = "lintern"\\nverdict = "ship"')
        start = text.index('[[reviews]]\\nreviewer = "buyer"\\ntool = "patchwise"')
        end = text.index('[[reviews]]', start + 5)
        text = text[:start] + text[end:]
        text += '\\n[[reviews]]\\nreviewer = "futurist"\\ntool = "patchwise"\\nverdict = "ship"\\nquote = "Right on time."\\n'
        path.write_text(text, encoding="utf-8")
    '''
    result = cli("comparison", "edit", "1", env=editor(tmp_path, body))
    assert result.exit_code == 0, result.output
    assert result.stderr == ("comparison 1: changed title; changed lintern price; replaced skeptic on lintern; "
                             "recorded futurist on patchwise; deleted buyer on patchwise\n")
    after = state(cli)
    assert after["title"] == "Robot reviewers"
    assert after["prices"] == ("freemium", "open-source")
    assert after["reviews"][("skeptic", "b")][0] == "ship"
    assert ("buyer", "a") not in after["reviews"]
    assert after["reviews"][("futurist", "a")] == ("ship", "Right on time.")
    assert after["reviews"][("futurist", "b")] == ("ship", TRICKY)
    assert as_json(cli("comparison", "show", "1", "--json"))["b"]["edited"] == ["price"]


def test_a_mistake_reopens_the_editor_with_the_error_marked(cli, home, comparison, tmp_path) -> None:
    body = '''
        if text.startswith("# ! "):
            path.write_text(text.replace('verdict = "shipp"', 'verdict = "skip"'), encoding="utf-8")
        else:
            path.write_text(text.replace('verdict = "ship"', 'verdict = "shipp"', 1), encoding="utf-8")
    '''
    result = cli("comparison", "edit", "1", env=editor(tmp_path, body))
    assert result.exit_code == 0, result.output
    assert result.stderr == "comparison 1: replaced builder on patchwise\n"
    first, second = seen(tmp_path)
    lines = second.splitlines()
    assert lines[0] == "# ! This did not validate: fix it and save, or quit without saving to change nothing."
    assert lines[1].startswith("# !   comparison-1.toml:")
    assert lines[1].endswith("reviews[0].verdict: verdict 'shipp' is not ship or skip")
    marked_line = int(lines[1].split(":")[1])
    assert lines[marked_line - 1] == 'verdict = "shipp"'  # the line number points at the mistake
    assert second.endswith(first.replace('verdict = "ship"', 'verdict = "shipp"', 1))
    assert state(cli)["reviews"][("builder", "a")][0] == "skip"


def test_saving_the_marked_file_unchanged_gives_up_and_writes_nothing(cli, home, comparison, tmp_path) -> None:
    body = '''
        if not text.startswith("# ! "):
            path.write_text(text.replace('title = "Patchwise vs Lintern"', 'title = ""'), encoding="utf-8")
    '''
    message = refused(cli, home, "comparison", "edit", "1", env=editor(tmp_path, body))
    assert "comparison-1.toml:" in message and "title: the title is empty; nothing was written" in message
    assert len(seen(tmp_path)) == 2
    # the message says where the edits were kept, and they are there
    kept = Path(message.split("your edits are kept in ", 1)[1].split(":", 1)[0])
    assert kept.name == "comparison-1.toml" and 'title = ""' in kept.read_text(encoding="utf-8")
    assert f"digest comparison edit 1" in message
    kept.unlink()
    kept.parent.rmdir()


def test_emptying_the_file_aborts(cli, home, comparison, tmp_path) -> None:
    before = dump(home)
    result = cli("comparison", "edit", "1", env=editor(tmp_path, 'path.write_text("")\n'))
    assert result.exit_code == 0
    assert result.stderr == "comparison 1: the file was emptied; nothing changed\n"
    assert dump(home) == before


def test_a_failing_or_missing_editor_changes_nothing(cli, home, comparison, tmp_path) -> None:
    body = '''
        path.write_text(text.replace('title = "Patchwise vs Lintern"', 'title = "Changed"'), encoding="utf-8")
        sys.exit(3)
    '''
    message = refused(cli, home, "comparison", "edit", "1", env=editor(tmp_path, body), code=1)
    assert message == "error: the editor exited with status 3; nothing was changed"
    message = refused(cli, home, "comparison", "edit", "1", code=1,
                      env={"EDITOR": str(tmp_path / "no-such-editor"), "VISUAL": ""})
    assert message.startswith("error: cannot start the editor")


def test_a_change_made_meanwhile_is_not_overwritten(cli, home, comparison, tmp_path) -> None:
    body = f'''
        import subprocess
        subprocess.run([{sys.executable!r}, "-m", "digest", "--home", {str(home)!r}, "comparison", "set", "1",
                        "--title", "Changed elsewhere"], check=True, capture_output=True)
        path.write_text(text.replace('price = "paid"', 'price = "free"'), encoding="utf-8")
    '''
    result = cli("comparison", "edit", "1", env=editor(tmp_path, body))
    assert result.exit_code == 1
    assert "was changed by someone else while you were editing; nothing was applied" in result.stderr
    after = state(cli)
    assert after["title"] == "Changed elsewhere" and after["prices"] == ("freemium", "paid")


def test_editing_a_sent_comparison_is_refused(cli, home, comparison, tmp_path) -> None:
    assert cli("issue", "new", "--subject", "S", "--comparison", "1").exit_code == 0
    sql(home, "UPDATE issue SET status = 'sending'")
    message = refused(cli, home, "comparison", "edit", "1", env=editor(tmp_path, "pass\n"), code=1)
    assert message.startswith("error: comparison 1 is in issue 1, which is sending")
    assert not (tmp_path / "seen.log").exists()


def test_prose_strings_round_trip_exactly() -> None:
    """Any quote text written into the editor's document parses back to the same string."""
    import tomllib

    import tomlkit
    from hypothesis import given, settings, strategies as st

    from digest.editorial.scorecard import _text

    alphabet = st.sampled_from(list('ab "\\\'\t\n#=[]{}é😀') + ["\u007f", "\r", '"""', "  "])

    @settings(max_examples=300, deadline=None)
    @given(st.lists(alphabet, max_size=400).map("".join))
    def check(value: str) -> None:
        document = tomlkit.document()
        document.add("quote", _text(value))
        assert tomllib.loads(tomlkit.dumps(document))["quote"] == value

    check()


def test_reviews_by_a_reviewer_who_left_the_panel_are_kept(cli, home, comparison, tmp_path) -> None:
    add_settings(home, "".join(f'[[panel]]\nkey = "{k}"\nname = "The {k.title()}"\nremit = "r"\n'
                               for k in ("builder", "skeptic", "buyer")))
    card = as_json(cli("comparison", "show", "1", "--json"))
    assert [line["reviewer"] for line in card["scorecard"]] == ["builder", "skeptic", "buyer", "futurist"]
    body = 'path.write_text(text.replace(\'title = "Patchwise vs Lintern"\', \'title = "Renamed"\'), encoding="utf-8")\n'
    result = cli("comparison", "edit", "1", env=editor(tmp_path, body))
    assert result.exit_code == 0, result.output
    assert result.stderr == "comparison 1: changed title\n"
    assert state(cli)["reviews"][("futurist", "b")] == ("ship", TRICKY)
    # but nobody off the panel can be added
    refused(cli, home, "review", "1", "--tool", "patchwise", "--reviewer", "futurist", "--verdict", "ship",
            "--quote", "q")
