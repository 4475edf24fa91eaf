"""Shared fixtures: a real newsletter folder with a real SQLite file per test, and the real CLI."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import typer.main
from click.testing import CliRunner

from digest.cli import app
from digest.config import load_settings


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No DIGEST_* variable of the developer's shell leaks into a test."""
    for name in list(os.environ):
        if name.startswith("DIGEST_"):
            monkeypatch.delenv(name)
    # The machine's zone is the scheduler's default: the same UTC on every machine running tests.
    import tzlocal

    monkeypatch.setenv("TZ", "UTC")
    tzlocal.reload_localzone()


_COMMAND = []


def _command():
    """The click command tree, built once (Typer's runner rebuilds it on every call)."""
    if not _COMMAND:
        _COMMAND.append(typer.main.get_command(app))
    return _COMMAND[0]


class Cli:
    """Runs `digest --home HOME ...` in-process through Typer's runner, as a user would."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None, env: dict[str, str] | None = None):
        return self.runner.invoke(_command(), ["--home", str(self.home), *args], input=input, env=env,
                                  catch_exceptions=False)


# TEST_DATABASE=postgresql runs the suite on the PostgreSQL server of this machine: one scratch
# database per test run, migrated once, emptied before each test by DELETE and setval (~2 ms;
# TRUNCATE … RESTART IDENTITY of the 18 tables took ~30 ms quiet and ~0.1 s under load, as it
# swaps every table's files, and CREATE DATABASE … TEMPLATE with DROP DATABASE ~1 s a test).
# A test that changed the schema itself gets a fresh copy of the migrated template instead.
BACKEND = os.environ.get("TEST_DATABASE", "sqlite")
PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
_PG_TEMPLATE = f"digest_test_{os.getpid()}_template"
_PG_DATABASE = f"digest_test_{os.getpid()}"
_SCHEMA = """SELECT md5(string_agg(table_name || '.' || column_name || ':' || data_type, ','
                                  ORDER BY table_name, column_name))
             || (SELECT string_agg(version_num, ',') FROM alembic_version)
             FROM information_schema.columns WHERE table_schema = 'public'"""


def _pg_admin(*statements: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as connection:
        for statement in statements:
            connection.execute(statement)


def _pg_url(database: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(PG_ADMIN_URL)
    return f"postgresql+psycopg://{parts.netloc}/{database}"


def _pg_schema(database: str) -> str:
    import psycopg

    with psycopg.connect(_pg_url(database).replace("+psycopg", ""), autocommit=True) as connection:
        return connection.execute(_SCHEMA).fetchone()[0]


def _pg_empty(database: str, schema: str) -> None:
    """Make `database` what `digest init` left: no rows, sequences from 1, the migrated schema."""
    import psycopg

    with psycopg.connect(_pg_url(database).replace("+psycopg", ""), autocommit=True) as connection:
        connection.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                           "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        if connection.execute(_SCHEMA).fetchone()[0] == schema:
            _pg_delete_rows(connection)
            return
    _pg_admin(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)", f"CREATE DATABASE {database} TEMPLATE {_PG_TEMPLATE}")


def _pg_delete_rows(connection) -> None:  # noqa: ANN001
    """Every row of every table gone and each sequence a test used back at its start, as
    TRUNCATE … RESTART IDENTITY would leave them. DELETE of an empty table writes nothing, and
    replica mode skips the foreign-key triggers, so the order of the tables does not matter
    (it needs a superuser, as the suite's `postgres` is)."""
    with connection.transaction():
        connection.execute("SET LOCAL session_replication_role = replica")
        for (table,) in connection.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                                           "AND tablename <> 'alembic_version'").fetchall():
            connection.execute(f'DELETE FROM "{table}"')
        connection.execute("SELECT setval(format('%I.%I', schemaname, sequencename), start_value, false) "
                           "FROM pg_sequences WHERE schemaname = 'public' AND last_value IS NOT NULL")


def _use_database(folder: Path, url: str) -> None:
    with (folder / "digest.toml").open("a", encoding="utf-8") as handle:
        handle.write(f'\n[database]\nurl = "{url}"\n')


@pytest.fixture(scope="session")
def _pristine_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One `digest init` per test run; each test gets a copy (migrating per test is slow)."""
    folder = tmp_path_factory.mktemp("pristine") / "newsletter"
    if BACKEND == "postgresql":
        _pg_admin(f"DROP DATABASE IF EXISTS {_PG_TEMPLATE}", f"CREATE DATABASE {_PG_TEMPLATE}")
        folder.mkdir(parents=True)
        (folder / "digest.toml").write_text("", encoding="utf-8")
        _use_database(folder, _pg_url(_PG_TEMPLATE))
    result = Cli(folder)("init")
    assert result.exit_code == 0, result.output
    (folder / "feeds.toml").write_text("", encoding="utf-8")
    # A test folder mails sample readers only: `digest check` placeholders are warnings here.
    settings_file = folder / "digest.toml"
    settings_file.write_text("sandbox = true\n" + settings_file.read_text(encoding="utf-8"), encoding="utf-8")
    if BACKEND == "postgresql":
        _pg_admin(f"DROP DATABASE IF EXISTS {_PG_DATABASE}", f"CREATE DATABASE {_PG_DATABASE} TEMPLATE {_PG_TEMPLATE}")
        settings_file = folder / "digest.toml"
        settings_file.write_text(settings_file.read_text(encoding="utf-8").replace(_PG_TEMPLATE, _PG_DATABASE),
                                 encoding="utf-8")
        folder.joinpath(".schema").write_text(_pg_schema(_PG_DATABASE), encoding="utf-8")
    yield folder
    if BACKEND == "postgresql":
        _pg_admin(f"DROP DATABASE IF EXISTS {_PG_DATABASE} WITH (FORCE)",
                  f"DROP DATABASE IF EXISTS {_PG_TEMPLATE} WITH (FORCE)")


@pytest.fixture
def home(tmp_path: Path, _pristine_home: Path) -> Iterator[Path]:
    """An initialised newsletter folder (with a real, empty database of its own) and no feeds."""
    folder = tmp_path / "newsletter"
    shutil.copytree(_pristine_home, folder, ignore=shutil.ignore_patterns(".schema"))
    if BACKEND == "postgresql":
        _pg_empty(_PG_DATABASE, (_pristine_home / ".schema").read_text(encoding="utf-8"))
    yield folder


@pytest.fixture
def cli(home: Path) -> Cli:
    return Cli(home)


@pytest.fixture
def settings(home: Path):
    return load_settings(home)


@pytest.fixture
def engine(settings) -> Iterator:
    from digest.db import open_database

    engine = open_database(settings)
    yield engine
    engine.dispose()


@pytest.fixture
def make_cli() -> Callable[[Path], Cli]:
    return Cli


# Headless Chromium, Debian's (never a downloaded build), for the browser tests.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage"]


@pytest.fixture(scope="session")
def browser() -> Iterator:
    """One Chromium for every browser test of the run (starting Playwright's driver and the
    browser costs ~1 s); each test opens its own page or context. While sync Playwright runs it
    keeps an event loop running on this thread, so asyncio.run() fails: the tests that use the
    browser run after all the others (pytest_collection_modifyitems)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def feed_server() -> Iterator:
    """A real HTTP server on 127.0.0.1 serving fixture feeds (see tests/feedserver.py)."""
    from feedserver import FeedServer

    server = FeedServer()
    yield server
    server.close()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests of one backend's specifics run only on that backend (deselected, not skipped).

    A test that touches no database of the suite's (`backend_independent`: a benchmark, a build,
    a render without a folder, a browser on a file) would do the same work twice under
    `make test`; it runs in the SQLite pass, the one a plain `pytest` runs. The tests using the
    session's `browser` run last, in their order (see the fixture)."""
    others = {"sqlite_only", "backend_independent"} if BACKEND == "postgresql" else {"postgresql_only"}

    def elsewhere(item: pytest.Item) -> bool:
        return any(item.get_closest_marker(name) is not None for name in others)

    keep = [item for item in items if not elsewhere(item)]
    dropped = [item for item in items if elsewhere(item)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep
    items.sort(key=lambda item: "browser" in getattr(item, "fixturenames", ()))  # stable: the browser's tests last
