"""The newsletter folder: creating it (`digest init`) and the files that make one.

`init_folder` is idempotent: it creates what is missing, never overwrites a file the owner
may have edited, and upgrades the database schema in place.
"""

from __future__ import annotations

import os
import secrets
from importlib import resources
from pathlib import Path
from typing import Any

from digest.config import FEEDS_FILE, SETTINGS_FILE, load_settings
from digest.errors import ConfigError

GITIGNORE = """\
# written by `digest init`: local state and secrets stay out of version control
digest.db
digest.db-*
.digest-secret
outbox/
"""


def default_file(name: str) -> str:
    """The text of a packaged default (digest/defaults/NAME)."""
    return resources.files("digest").joinpath("defaults", name).read_text(encoding="utf-8")


def _write_new(path: Path, text: str, created: list[str], *, mode: int | None = None) -> None:
    if path.exists():
        return
    if mode is None:
        path.write_text(text, encoding="utf-8")
    else:
        # Create with the final permissions so the secret is never readable by others.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
    created.append(path.name)


def redact_url(url: str) -> str:
    """A database or SMTP URL with its password replaced, fit for output and logs."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def init_folder(home: Path) -> dict[str, Any]:
    """Create or upgrade the newsletter folder at `home`; returns what was done."""
    from digest.db import init_database

    try:
        home.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create the newsletter folder: {exc.strerror}", path=str(home)) from None
    created: list[str] = []
    _write_new(home / SETTINGS_FILE, default_file("digest.toml"), created)
    _write_new(home / FEEDS_FILE, default_file("feeds.toml"), created)
    _write_new(home / ".gitignore", GITIGNORE, created)
    settings = load_settings(home)
    if not settings.secret_key:
        _write_new(settings.key_file, secrets.token_urlsafe(32) + "\n", created, mode=0o600)
        settings = load_settings(home)
    if not settings.outbox_dir.exists():
        settings.outbox_dir.mkdir(parents=True)
        created.append(settings.outbox + "/")
    before, after = init_database(settings)
    return {"home": str(home), "created": created, "database": redact_url(settings.database_url),
            "schema_before": before, "schema_after": after}
