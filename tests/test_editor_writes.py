"""The editor's write commands print and store exactly what they did through the ORM.

`digest tools hide|keep|edit` and `digest issue new|set|add|remove|move|delete` moved from
SQLModel onto digest.data (issue 14 §4). Each script below runs one command after another on a
real database, success and refusal alike, and records every command's exit code, stdout and
stderr, which issues it touched (updated_at moved) and, at the end, the rows it left (but the
issues' ids: PostgreSQL spends a sequence value on a refused insert, SQLite does not): recorded
from the ORM version as tests/golden/editor_writes.json, on both backends.
UPDATE_GOLDEN=1 rewrites the file on purpose.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from editorial_support import add_tools, review_all, sql

GOLDEN = Path(__file__).with_name("golden") / "editor_writes.json"
_STAMP = re.compile(r'"(created_at|updated_at)": "[^"]*"')


def _tool_rows(home: Path) -> list:
    rows = sql(home, "SELECT id, slug, name, tagline, description, category, vendor, price, url, edited, "
                     "override, launch, reason FROM tool ORDER BY id")
    return [[*row[:9], row[9] if isinstance(row[9], list) else json.loads(row[9]), row[10], bool(row[11]), row[12]]
            for row in rows]


def _issue_rows(home: Path) -> dict:
    return {"issue": [list(row) for row in sql(home, "SELECT number, subject, preheader, intro, status "
                                                     "FROM issue ORDER BY number")],
            "slots": [list(row) for row in sql(home, "SELECT i.number, s.comparison_id, s.position FROM "
                                                     "issuecomparison s JOIN issue i ON i.id = s.issue_id "
                                                     "ORDER BY i.number, s.position")],
            "counter": [list(row) for row in sql(home, "SELECT name, value FROM counter ORDER BY name")]}


def _stamps(home: Path) -> dict[int, str]:
    return {row[0]: str(row[1]) for row in sql(home, "SELECT number, updated_at FROM issue")}


def _run(cli, home: Path, steps) -> list[dict]:
    printed = []
    for step in steps:
        args, given = (step[0], step[1]) if isinstance(step[-1], dict) else (step, {})
        before = _stamps(home)
        result = cli(*args, **given)
        after = _stamps(home)
        printed.append({"args": " ".join(args), "exit": result.exit_code,
                        "stdout": _STAMP.sub(r'"\1": "..."', result.stdout), "stderr": result.stderr,
                        "touched": sorted(n for n in after if n in before and after[n] != before[n])})
    return printed


def _check(name: str, recorded: dict) -> None:
    golden = json.loads(GOLDEN.read_text(encoding="utf-8")) if GOLDEN.exists() else {}
    if os.environ.get("UPDATE_GOLDEN") == "1":
        golden[name] = recorded
        GOLDEN.write_text(json.dumps(golden, indent=1, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
    assert recorded == golden[name]


TOOL_STEPS = (
    ("tools", "hide", "patchwise"), ("tools", "hide", "patchwise"), ("tools", "keep", "lintern", "stubby"),
    ("tools", "keep", "--release", "lintern"), ("tools", "hide", "--release", "voxly"),
    ("tools", "keep", "noisy"), ("tools", "hide", "noisy"), ("tools", "keep", "--release", "noisy"),
    ("tools", "hide", "#3"), ("tools", "keep", "4"), ("-q", "tools", "hide", "recapper"),
    ("tools", "hide", "nosuch"), ("tools", "hide", "minutely", "nosuch"), ("tools", "keep", " "),
    ("tools", "keep", "#x"), ("tools", "hide"),
    ("tools", "edit", "patchwise", "--name", "Patchwise Pro", "--tagline", "  Reviews,  faster ",
     "--description", "Line one.\r\nLine two.  ", "--category", "Code Review", "--price", "Open source",
     "--vendor", "Patchwise Labs", "--url", "https://patchwise.example/pro"),
    ("tools", "edit", "patchwise", "--name", "Patchwise Pro", "--price", "OPEN_SOURCE"),
    ("tools", "edit", "lintern", "--name", "Stubby"),  # a name key another tool holds stays with it
    ("tools", "edit", "voxly", "--vendor", "", "--url", "", "--category", ""),
    ("tools", "edit", "voxly", "--release", "url", "--release", " VENDOR"),
    ("tools", "edit", "voxly", "--slug", " Voxly-TTS "), ("tools", "edit", "voxly-tts", "--slug", "voxly-tts"),
    ("tools", "edit", "#5", "--price", "paid", "--release", "price"),
    ("-q", "tools", "edit", "minutely", "--tagline", ""),
    ("tools", "edit", "nosuch", "--name", "X"), ("tools", "edit", "lintern"),
    ("tools", "edit", "lintern", "--name", "  "), ("tools", "edit", "lintern", "--price", "cheap"),
    ("tools", "edit", "lintern", "--url", "ftp://lintern.example"),
    ("tools", "edit", "lintern", "--category", "c" * 101), ("tools", "edit", "lintern", "--name", "n" * 301),
    ("tools", "edit", "lintern", "--tagline", "bell\x07"), ("tools", "edit", "lintern", "--slug", "Bad Slug"),
    ("tools", "edit", "lintern", "--slug", "s" * 121), ("tools", "edit", "lintern", "--slug", "patchwise"),
    ("tools", "edit", "lintern", "--release", "colour"), ("tools", "edit", "lintern", "--name", "X", "--url", "x"),
)


def test_tools_hide_keep_edit_print_and_store_what_the_orm_version_did(cli, home) -> None:
    add_tools(home)
    add_tools(home, ["noisy"], noisy={"launch": False, "reason": "a question, not a launch"})
    sql(home, "UPDATE tool SET override = 'hide' WHERE slug = 'voxly'")
    printed = _run(cli, home, TOOL_STEPS)
    keys = [list(row) for row in sql(home, "SELECT kind, value, tool_id FROM toolkey ORDER BY kind, value")]
    _check("tools", {"steps": printed, "tool": _tool_rows(home), "toolkey": keys})


@pytest.fixture
def comparisons(cli, home) -> None:
    add_tools(home)
    for a, b in (("patchwise", "lintern"), ("minutely", "recapper"), ("pixelmuse", "voxly"), ("stubby", "lintern")):
        assert cli("pair", a, b).exit_code == 0
    review_all(cli, 3, "pixelmuse", "voxly", "SSSS", "KKKK")


NEW_SET_STEPS = (
    ("issue", "new", "--subject", "First"),
    (("issue", "new", "--subject", " Robots  review code ", "--comparison", "2", "--comparison", "1",
      "--preheader", "Two pairs", "--intro", "-"), {"input": "Hello readers.\r\n\r\nTwo pairs.\n"}),
    ("issue", "new", "--subject", "Ready", "--comparison", "3", "--json"),
    ("-q", "issue", "new", "--subject", "Quiet"),
    ("issue", "new", "--subject", " "), ("issue", "new", "--subject", "a\nb"),
    ("issue", "new", "--subject", "s" * 301), ("issue", "new", "--subject", "X", "--comparison", "9"),
    ("issue", "new", "--subject", "X", "--comparison", "1"),
    ("issue", "new", "--subject", "X", "--comparison", "4", "--comparison", "4"),
    ("issue", "new", "--subject", "X", "--comparison", "x"), ("issue", "new", "--subject", "X", "--preheader", "p\rq"),
    ("issue", "new", "--subject", "X", "--intro", "i" * 5001), ("issue", "new", "--subject", "X", "--intro", "a\x00"),
    ("issue", "new", "--comparison", "4"),
    ("issue", "new", "--subject", "Last", "--comparison", "4"),
    ("issue", "set", "1", "--subject", "First, renamed"), ("issue", "set", "1", "--subject", "First, renamed"),
    (("issue", "set", "1", "--preheader", "", "--intro", "-"), {"input": "New intro.\n"}),
    ("issue", "set", "2", "--preheader", "", "--subject", "Robots review code", "--intro", "Changed."),
    ("-q", "issue", "set", "4", "--preheader", "Quietly"),
    ("issue", "set", "1"), ("issue", "set", "99", "--subject", "X"), ("issue", "set", "x", "--subject", "X"),
    ("issue", "set", "1", "--subject", ""), ("issue", "set", "1", "--subject", "a\r\nBcc: x@example.com"),
    ("issue", "set", "3", "--subject", "Too late"), ("issue", "set", "4", "--intro", "Scheduled is fine."),
)


def test_issue_new_and_set_print_and_store_what_the_orm_version_did(cli, home, comparisons) -> None:
    steps = list(NEW_SET_STEPS)
    printed = _run(cli, home, steps[:16])
    sql(home, "UPDATE issue SET status = 'sent' WHERE number = 3")
    sql(home, "UPDATE issue SET status = 'scheduled' WHERE number = 4")
    printed += _run(cli, home, steps[16:])
    _check("issue new and set", {"steps": printed, **_issue_rows(home)})


ASSEMBLY_STEPS = (
    ("issue", "add", "1", "1"), ("issue", "add", "1", "2", "--position", "1"),
    ("issue", "add", "1", "3", "--position", "2"), ("-q", "issue", "add", "2", "4"),
    ("issue", "add", "1", "3"), ("issue", "add", "2", "1"), ("issue", "add", "2", "5", "--position", "9"),
    ("issue", "add", "2", "5", "--position", "0"), ("issue", "add", "2", "5", "--position", "3"),
    ("issue", "add", "99", "1"), ("issue", "add", "1", "99"), ("issue", "add", "x", "1"),
    ("issue", "add", "1", "0"), ("issue", "add", "2", "1", "--position", "9"),
    ("issue", "move", "1", "1", "--to", "1"), ("issue", "move", "1", "1", "--to", "1"),
    ("issue", "move", "1", "2", "--to", "3"), ("issue", "move", "1", "4", "--to", "1"),
    ("issue", "move", "1", "2", "--to", "4"), ("issue", "move", "1", "2", "--to", "0"),
    ("issue", "move", "1", "99", "--to", "1"), ("issue", "move", "99", "1", "--to", "1"),
    ("issue", "remove", "1", "3"), ("issue", "remove", "1", "3"), ("-q", "issue", "remove", "2", "4"),
    ("issue", "remove", "1", "99"), ("issue", "remove", "99", "1"),
    ("issue", "add", "3", "3"), ("issue", "move", "3", "6", "--to", "1"), ("issue", "remove", "3", "6"),
    ("issue", "add", "3", "99"), ("issue", "delete", "3"), ("issue", "delete", "4"),
    ("issue", "add", "4", "3", "--position", "1"), ("issue", "delete", "2"), ("issue", "delete", "2"),
    ("issue", "delete", "x"), ("issue", "delete", "1"), ("-q", "issue", "delete", "5"),
    ("issue", "new", "--subject", "After the deletes", "--comparison", "1"),
)


def test_issue_assembly_prints_and_stores_what_the_orm_version_did(cli, home, comparisons) -> None:
    for n in range(2, 7):
        assert cli("pair", "patchwise", ("minutely", "recapper", "pixelmuse", "voxly", "stubby")[n - 2]).exit_code == 0
    for subject in ("One", "Two", "Locked", "Scheduled", "Empty"):
        assert cli("issue", "new", "--subject", subject).exit_code == 0
    assert cli("issue", "add", "3", "6").exit_code == 0
    sql(home, "UPDATE issue SET status = 'sent' WHERE number = 3")
    sql(home, "UPDATE issue SET status = 'scheduled' WHERE number = 4")
    printed = _run(cli, home, ASSEMBLY_STEPS)
    _check("issue assembly", {"steps": printed, **_issue_rows(home)})


PAIR_STEPS = (
    ("pair", "patchwise", "lintern"), ("pair", "patchwise", "lintern", "--title", "  The rematch "),
    ("pair", "lintern", "patchwise", "--json"), ("-q", "pair", "minutely", "recapper"),
    ("pair", "pixelmuse", "#7", "--json"), ("pair", "patchwise", "patchwise"), ("pair", "patchwise", "#1"),
    ("pair", "nosuch", "lintern"), ("pair", "lintern", "nosuch"), ("pair", " ", "lintern"),
    ("pair", "#x", "lintern"), ("pair", "voxly", "lintern"), ("pair", "lintern", "noisy"),
    ("pair", "stubby", "lintern", "--title", " "), ("pair", "stubby", "lintern", "--title", "t" * 301),
    ("pair", "stubby", "lintern", "--title", "a\x00b"), ("pair", "stubby"),
    ("pair", "recapper", "minutely", "--title", "After the issues"), ("pair", "lintern", "patchwise", "--json"),
)


def _comparison_rows(home: Path) -> list:
    return [list(row) for row in sql(home, "SELECT id, tool_a_id, tool_b_id, title, pricing_read FROM comparison "
                                           "ORDER BY id")]


def test_pair_prints_and_stores_what_the_orm_version_did(cli, home) -> None:
    add_tools(home)
    add_tools(home, ["noisy"], noisy={"launch": False, "reason": "a question, not a launch"})
    sql(home, "UPDATE tool SET override = 'hide' WHERE slug = 'voxly'")
    steps = list(PAIR_STEPS)
    printed = _run(cli, home, steps[:-2])
    for subject, comparison in (("Sent", "1"), ("Draft", "4")):
        assert cli("issue", "new", "--subject", subject, "--comparison", comparison).exit_code == 0
    sql(home, "UPDATE issue SET status = 'sent' WHERE number = 1")
    printed += _run(cli, home, steps[-2:])
    _check("pair", {"steps": printed, "comparison": _comparison_rows(home)})


COMPARISON_STEPS = (
    ("comparison", "set", "1", "--title", "  Robots  review code "), ("comparison", "set", "1", "--title", "Robots review code"),
    (("comparison", "set", "1", "--pricing-read", "-"), {"input": "Both start free.\r\nOnly one charges per seat.\n"}),
    ("comparison", "set", "2", "--title", "Notes, summed", "--pricing-read", "Free tiers."),
    ("-q", "comparison", "set", "4", "--pricing-read", ""), ("comparison", "set", "4", "--pricing-read", "  "),
    ("comparison", "set", "1"), ("comparison", "set", "99", "--title", "X"), ("comparison", "set", "x", "--title", "X"),
    ("comparison", "set", "0", "--title", "X"), ("comparison", "set", "1", "--title", " "),
    ("comparison", "set", "1", "--title", "t" * 301), ("comparison", "set", "1", "--title", "a\nb"),
    ("comparison", "set", "1", "--pricing-read", "p" * 2001), ("comparison", "set", "1", "--pricing-read", "a\x07"),
    ("comparison", "set", "5", "--title", "Too late"), ("comparison", "set", "6", "--title", "Scheduled is fine"),
    ("comparison", "delete", "5"), ("comparison", "delete", "99"), ("comparison", "delete", "x"),
    ("comparison", "delete", "1"), ("comparison", "delete", "1"), ("-q", "comparison", "delete", "6"),
    ("comparison", "delete", "2"), ("comparison", "delete", "3"),
)


def _comparison_stamps(home: Path) -> dict[int, str]:
    return {row[0]: str(row[1]) for row in sql(home, "SELECT id, updated_at FROM comparison")}


def test_comparison_set_and_delete_print_and_store_what_the_orm_version_did(cli, home, comparisons) -> None:
    for other in ("minutely", "recapper"):
        assert cli("pair", other, "stubby").exit_code == 0  # 5 and 6
    review_all(cli, 1, "patchwise", "lintern", "SSK-", "KS--")
    sql(home, "INSERT INTO subscriber (email, email_key, status, source, created_at, bounce_count) "
              "VALUES ('r@x.example', 'r@x.example', 'active', 'cli', '2026-01-01 00:00:00', 0)")
    for comparison in (1, 3):
        sql(home, "INSERT INTO vote (comparison_id, subscriber_id, choice, created_at, updated_at) "
                  "VALUES (?, 1, 'a', '2026-01-01 00:00:00', '2026-01-01 00:00:00')", comparison)
    for subject, chosen in (("Sent", ("5",)), ("Scheduled", ("6",)), ("Draft", ("2", "1", "3"))):
        assert cli("issue", "new", "--subject", subject, *[x for c in chosen for x in ("--comparison", c)]).exit_code == 0
    sql(home, "UPDATE issue SET status = 'sent' WHERE number = 1")
    sql(home, "UPDATE issue SET status = 'scheduled' WHERE number = 2")
    printed = []
    for step in COMPARISON_STEPS:
        before = _comparison_stamps(home)
        printed += _run(cli, home, [step])
        after = _comparison_stamps(home)
        printed[-1]["comparisons touched"] = sorted(n for n in after if n in before and after[n] != before[n])
    _check("comparison set and delete", {
        "steps": printed, "comparison": _comparison_rows(home), **_issue_rows(home),
        "reviews": [list(r) for r in sql(home, "SELECT comparison_id, reviewer, verdict FROM review "
                                               "ORDER BY comparison_id, tool_id, reviewer")],
        "votes": [list(r) for r in sql(home, "SELECT comparison_id, subscriber_id FROM vote ORDER BY comparison_id")]})
