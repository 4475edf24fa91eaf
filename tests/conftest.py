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


# TEST_DATABASE=postgresql runs the suite on the PostgreSQL server of this machine; each test
# gets a scratch database cloned from a migrated template, dropped afterwards.
BACKEND = os.environ.get("TEST_DATABASE", "sqlite")
PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _pg_admin(*statements: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as connection:
        for statement in statements:
            connection.execute(statement)


def _pg_url(database: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(PG_ADMIN_URL)
    return f"postgresql+psycopg://{parts.netloc}/{database}"


def _use_database(folder: Path, url: str) -> None:
    with (folder / "digest.toml").open("a", encoding="utf-8") as handle:
        handle.write(f'\n[database]\nurl = "{url}"\n')


@pytest.fixture(scope="session")
def _pristine_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One `digest init` per test run; each test gets a copy (migrating per test is slow)."""
    folder = tmp_path_factory.mktemp("pristine") / "newsletter"
    template = f"digest_test_{os.getpid()}_template"
    if BACKEND == "postgresql":
        _pg_admin(f"DROP DATABASE IF EXISTS {template}", f"CREATE DATABASE {template}")
        folder.mkdir(parents=True)
        (folder / "digest.toml").write_text("", encoding="utf-8")
        _use_database(folder, _pg_url(template))
    result = Cli(folder)("init")
    assert result.exit_code == 0, result.output
    (folder / "feeds.toml").write_text("", encoding="utf-8")
    yield folder
    if BACKEND == "postgresql":
        _pg_admin(f"DROP DATABASE IF EXISTS {template} WITH (FORCE)")


_counter = iter(range(1, 1_000_000))


@pytest.fixture
def home(tmp_path: Path, _pristine_home: Path) -> Iterator[Path]:
    """An initialised newsletter folder (with a real database of its own) and no feeds."""
    folder = tmp_path / "newsletter"
    shutil.copytree(_pristine_home, folder)
    if BACKEND != "postgresql":
        yield folder
        return
    template = f"digest_test_{os.getpid()}_template"
    database = f"digest_test_{os.getpid()}_{next(_counter)}"
    _pg_admin(f"CREATE DATABASE {database} TEMPLATE {template}")
    settings_file = folder / "digest.toml"
    settings_file.write_text(settings_file.read_text(encoding="utf-8").replace(template, database), encoding="utf-8")
    yield folder
    _pg_admin(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")


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


@pytest.fixture
def feed_server() -> Iterator:
    """A real HTTP server on 127.0.0.1 serving fixture feeds (see tests/feedserver.py)."""
    from feedserver import FeedServer

    server = FeedServer()
    yield server
    server.close()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests of one backend's specifics run only on that backend (deselected, not skipped)."""
    other = "sqlite_only" if BACKEND == "postgresql" else "postgresql_only"
    keep = [item for item in items if item.get_closest_marker(other) is None]
    dropped = [item for item in items if item.get_closest_marker(other) is not None]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep
