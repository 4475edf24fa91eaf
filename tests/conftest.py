"""Shared fixtures: a real newsletter folder with a real SQLite file per test, and the real CLI."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from digest.cli import app
from digest.config import load_settings


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No DIGEST_* variable of the developer's shell leaks into a test."""
    for name in list(os.environ):
        if name.startswith("DIGEST_"):
            monkeypatch.delenv(name)


class Cli:
    """Runs `digest --home HOME ...` in-process through Typer's runner, as a user would."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None, env: dict[str, str] | None = None):
        return self.runner.invoke(app, ["--home", str(self.home), *args], input=input, env=env,
                                  catch_exceptions=False)


@pytest.fixture(scope="session")
def _pristine_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One `digest init` per test run; each test gets a copy (migrating per test is slow)."""
    folder = tmp_path_factory.mktemp("pristine") / "newsletter"
    result = Cli(folder)("init")
    assert result.exit_code == 0, result.output
    (folder / "feeds.toml").write_text("", encoding="utf-8")
    return folder


@pytest.fixture
def home(tmp_path: Path, _pristine_home: Path) -> Path:
    """An initialised newsletter folder (real SQLite file of its own) with no feeds configured."""
    folder = tmp_path / "newsletter"
    shutil.copytree(_pristine_home, folder)
    return folder


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
