"""Ids, numbers and limits: a number too large for the database is bad input, never a crash."""

from __future__ import annotations

from pathlib import Path

import pytest
from delivery_helpers import add_subscribers, make_ready_issue
from editorial_support import refused

from digest.errors import ValidationError
from digest.ids import MAX_ID, check_count, is_id, parse_id

HUGE = "99999999999999999999999"
JUST_OVER = str(MAX_ID + 1)


@pytest.fixture
def desk(cli, home: Path, settings, engine):
    """An issue with one reviewed comparison (id 1, tools 1 and 2), and a subscriber."""
    make_ready_issue(engine, settings)
    add_subscribers(engine, ["ann@example.com"])
    return cli


def test_parse_id_bounds() -> None:
    assert parse_id("3", "issue") == 3
    assert parse_id("#3", "issue") == 3
    assert parse_id(str(MAX_ID), "issue") == MAX_ID
    for bad in ("0", "-1", "x", "²", "٣", "", "3.0"):
        with pytest.raises(ValidationError, match="is not a number like 3"):
            parse_id(bad, "issue")
    for big in (JUST_OVER, HUGE, "9" * 5000):
        with pytest.raises(ValidationError, match=f"out of range \\(at most {MAX_ID}\\)"):
            parse_id(big, "issue")
    assert [is_id(t) for t in ("1", str(MAX_ID), JUST_OVER, "9" * 5000, "²", "0")] == [
        True, True, False, False, False, False]
    assert check_count(None, "--limit") is None
    with pytest.raises(ValidationError, match="--limit must be between 1 and"):
        check_count(MAX_ID + 1, "--limit")


@pytest.mark.parametrize("args", [
    ("tools", "show", HUGE),
    ("tools", "show", JUST_OVER),
    ("tools", "show", "9" * 5000),
    ("tools", "edit", HUGE, "--name", "X"),
    ("tools", "merge", HUGE, "1"),
    ("tools", "merge", "1", HUGE),
    ("pair", HUGE, "1"),
    ("review", HUGE, "--tool", "1", "--reviewer", "builder", "--verdict", "ship", "--quote", "q"),
    ("comparison", "show", HUGE),
    ("comparison", "delete", HUGE),
    ("comparison", "set", HUGE, "--title", "T"),
    ("issue", "show", HUGE),
    ("issue", "show", JUST_OVER),
    ("issue", "add", HUGE, "1"),
    ("issue", "add", "1", HUGE),
    ("issue", "delete", HUGE),
    ("issue", "set", HUGE, "--subject", "S"),
    ("issue", "render", HUGE),
    ("issue", "queue", HUGE),
    ("issue", "proof", HUGE, "--to", "ed@example.com"),
    ("issue", "schedule", HUGE),
    ("issue", "new", "--subject", "S", "--comparison", HUGE),
    ("issue", "add", "1", "1", "--position", HUGE),
    ("issue", "move", "1", "1", "--to", HUGE),
    ("send", "--issue", HUGE),
    ("tools", "list", "--limit", HUGE),
    ("subscribers", "list", "--limit", HUGE),
    ("suggest", "--limit", HUGE),
    ("set-aside", "apply", "99999999999999999999"),
    ("set-aside", "apply", "1", HUGE),
    ("set-aside", "list", "--limit", HUGE),
])
def test_a_number_too_large_is_one_line_exit_2_and_changes_nothing(desk, home: Path, args) -> None:
    line = refused(desk, home, *args)
    assert "internal error" not in line and "Overflow" not in line


def test_the_largest_id_is_simply_not_found(desk, home: Path) -> None:
    assert refused(desk, home, "issue", "show", str(MAX_ID)) == \
        f"error: no issue {MAX_ID} (hint: `digest issue list` shows the issues)"
    assert "no tool" in refused(desk, home, "tools", "show", str(MAX_ID))


def test_an_id_has_one_spelling() -> None:
    from digest.ids import canonical

    assert [canonical(t) for t in ("0", "1", "42", str(MAX_ID))] == [0, 1, 42, MAX_ID]
    for odd in ("+1", "01", "00", "1.0", " 1", "1 ", "1_0", "-0", "²", "٣", "１", "", "1e3", "0x1", JUST_OVER,
                "9" * 5000):
        assert canonical(odd) is None, odd
        assert not is_id(odd)
    for odd in ("+1", "01", "1.0", " 1", "1_0", "١", "#01"):
        with pytest.raises(ValidationError, match="is not a number like 3"):
            parse_id(odd, "issue")


@pytest.mark.parametrize("args", [
    ("issue", "show", "+1"),
    ("issue", "show", "01"),
    ("issue", "show", "1.0"),
    ("issue", "show", "\u0661"),
    ("comparison", "show", "01"),
    ("tools", "show", "01"),
    ("send", "--issue", "+1"),
    ("send", "--issue", "01"),
    ("set-aside", "apply", "+1"),
    ("set-aside", "apply", "1.0"),
    ("issue", "add", "1", "1", "--position", "+1"),
    ("tools", "list", "--limit", "1_0"),
    ("subscribers", "list", "--limit", "+0"),
])
def test_an_id_spelt_another_way_is_refused(desk, home: Path, args) -> None:
    line = refused(desk, home, *args)
    assert "internal error" not in line


def test_canonical_ids_still_work(desk) -> None:
    assert desk("issue", "show", "1").exit_code == 0
    assert desk("issue", "show", "#1").exit_code == 0
    assert desk("tools", "list", "--limit", "1").exit_code == 0
    assert desk("subscribers", "list", "--limit", "0").exit_code == 0
