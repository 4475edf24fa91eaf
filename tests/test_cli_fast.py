"""digest.cli.fast answers `digest --help` and `digest tools list` without typer: byte for byte
what the full CLI answers, and everything else is left to the full CLI.

Each case runs twice as a whole process, once through the entry point (`digest.cli.main`, which
tries the fast path first) and once through the Typer app alone, and compares exit status,
stdout and stderr.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from feedserver import FeedServer, rss
from test_poll import LINTERN, MINUTELY, PATCHWISE, write_feeds

from digest.cli import fast
from digest.cli.commands import COMMANDS

ENTRY = "import sys; sys.argv[0] = 'digest'; from digest.cli import main; main()"
FULL = "import sys; sys.argv[0] = 'digest'; from digest.cli.root import app; app()"


def both(*args: str, columns: int | None = None) -> tuple[tuple, tuple]:
    env = {name: value for name, value in os.environ.items() if name not in ("COLUMNS", "LINES")}
    if columns is not None:
        env["COLUMNS"] = str(columns)
    runs = [subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=60)
            for code in (ENTRY, FULL)]
    return tuple((run.returncode, run.stdout, run.stderr) for run in runs)


def test_the_command_table_is_what_the_commands_declare() -> None:
    """The fast root help lists from COMMANDS; the Typer app from the commands themselves."""
    from digest.cli import root

    declared = [(name, lazy.stub()) for name, lazy in root._LAZY.items()]
    assert list(COMMANDS) == [(name, stub.get_short_help_str(10**6)) for name, stub in declared if not stub.hidden]


@pytest.mark.parametrize("columns", [None, 50, 64, 80, 100, 200])
def test_the_root_help_is_the_full_clis_at_every_width(columns: int | None) -> None:
    fast_run, full_run = both("--help", columns=columns)
    assert fast_run == full_run
    assert fast_run[0] == 0 and "Commands:" in fast_run[1]


@pytest.mark.parametrize("args", [("-h",), ("--home", "somewhere", "--help"), ("-v", "-q", "-h")])
def test_the_root_help_after_root_options(args: tuple[str, ...]) -> None:
    fast_run, full_run = both(*args)
    assert fast_run == full_run


@pytest.fixture
def catalogue(home: Path, feed_server: FeedServer, cli) -> Path:
    write_feeds(home, {"f": feed_server.route("/f.xml", body=rss(PATCHWISE, LINTERN, MINUTELY))})
    assert cli("poll").exit_code == 0
    return home


@pytest.mark.parametrize("args", [
    (), ("--json",), ("--all",), ("--new", "--limit", "2"), ("--limit=1", "--json"), ("--category", "Code Review"),
    ("--category=nothing",), ("--new", "--category", "nothing"), ("--category", "video", "--all", "--json"),
])
def test_tools_list_is_the_full_clis(catalogue: Path, args: tuple[str, ...]) -> None:
    assert fast._list_options(list(args)) is not None  # answered by the fast path
    fast_run, full_run = both("--home", str(catalogue), "tools", "list", *args)
    assert fast_run == full_run
    assert fast_run[0] == 0


@pytest.mark.parametrize("root", [("-q",), ("-v",), ("--verbose", "--quiet")])
def test_tools_list_with_root_options_is_the_full_clis(home: Path, root: tuple[str, ...]) -> None:
    fast_run, full_run = both(*root, f"--home={home}", "tools", "list")
    assert fast_run == full_run


def test_tools_list_errors_are_the_full_clis(home: Path, tmp_path: Path) -> None:
    """A missing folder, a bad setting: the same one line and exit status."""
    missing = both("--home", str(tmp_path / "nowhere"), "tools", "list")
    assert missing[0] == missing[1] and missing[0][0] == 2
    (home / "digest.toml").write_text('[database]\nurl = "mysql://x"\n', encoding="utf-8")
    bad_setting = both("--home", str(home), "tools", "list")
    assert bad_setting[0] == bad_setting[1] and bad_setting[0][0] == 2
    verbose = both("--home", str(home), "-v", "tools", "list")  # the traceback's frames differ, not its end
    assert [(code, err.splitlines()[0], err.splitlines()[-1]) for code, _, err in verbose] == \
        [(2, "Traceback (most recent call last):", bad_setting[0][2].strip())] * 2


@pytest.mark.sqlite_only
def test_tools_list_without_a_database_is_the_full_clis(home: Path) -> None:
    (home / "digest.db").unlink()
    no_database = both("--home", str(home), "tools", "list", "--json")
    assert no_database[0] == no_database[1] and no_database[0][0] == 2
    assert no_database[0][2].startswith("error: no database at")


@pytest.mark.parametrize("args", [
    (), ("--version",), ("--bogus",), ("-vq", "--help"), ("--home",), ("--home", "--help"), ("--home=", "tools", "list"),
    ("--", "--help"), ("--help", "tools"), ("tools",), ("tools", "list", "--help"), ("tools", "list", "-h"),
    ("tools", "list", "--limit", "0"), ("tools", "list", "--limit", "+3"), ("tools", "list", "--limit"),
    ("tools", "list", "--category"), ("tools", "list", "--category", "--new"), ("tools", "list", "extra"),
    ("tools", "list", "--", "--new"), ("tools", "list", "--jso"), ("tools", "lst"),
])
def test_everything_else_is_left_to_the_full_cli(home: Path, args: tuple[str, ...]) -> None:
    argv = ["--home", str(home), *args] if args[:1] != ("--home",) and args[:1] != ("--home=",) else list(args)
    assert fast.run(argv) is None
    fast_run, full_run = both(*argv)
    assert fast_run == full_run
