"""The PostgreSQL pass empties its one scratch database between tests (tests/conftest.py): a
test must find it as `digest init` left it, no rows and every id counting from 1 again, even
after a test that wrote rows tied together by foreign keys."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import _PG_DATABASE, _pg_empty
from sqlalchemy import func, select
from sqlmodel import SQLModel

import digest.models  # noqa: F401
from editorial_support import _engine, add_tools, review_all


def _rows(home: Path) -> dict[str, int]:
    engine = _engine(home)
    try:
        with engine.connect() as connection:
            return {table.name: connection.execute(select(func.count()).select_from(table)).scalar_one()
                    for table in SQLModel.metadata.tables.values()}
    finally:
        engine.dispose()


@pytest.mark.postgresql_only
def test_emptying_leaves_no_row_and_restarts_every_id(home: Path, cli, _pristine_home: Path) -> None:
    add_tools(home)
    assert cli("pair", "patchwise", "lintern").exit_code == 0
    review_all(cli, 1, "patchwise", "lintern", "SSK-", "SKK-")
    assert cli("issue", "new", "--subject", "A week", "--comparison", "1").exit_code == 0
    assert cli("subscribers", "add", "reader@example.org").exit_code == 0
    written = {name for name, count in _rows(home).items() if count}
    assert {"tool", "toolkey", "comparison", "review", "issue", "issuecomparison", "subscriber"} <= written

    _pg_empty(_PG_DATABASE, (_pristine_home / ".schema").read_text(encoding="utf-8"))

    assert not any(_rows(home).values()), _rows(home)
    assert add_tools(home, ["voxly", "stubby"]) == {"voxly": 1, "stubby": 2}
    assert cli("pair", "voxly", "stubby").stdout.strip() == "1"
