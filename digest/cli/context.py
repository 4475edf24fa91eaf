"""What every command shares: the newsletter folder, verbosity, and lazily built settings."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import typer
    from sqlalchemy.engine import Engine

    from digest.config import Settings
    from digest.config_values import DatabaseTarget


class AppContext:
    """The root options (folder, verbosity) and what is built from them on first use: the
    settings, the [database] settings alone, an engine. A plain class, not a dataclass: importing
    dataclasses is a tenth of what `digest tools list` may take (digest.cli.fast)."""

    def __init__(self, home: Path, verbose: bool = False, quiet: bool = False) -> None:
        self.home = home
        self.verbose = verbose
        self.quiet = quiet
        self._settings: Settings | None = None
        self._engine: Engine | None = None

    def __repr__(self) -> str:
        return f"AppContext(home={self.home!r}, verbose={self.verbose!r}, quiet={self.quiet!r})"

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from digest.config import load_settings

            self._settings = load_settings(self.home)
        return self._settings

    @property
    def database(self) -> Settings | DatabaseTarget:
        """What `digest.data.engine.connect` needs: the settings once loaded, else the [database]
        section alone (digest.config_values.load_database), a fraction of the cost of loading
        them all, for the read commands that use nothing else."""
        if self._settings is not None:
            return self._settings
        from digest.config_values import load_database

        return load_database(self.home)

    @property
    def engine(self) -> Engine:
        """An engine on the initialised database (DatabaseError if it is missing or old)."""
        if self._engine is None:
            from digest.db import open_database

            self._engine = open_database(self.settings)
        return self._engine

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


def configure_logging(*, verbose: bool, quiet: bool) -> None:
    """Log lines on stderr: debug with --verbose, errors only with --quiet, else warnings."""
    import logging
    import sys

    level = logging.DEBUG if verbose else logging.ERROR if quiet else logging.WARNING
    logging.basicConfig(level=level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def app_context(ctx: typer.Context) -> AppContext:
    """The AppContext of the root command, whichever sub-command asks."""
    root = ctx.find_root()
    if not isinstance(root.obj, AppContext):
        from digest.config import resolve_home

        root.obj = AppContext(home=resolve_home(None))
    return root.obj
