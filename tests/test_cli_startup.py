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


def loaded(*args: str) -> list[str]:
    result = subprocess.run([sys.executable, "-c", PROBE.format(heavy=HEAVY), json.dumps(list(args))],
                            capture_output=True, text=True, timeout=60)
    return json.loads(result.stderr.strip().splitlines()[-1])


def test_help_loads_no_heavy_library() -> None:
    assert loaded("--help") == []


@pytest.mark.sqlite_only  # on PostgreSQL the read path goes through SQLAlchemy by design
def test_tools_list_and_show_read_through_sqlite3_alone(home: Path) -> None:
    assert loaded("--home", str(home), "tools", "list") == []
    assert loaded("--home", str(home), "tools", "list", "--json", "--limit", "5", "--category", "x") == []
    assert loaded("--home", str(home), "tools", "show", "nothing") == []


@pytest.mark.sqlite_only
def test_poll_of_nothing_needs_no_orm(home: Path) -> None:
    assert "sqlalchemy" not in loaded("--home", str(home), "poll")
