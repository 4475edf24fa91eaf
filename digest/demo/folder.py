"""The demo's newsletter folder: made by the init stage, marked as the demo's, safe to run again.

Every file the demo writes carries DEMO_MARKER or is listed in DEMO_FILES, so a new run in a
kept folder (`--keep DIR`) can tell an earlier demo's folder from a real newsletter (refused)
and remove only what the demo made.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from digest.demo.bounces import demo_settings
from digest.demo.context import DemoContext
from digest.demo.web import reserve_address
from digest.errors import UsageError

DEMO_MARKER = "# written by `digest demo`"
# What a demo folder holds; a new demo run in a kept demo folder (--keep) starts by removing it.
DEMO_FILES = ("digest.toml", "feeds.toml", ".gitignore", ".digest-secret", "digest.db", "digest.db-wal",
              "digest.db-shm", "digest.db-journal", "outbox", "bounces")


def _write_demo_key(path: Path) -> None:
    """The demo's signing key, marked `demo-` so `digest check` can tell it from a real one."""
    import secrets

    from digest.preflight.secretkey import DEMO_KEY_PREFIX

    if path.exists():
        return
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(DEMO_KEY_PREFIX + secrets.token_urlsafe(32) + "\n")


def init(ctx: DemoContext) -> None:
    """`digest init`, with `base_url` at a loopback port the demo's web app holds from now on."""
    from digest.config import load_settings
    from digest.folder import default_file, init_folder

    ctx.web_socket = ctx.web_socket or reserve_address()
    ctx.on_exit(ctx.web_socket.close)
    host, port = ctx.web_socket.getsockname()[:2]
    (ctx.home / "digest.toml").write_text(
        f"{DEMO_MARKER}: links point at the demo's web app (`digest serve` serves it here afterwards)\n"
        f'base_url = "http://{host}:{port}"\n'
        f"{DEMO_MARKER}: this folder mails sample readers only, so `digest check` takes placeholders as warnings\n"
        f'sandbox = true\n\n{default_file("digest.toml")}\n'
        f'[web]\nhost = "{host}"\nport = {port}\n\n{demo_settings("digest.invalid")}', encoding="utf-8")
    _write_demo_key(ctx.home / ".digest-secret")
    report = init_folder(ctx.home)
    ctx.settings = settings = load_settings(ctx.home)
    ctx.say(f"digest init: newsletter folder {ctx.home}, database at schema {report['schema_after']}, "
            f"base_url {settings.base_url}")


@contextlib.contextmanager
def without_digest_environment() -> Iterator[None]:
    """DIGEST_* variables of the caller's shell hidden, so the demo never reaches a real database or server."""
    saved = {name: value for name, value in os.environ.items() if name.startswith("DIGEST_")}
    for name in saved:
        del os.environ[name]
    try:
        yield
    finally:
        os.environ.update(saved)


def check_keep_dir(path: Path) -> None:
    """UsageError unless `path` is new, empty of newsletter files, or an earlier demo's folder."""
    if path.exists() and not path.is_dir():
        raise UsageError(f"{path} is not a directory")
    feeds = path / "feeds.toml"
    if (feeds.exists() or (path / "digest.toml").exists()) and not (
            feeds.exists() and DEMO_MARKER in feeds.read_text(encoding="utf-8", errors="replace")):
        raise UsageError(f"{path} already holds a newsletter folder that is not a demo",
                         hint="give --keep an empty or new directory")


def clear_demo_folder(path: Path) -> None:
    """Remove what an earlier demo left in `path` (checked to be a demo folder), nothing else."""
    for name in DEMO_FILES:
        target = path / name
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        elif target.exists() or target.is_symlink():
            target.unlink()
