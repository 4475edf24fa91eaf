"""The database: init is idempotent, upgrades keep rows, the models match the migrations."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import SQLModel

from digest.db import MIGRATIONS, SCHEMA_REVISION, open_database


def test_schema_revision_constant_is_alembic_head() -> None:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(config).get_current_head() == SCHEMA_REVISION


def test_models_match_migrated_schema(engine) -> None:
    import digest.models  # noqa: F401

    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, SQLModel.metadata)
    assert diff == []


@pytest.mark.sqlite_only
def test_sqlite_runs_in_wal_mode_with_foreign_keys(engine) -> None:
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


@pytest.mark.sqlite_only
def test_init_twice_keeps_rows(cli, home: Path) -> None:
    db = sqlite3.connect(home / "digest.db")
    db.execute("INSERT INTO counter (name, value) VALUES ('issue', 7)")
    db.commit()
    db.close()
    result = cli("init")
    assert result.exit_code == 0
    assert "already at schema" in result.output
    db = sqlite3.connect(home / "digest.db")
    assert db.execute("SELECT value FROM counter WHERE name = 'issue'").fetchone() == (7,)


def test_init_again_on_a_database_in_use_keeps_every_row_and_the_key(cli, home: Path, engine, settings) -> None:
    """The upgrade path: `digest init` on a folder that has been working for a while changes
    no row of any table, and keeps the key that every link already sent was signed with."""
    from delivery_helpers import add_subscribers, make_ready_issue
    from editorial_support import dump

    from digest.outbox import queue_issue

    make_ready_issue(engine, settings, number=1, comparisons=2)
    add_subscribers(engine, ["ann@example.com", "bob@example.com", "cy@example.com"])
    queue_issue(engine=engine, settings=settings, number=1)
    assert cli("subscribers", "remove", "cy@example.com").exit_code == 0
    assert cli("issue", "new", "--subject", "Next week").exit_code == 0
    before = dump(home)
    assert {line.split(":", 1)[0] for line in before.splitlines()} >= {
        "tool", "comparison", "review", "issue", "issuecomparison", "subscriber", "suppression", "delivery", "counter"}
    key = (home / ".digest-secret").read_bytes()
    settings_text = (home / "digest.toml").read_text(encoding="utf-8")

    result = cli("init")
    assert result.exit_code == 0, result.output
    assert "database already at schema" in result.stdout and "created" not in result.stdout
    assert dump(home) == before
    assert (home / ".digest-secret").read_bytes() == key
    assert (home / "digest.toml").read_text(encoding="utf-8") == settings_text
    assert cli("issue", "new", "--subject", "After").stdout == "3\n"  # numbering carries on


def test_key_file_is_owner_only(home: Path) -> None:
    assert (home / ".digest-secret").stat().st_mode & 0o777 == 0o600


@pytest.mark.sqlite_only
def test_commands_refuse_a_missing_database(tmp_path: Path, make_cli) -> None:
    from digest.config import load_settings
    from digest.errors import DatabaseError

    with pytest.raises(DatabaseError, match="no database"):
        open_database(load_settings(tmp_path, environ={}))


@pytest.mark.sqlite_only
def test_old_schema_is_refused_until_init(cli, home: Path, settings) -> None:
    from digest.errors import DatabaseError

    db = sqlite3.connect(home / "digest.db")
    db.execute("UPDATE alembic_version SET version_num = '0000'")
    db.commit()
    db.close()
    with pytest.raises(DatabaseError, match="schema is at 0000"):
        open_database(settings)


def test_bad_settings_exit_2_with_one_line(cli, home: Path) -> None:
    (home / "digest.toml").write_text("[poll]\nconcurrency = 'x'\n", encoding="utf-8")
    result = cli("init")
    assert result.exit_code == 2
    assert result.stderr.strip().count("\n") == 0
    assert "digest.toml: poll.concurrency: expected a whole number" in result.stderr


@pytest.mark.postgresql_only
def test_bare_postgresql_urls_and_pgbouncer_mode_run_on_psycopg_3(cli, settings) -> None:
    from digest.db import make_engine

    bare = settings.database_url.replace("postgresql+psycopg://", "postgresql://")
    for url in (bare, bare.replace("postgresql://", "postgres://")):
        result = cli("subscribers", "add", f"{url[:8]}@example.com", env={"DIGEST_DATABASE_URL": url,
                                                                         "DIGEST_DATABASE_PGBOUNCER": "true"})
        assert result.exit_code == 0, result.output
    for pgbouncer, threshold in ((True, None), (False, 5)):
        engine = make_engine(bare, pgbouncer=pgbouncer)
        with engine.connect() as connection:
            assert connection.dialect.driver == "psycopg"
            assert connection.connection.driver_connection.prepare_threshold == threshold
        engine.dispose()


@pytest.mark.sqlite_only
def test_tools_stored_before_launch_detection_stay_shown_after_the_upgrade(tmp_path: Path, make_cli) -> None:
    """0002 -> 0003 (launch detection): every tool stored before it was shown; it still is."""
    from alembic import command
    from sqlalchemy import create_engine

    from digest.db import _alembic_config

    cli = make_cli(tmp_path / "old")
    assert cli("init").exit_code == 0
    path = tmp_path / "old" / "digest.db"
    engine = create_engine(f"sqlite:///{path}")
    command.downgrade(_alembic_config(engine), "0002")
    engine.dispose()
    db = sqlite3.connect(path)
    db.execute("INSERT INTO tool (slug, name, tagline, description, price, first_seen_at, edited) "
               "VALUES ('old-tool', 'Old Tool', '', '', 'unknown', '2026-11-01 00:00:00', '[]')")
    db.commit()
    db.close()
    assert cli("init").exit_code == 0
    listed = cli("tools", "list", "--json")
    assert [record["slug"] for record in __import__("json").loads(listed.stdout)] == ["old-tool"]
