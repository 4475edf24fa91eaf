"""Reading settings values: digest.toml, each value's kind and bounds, `DIGEST_*` overrides, and
the [database] section on its own.

`digest.config` declares every setting (its default, kind and bounds, on its dataclass) and builds
the whole Settings with these functions. They live here, apart from the dataclasses, because
defining those costs more than `digest tools list` may take in all (issue 14 §4): a command that
reads the database and nothing else loads `load_database`, which validates the folder,
digest.toml's syntax, the [database] table and `DIGEST_DATABASE_*` exactly as `load_settings`
does, with the same one-line errors, and leaves the other sections to the commands that use them.
Loading raises `ConfigError` (exit 2) and nothing else.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

from digest.errors import ConfigError

SETTINGS_FILE = "digest.toml"
ENV_PREFIX = "DIGEST_"

# [database] as digest.config.DatabaseSettings declares it: name -> (default, field metadata);
# tests/test_config.py keeps the two in step
DATABASE_FIELDS: dict[str, tuple[Any, dict[str, Any]]] = {
    "url": ("", {"kind": "str"}),
    "pool_size": (5, {"kind": "int"}),
    "max_overflow": (5, {"kind": "int"}),
    "echo": (False, {"kind": "bool"}),
    "pgbouncer": (False, {"kind": "bool"}),
}

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)?\s*$")
_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, None: 1}


def parse_duration(value: Any) -> float:
    """Seconds from `90`, `"90s"`, `"15m"`, `"1h"`, `"2d"` or `"1w"`; ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError("expected a duration like '1h'")
    if isinstance(value, (int, float)):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise ValueError(f"{value!r} is not a duration like '90s', '15m', '1h' or '2d'")
        seconds = float(match.group(1)) * _DURATION_UNITS[match.group(2)]
    if seconds <= 0:
        raise ValueError("a duration must be positive")
    return seconds


def check_http_url(value: str) -> str:
    """The URL unchanged if it is absolute http(s) with a host; ValueError otherwise."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{value!r} is not an http(s) URL")
    return value


def convert(kind: str, value: Any, *, from_env: bool) -> Any:
    """One value in its declared kind; ValueError with a short reason otherwise."""
    if kind in ("str", "path", "secret"):
        if not isinstance(value, str):
            raise ValueError(f"expected a string, got {type(value).__name__}")
        return value
    if kind == "url":
        if not isinstance(value, str):
            raise ValueError(f"expected a URL string, got {type(value).__name__}")
        parts = urlsplit(check_http_url(value))
        if parts.query or parts.fragment or value.rstrip("/").endswith(("?", "#")):
            raise ValueError(f"{value!r} has a query or fragment; links are built by appending paths to it")
        return value.rstrip("/")
    if kind == "int":
        if from_env and isinstance(value, str):
            try:
                value = int(value)
            except ValueError:
                raise ValueError(f"{value!r} is not a whole number") from None
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"expected a whole number, got {value!r}")
        if value < 0:
            raise ValueError("must not be negative")
        return value
    if kind == "float":
        if from_env and isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                raise ValueError(f"{value!r} is not a number") from None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"expected a number, got {value!r}")
        if not math.isfinite(value):
            raise ValueError(f"expected a finite number, got {value!r}")
        if value < 0:
            raise ValueError("must not be negative")
        return float(value)
    if kind == "bool":
        if from_env and isinstance(value, str):
            lowered = value.strip().lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off", ""):
                return False
            raise ValueError(f"{value!r} is not true or false")
        if not isinstance(value, bool):
            raise ValueError(f"expected true or false, got {value!r}")
        return value
    if kind == "duration":
        return parse_duration(value)
    raise ValueError(f"cannot be set here (kind {kind})")


_NOT_ONE_LINE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\x85\u2028\u2029]")  # any control but tab


def bounded(meta: Any, value: Any) -> Any:
    """The value if it lies within the field's declared `min` and `max`, and is one line of text
    unless declared `multiline` (names, addresses and URLs end up in mail headers, where a line
    break would start a new header); ValueError otherwise."""
    if isinstance(value, str) and not meta.get("multiline") and _NOT_ONE_LINE.search(value):
        raise ValueError("contains a line break or control character; it must be one line")
    low, high = meta.get("min"), meta.get("max")
    if (low is not None and value < low) or (high is not None and value > high):
        span = f"between {low} and {high}" if low is not None and high is not None else \
            f"at least {low}" if low is not None else f"at most {high}"
        raise ValueError(f"must be {span}, got {value!r}")
    return value


def build(fields: Mapping[str, Mapping[str, Any]], table: dict[str, Any], *, path: str, prefix: str) -> dict[str, Any]:
    """The values of a TOML table, each converted and checked by its field's metadata (`fields`:
    name -> metadata); unknown keys and secrets written in a file are errors."""
    values: dict[str, Any] = {}
    for key, value in table.items():
        meta = fields.get(key)
        if meta is None or meta.get("kind") == "secret":
            reason = ("secrets are not read from files; set DIGEST_SECRET_KEY or use the key file"
                      if meta is not None else "unknown key")
            known = ", ".join(sorted(k for k, m in fields.items() if m.get("kind") != "secret"))
            raise ConfigError(reason, path=path, key=prefix + key,
                              hint=None if meta is not None else f"known keys: {known}")
        try:
            values[key] = bounded(meta, convert(meta["kind"], value, from_env=False))
        except ValueError as exc:
            raise ConfigError(str(exc), path=path, key=prefix + key) from None
    return values


def from_environment(env: str, value: str, meta: Mapping[str, Any]) -> Any:
    """The value of the variable `env` in its setting's kind; ConfigError naming the variable."""
    try:
        return bounded(meta, convert(meta["kind"], value, from_env=True))
    except ValueError as exc:
        raise ConfigError(str(exc), path="environment", key=env) from None


def read_toml(path: Path, label: str) -> dict[str, Any]:
    try:
        # A UTF-8 byte-order mark (Windows editors write one) is not TOML; tomllib refuses it.
        return tomllib.loads(path.read_bytes().decode("utf-8").removeprefix("\ufeff"))
    except FileNotFoundError:
        raise ConfigError("file not found", path=label, hint="run `digest init` to create it") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML: {exc}", path=label) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read: {exc}", path=label) from None


def resolve_home(home: str | Path | None, environ: dict[str, str] | None = None) -> Path:
    """The newsletter folder: `--home`, else `DIGEST_HOME`, else the current directory."""
    environ = os.environ if environ is None else environ
    chosen = Path(home) if home else Path(environ.get("DIGEST_HOME") or ".")
    return chosen.expanduser().resolve()


def database_url(home: Path, url: str) -> str:
    """The SQLAlchemy URL of database.url (empty: digest.db); a relative SQLite path is taken
    from the newsletter folder `home`."""
    url = url or "sqlite:///digest.db"
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        rest = url[len("sqlite:///"):]
        if rest and rest != ":memory:" and not rest.startswith(":"):
            return "sqlite:///" + str((home / rest).resolve())
    return url


def check_database_url(url: str) -> None:
    """ConfigError unless `url` is a backend digest runs on (SQLite or PostgreSQL)."""
    scheme = url.split("://", 1)[0]
    if not (scheme.startswith("sqlite") or scheme in ("postgresql", "postgres", "postgresql+psycopg")):
        raise ConfigError(f"{url.split(':', 1)[0]!r} is not supported; use sqlite:/// or postgresql+psycopg://",
                          path=SETTINGS_FILE, key="database.url",
                          hint="postgresql:// URLs use psycopg 3, the driver digest installs")


class DatabaseTarget:
    """The part of Settings that `digest.data.engine.connect` and `digest.db.engine_for` read:
    `database_url` and the [database] section (`database.pool_size`, ...)."""

    __slots__ = ("database", "database_url")

    def __init__(self, database_url: str, database: SimpleNamespace) -> None:
        self.database_url = database_url
        self.database = database


def load_database(home: Path, environ: Mapping[str, str] | None = None) -> DatabaseTarget:
    """The [database] settings of the newsletter folder `home`: defaults, then digest.toml, then
    `DIGEST_DATABASE_*`, checked as `digest.config.load_settings` checks them (the same errors);
    the other sections are not read. Raises ConfigError."""
    environ = os.environ if environ is None else environ
    if not home.is_dir():
        raise ConfigError("newsletter folder not found", path=str(home),
                          hint="create it with `digest --home DIR init`")
    settings_path = home / SETTINGS_FILE
    raw = read_toml(settings_path, SETTINGS_FILE) if settings_path.exists() else {}
    fields = {name: meta for name, (_, meta) in DATABASE_FIELDS.items()}
    values = {name: default for name, (default, _) in DATABASE_FIELDS.items()}
    if "database" in raw:
        if not isinstance(raw["database"], dict):
            raise ConfigError("expected a table", path=SETTINGS_FILE, key="database")
        values.update(build(fields, raw["database"], path=SETTINGS_FILE, prefix="database."))
    for name, meta in fields.items():
        env = f"{ENV_PREFIX}database_{name}".upper()
        if env in environ:
            values[name] = from_environment(env, environ[env], meta)
    url = database_url(home, values["url"])
    check_database_url(url)
    return DatabaseTarget(url, SimpleNamespace(**values))
