"""Start-up stays cheap: the CLI and the read path never import the heavy libraries.

Timing is measured in bench/poll.py; this checks the cause of slow start-ups instead, which
does not depend on the machine: which modules a command loads.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("sqlalchemy", "sqlmodel", "alembic", "httpx", "feedparser", "pydantic", "jinja2", "rich")

PROBE = """
import json, sys
from digest.cli import main
sys.argv = ["digest", *json.loads(sys.argv[1])]
try:
    main()
except SystemExit:
    pass
sys.stdout.flush()
sys.stderr.write(json.dumps(sorted(m for m in {heavy!r} if m in sys.modules)))
"""


ORM = ("sqlalchemy", "sqlmodel")  # what a command that reads through digest.data must not load


def loaded(*args: str, among: tuple[str, ...] = HEAVY) -> list[str]:
    result = subprocess.run([sys.executable, "-c", PROBE.format(heavy=among), json.dumps(list(args))],
                            capture_output=True, text=True, timeout=60)
    return json.loads(result.stderr.strip().splitlines()[-1])


def test_help_loads_no_heavy_library() -> None:
    assert loaded("--help") == []


def test_the_cli_loads_one_click_not_two(home: Path) -> None:
    """typer >= 0.26 runs on its vendored copy of click; importing click itself as well cost as
    much as the rest of typer. The root help is formatted by click alone (digest.cli.fast), the
    commands run on typer's copy, and `tools list` needs neither (but click's echo to say why
    nothing is listed)."""
    pytest.importorskip("typer._click")
    among = ("click", "typer")
    assert loaded("--help", among=among) == ["click"]
    assert loaded("--home", str(home), "tools", "list", "--json", among=among) == []
    assert loaded("--home", str(home), "tools", "list", among=among) == ["click"]
    assert loaded("--home", str(home), "issue", "list", among=among) == ["typer"]


COMMAND_MODULES = tuple(f"digest.cli.{name}" for name in (
    "root", "params", "bounces", "check", "core", "demo", "editorial", "issue", "poll", "render", "report",
    "schedule", "send", "setaside", "subscribers", "tools", "views", "web"))


def test_help_imports_neither_typer_nor_a_command_module() -> None:
    """The root help lists the commands from digest.cli.commands: importing typer and the
    fifteen command modules to learn their names was most of its start-up."""
    assert loaded("--help", among=("typer", *COMMAND_MODULES)) == []
    assert loaded("-h", among=("typer", *COMMAND_MODULES)) == []


@pytest.mark.sqlite_only  # on PostgreSQL the read path goes through SQLAlchemy by design
def test_tools_list_imports_only_what_it_uses(home: Path) -> None:
    """No typer, no command module, no settings beyond the [database] section (defining the
    Settings dataclasses, and importing dataclasses, cost a third of the command): the listing,
    its printing and the catalogue query."""
    unused = ("typer", *COMMAND_MODULES, "digest.config", "dataclasses", "inspect")
    assert loaded("--home", str(home), "-q", "tools", "list", "--all", among=unused) == []
    assert loaded("--home", str(home), "tools", "list", "--json", "--limit", "2", among=unused) == []


@pytest.mark.sqlite_only  # on PostgreSQL the read path goes through SQLAlchemy by design
def test_tools_list_and_show_read_through_sqlite3_alone(home: Path) -> None:
    assert loaded("--home", str(home), "tools", "list") == []
    assert loaded("--home", str(home), "tools", "list", "--json", "--limit", "5", "--category", "x") == []
    assert loaded("--home", str(home), "tools", "show", "nothing") == []


@pytest.mark.sqlite_only
def test_subscribers_list_needs_no_orm(home: Path) -> None:
    assert "sqlmodel" not in loaded("--home", str(home), "subscribers", "list")
    assert "sqlalchemy" not in loaded("--home", str(home), "subscribers", "list", "--json", "--status", "bounced")


@pytest.mark.sqlite_only
def test_set_aside_list_needs_no_orm(home: Path) -> None:
    assert loaded("--home", str(home), "set-aside", "list", among=ORM) == []
    assert loaded("--home", str(home), "set-aside", "list", "--json", "--kind", "vote", "--limit", "2", among=ORM) == []


@pytest.mark.sqlite_only
def test_subscribers_export_needs_no_orm(home: Path) -> None:
    assert loaded("--home", str(home), "subscribers", "export", among=ORM) == []
    assert loaded("--home", str(home), "subscribers", "export", "--status", "active", among=ORM) == []


@pytest.mark.sqlite_only
def test_issue_list_needs_no_orm(home: Path) -> None:
    assert "sqlalchemy" not in loaded("--home", str(home), "issue", "list")
    assert "sqlalchemy" not in loaded("--home", str(home), "issue", "list", "--json", "--status", "draft")


@pytest.mark.sqlite_only
def test_comparison_list_needs_no_orm(home: Path) -> None:
    assert "sqlalchemy" not in loaded("--home", str(home), "comparison", "list")
    assert "sqlalchemy" not in loaded("--home", str(home), "comparison", "list", "--json", "--unassigned")


@pytest.mark.sqlite_only
def test_issue_show_needs_no_orm(home: Path) -> None:
    assert "sqlalchemy" not in loaded("--home", str(home), "issue", "show", "1")
    assert "sqlalchemy" not in loaded("--home", str(home), "issue", "show", "1", "--json")


@pytest.mark.sqlite_only
def test_suggest_needs_no_orm(home: Path) -> None:
    assert "sqlalchemy" not in loaded("--home", str(home), "suggest")  # nothing to suggest
    from editorial_support import add_tools

    add_tools(home)
    assert "sqlalchemy" not in loaded("--home", str(home), "suggest")
    assert "sqlalchemy" not in loaded("--home", str(home), "suggest", "--json", "--include-older", "--include-paired")


@pytest.mark.sqlite_only
def test_issue_render_needs_no_orm(home: Path, engine) -> None:
    """Render reads its issue, its cards and last week's through digest.data: SQLAlchemy and
    SQLModel were most of `digest issue render`'s time (issue 14 §4)."""
    import dataclasses

    from digest.db import session_scope
    from digest.demo.sample import add_sample_issue, sample_issue_data

    with session_scope(engine, write=True) as session:
        add_sample_issue(session=session, data=dataclasses.replace(sample_issue_data(number=1), status="sent"))
        add_sample_issue(session=session, data=sample_issue_data(number=2, votes=False))
    assert loaded("--home", str(home), "issue", "render", "2", among=("sqlalchemy", "sqlmodel")) == []
    assert "Last week the community said" in (home / "outbox" / "2" / "web.html").read_text()
    assert "sqlalchemy" not in loaded("--home", str(home), "issue", "render", "1", "--json", "--out", str(home / "x"))
    assert (home / "x" / "sample.eml").is_file()


def test_issue_list_imports_only_the_editorial_parts_it_uses(home: Path) -> None:
    """digest.editorial names its functions lazily: listing issues does not load the
    scorecard parser, the suggestions or the catalogue corrections."""
    unused = ("digest.editorial.scorecard", "digest.editorial.suggest", "digest.editorial.catalogue",
              "digest.editorial.pairs")
    assert loaded("--home", str(home), "issue", "list", among=unused) == []


@pytest.mark.sqlite_only
def test_poll_of_nothing_needs_no_orm(home: Path) -> None:
    assert "sqlalchemy" not in loaded("--home", str(home), "poll")


BUILT = """
import json, sys
import typer.utils
calls = []
original = typer.utils.get_params_from_function
def counting(func):
    calls.append(func.__qualname__)
    return original(func)
typer.utils.get_params_from_function = counting
import typer.main
typer.main.get_params_from_function = counting
from digest.cli import main
sys.argv = ["digest", *json.loads(sys.argv[1])]
try:
    main()
except SystemExit:
    pass
sys.stdout.flush()
sys.stderr.write(json.dumps(calls))
"""


def built(*args: str) -> list[str]:
    """The command functions whose parameters typer turned into click's, for one invocation."""
    result = subprocess.run([sys.executable, "-c", BUILT, json.dumps(list(args))],
                            capture_output=True, text=True, timeout=60)
    return json.loads(result.stderr.strip().splitlines()[-1])


def test_a_command_builds_only_itself_not_the_whole_cli(home: Path) -> None:
    """Turning every one of the CLI's 45 commands into click's on each start cost more than
    importing click: `--help` builds none of them, `tools show` only the tools group's."""
    root = {"root", "_version"}
    assert set(built("--help")) == set()  # answered by digest.cli.fast, without typer
    assert set(built("--home", str(home), "tools", "show", "1")) == root | {
        "list_tools", "show_tool", "tools_edit", "tools_merge", "tools_keep", "tools_hide", "tools_enrich"}
    assert set(built("--home", str(home), "suggest")) == root | {"suggest"}


@pytest.mark.sqlite_only
def test_comparison_show_needs_no_orm(home: Path, engine) -> None:
    from digest.db import session_scope
    from digest.demo.sample import add_sample_issue

    with session_scope(engine, write=True) as session:
        add_sample_issue(session=session)
    assert loaded("--home", str(home), "comparison", "show", "1", among=ORM) == []
    assert loaded("--home", str(home), "comparison", "show", "2", "--json", among=ORM) == []
    assert loaded("--home", str(home), "comparison", "show", "9", among=ORM) == []  # no such comparison


@pytest.mark.sqlite_only  # on PostgreSQL digest.data runs its SQL through SQLAlchemy by design
def test_tools_hide_keep_and_edit_need_no_orm(home: Path) -> None:
    """The editor's corrections write through digest.editorial.corrections on digest.data
    (issue 14 §4): SQLAlchemy and SQLModel were most of each command's start-up."""
    from editorial_support import add_tools

    add_tools(home, ["patchwise", "lintern"])
    assert loaded("--home", str(home), "tools", "hide", "patchwise", "lintern", among=ORM) == []
    assert loaded("--home", str(home), "tools", "keep", "--release", "patchwise", among=ORM) == []
    assert loaded("--home", str(home), "tools", "edit", "lintern", "--name", "Lintern Pro", "--price", "paid",
                  "--url", "https://lintern.example/pro", among=ORM) == []
    assert loaded("--home", str(home), "tools", "edit", "nosuch", "--name", "X", among=ORM) == []
    from editorial_support import sql

    assert sql(home, "SELECT slug, name, price, override FROM tool ORDER BY id") == [
        ("patchwise", "Patchwise", "freemium", None), ("lintern", "Lintern Pro", "paid", "hide")]


@pytest.mark.sqlite_only
def test_issue_report_needs_no_orm(home: Path, engine) -> None:
    from digest.db import session_scope
    from digest.demo.sample import add_sample_issue

    with session_scope(engine, write=True) as session:
        add_sample_issue(session=session)
    assert loaded("--home", str(home), "issue", "report", "1", among=ORM) == []
    assert loaded("--home", str(home), "issue", "report", "1", "--json", "--previous", "5", among=ORM) == []
    assert loaded("--home", str(home), "issue", "report", "1", "--html", "--output", str(home / "r.html"),
                  among=ORM) == []
    assert (home / "r.html").is_file()


@pytest.mark.sqlite_only  # on PostgreSQL digest.data runs its SQL through SQLAlchemy by design
def test_issue_new_and_set_need_no_orm(cli, home: Path) -> None:
    """`issue new` and `issue set` write through digest.editorial.assembly on digest.data, and
    `issue new` reads the issue it made back the way `issue show` does (issue 14 §4)."""
    from editorial_support import add_tools, sql

    add_tools(home, ["patchwise", "lintern"])
    assert cli("pair", "patchwise", "lintern").exit_code == 0
    assert loaded("--home", str(home), "issue", "new", "--subject", "One", "--comparison", "1", among=ORM) == []
    assert loaded("--home", str(home), "issue", "new", "--subject", "Two", "--json", among=ORM) == []
    assert loaded("--home", str(home), "issue", "set", "2", "--subject", "Second", "--intro", "Hi", among=ORM) == []
    assert loaded("--home", str(home), "issue", "set", "9", "--subject", "None", among=ORM) == []
    assert sql(home, "SELECT number, subject, intro FROM issue ORDER BY number") == [(1, "One", ""),
                                                                                    (2, "Second", "Hi")]
    assert sql(home, "SELECT comparison_id, position FROM issuecomparison") == [(1, 1)]


@pytest.mark.sqlite_only
def test_schedule_list_needs_no_orm(home: Path) -> None:
    """The listing reads the job store, the runs, the leases and the issues through
    digest.data.schedule: importing the models was most of `digest schedule list`."""
    assert loaded("--home", str(home), "schedule", "list", among=ORM) == []
    assert loaded("--home", str(home), "schedule", "list", "--json", among=ORM) == []


@pytest.mark.sqlite_only  # on PostgreSQL digest.data runs its SQL through SQLAlchemy by design
def test_issue_add_remove_move_and_delete_need_no_orm(cli, home: Path) -> None:
    """Assembling an issue writes through digest.editorial.assembly on digest.data (issue 14 §4)."""
    from editorial_support import add_tools, sql

    add_tools(home, ["patchwise", "lintern", "stubby"])
    for pair in (("patchwise", "lintern"), ("lintern", "stubby")):
        assert cli("pair", *pair).exit_code == 0
    for subject in ("One", "Two"):
        assert cli("issue", "new", "--subject", subject).exit_code == 0
    assert loaded("--home", str(home), "issue", "add", "1", "1", among=ORM) == []
    assert loaded("--home", str(home), "issue", "add", "1", "2", "--position", "1", among=ORM) == []
    assert loaded("--home", str(home), "issue", "move", "1", "2", "--to", "2", among=ORM) == []
    assert loaded("--home", str(home), "issue", "remove", "1", "1", among=ORM) == []
    assert loaded("--home", str(home), "issue", "add", "2", "2", among=ORM) == []  # refused: in issue 1
    assert loaded("--home", str(home), "issue", "delete", "2", among=ORM) == []
    assert sql(home, "SELECT i.number, s.comparison_id, s.position FROM issuecomparison s "
                     "JOIN issue i ON i.id = s.issue_id") == [(1, 2, 1)]
    assert sql(home, "SELECT number FROM issue") == [(1,)]


@pytest.mark.sqlite_only  # on PostgreSQL digest.data runs its SQL through SQLAlchemy by design
def test_pair_needs_no_orm(home: Path) -> None:
    """`digest pair` writes through digest.editorial.pairing on digest.data (issue 14 §4),
    warning and refusing alike."""
    from editorial_support import add_tools, sql

    add_tools(home, ["patchwise", "lintern", "voxly"])
    sql(home, "UPDATE tool SET override = 'hide' WHERE slug = 'voxly'")
    assert loaded("--home", str(home), "pair", "patchwise", "lintern", among=ORM) == []
    assert loaded("--home", str(home), "pair", "lintern", "patchwise", "--json", among=ORM) == []  # warns
    assert loaded("--home", str(home), "pair", "patchwise", "voxly", among=ORM) == []  # refused: hidden
    assert sql(home, "SELECT tool_a_id, tool_b_id FROM comparison ORDER BY id") == [(1, 2), (2, 1)]


@pytest.mark.sqlite_only
def test_subscribers_add_and_remove_need_no_orm(home: Path) -> None:
    """They write through digest.audience and digest.data (issue 14 §4), refusals included."""
    assert loaded("--home", str(home), "subscribers", "add", "ann@example.com", among=ORM) == []
    assert loaded("--home", str(home), "subscribers", "add", "--json", "ann@example.com", among=ORM) == []
    assert loaded("--home", str(home), "subscribers", "remove", "ann@example.com", "--json", among=ORM) == []
    assert loaded("--home", str(home), "subscribers", "add", "ann@example.com", among=ORM) == []  # refused
    assert loaded("--home", str(home), "subscribers", "add", "not-an-address", among=ORM) == []
    assert loaded("--home", str(home), "subscribers", "remove", "nobody@example.com", among=ORM) == []
    from editorial_support import sql

    assert sql(home, "SELECT email_key, status FROM subscriber") == [("ann@example.com", "unsubscribed")]


@pytest.mark.sqlite_only  # on PostgreSQL digest.data runs its SQL through SQLAlchemy by design
def test_comparison_set_and_delete_need_no_orm(cli, home: Path) -> None:
    """`digest comparison set` and `delete` write through digest.editorial.pairing on
    digest.data (issue 14 §4), refusals included."""
    from editorial_support import add_tools, sql

    add_tools(home, ["patchwise", "lintern", "stubby"])
    for pair in (("patchwise", "lintern"), ("lintern", "stubby")):
        assert cli("pair", *pair).exit_code == 0
    assert cli("issue", "new", "--subject", "Sent", "--comparison", "2").exit_code == 0
    sql(home, "UPDATE issue SET status = 'sent'")
    assert loaded("--home", str(home), "comparison", "set", "1", "--title", "Renamed", among=ORM) == []
    assert loaded("--home", str(home), "comparison", "set", "2", "--title", "Too late", among=ORM) == []  # refused
    assert loaded("--home", str(home), "comparison", "delete", "2", among=ORM) == []  # refused
    assert loaded("--home", str(home), "comparison", "delete", "1", among=ORM) == []
    assert sql(home, "SELECT id, title FROM comparison") == [(2, "Lintern vs Stubby")]


@pytest.mark.sqlite_only
def test_issue_schedule_needs_no_orm(home: Path) -> None:
    """`digest issue schedule` writes through digest.scheduler.booking on digest.data (issue 14
    §4): weekly, one-off, cleared and refused alike."""
    from editorial_support import sql

    assert loaded("--home", str(home), "issue", "new", "--subject", "One", among=ORM) == []
    assert loaded("--home", str(home), "issue", "schedule", "1", among=ORM) == []
    assert loaded("--home", str(home), "issue", "schedule", "1", "--at", "2030-01-01T09:00", "--json", among=ORM) == []
    assert loaded("--home", str(home), "issue", "schedule", "1", "--clear", among=ORM) == []
    assert loaded("--home", str(home), "issue", "schedule", "1", "--clear", among=ORM) == []  # refused: a draft
    assert loaded("--home", str(home), "issue", "schedule", "9", among=ORM) == []
    assert loaded("--home", str(home), "issue", "schedule", "1", "--at", "2030-01-01T09:00", among=ORM) == []
    assert sql(home, "SELECT number, status FROM issue") == [(1, "scheduled")]
