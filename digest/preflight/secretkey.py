"""The signing key: every vote, unsubscribe and confirmation link is signed with it.

Without one nothing can be sent. The demo's key (written by `digest demo`, marked with the
`demo-` prefix) has sat in a throwaway folder: a folder that mails real readers needs its own.
"""

from __future__ import annotations

import stat
from typing import TYPE_CHECKING

from digest.preflight.findings import OK, PROBLEM, WARNING, Finding, placeholder_level

if TYPE_CHECKING:
    from digest.config import Settings

DEMO_KEY_PREFIX = "demo-"
MIN_LENGTH = 32


def check_secret_key(settings: Settings) -> list[Finding]:
    key = settings.secret_key
    if not key:
        return [Finding("secret_key", PROBLEM, "no secret key: links cannot be signed; run `digest init` "
                        "(it writes .digest-secret) or set DIGEST_SECRET_KEY", "secret_key")]
    if key.startswith(DEMO_KEY_PREFIX):
        return [Finding("secret_key", placeholder_level(settings.sandbox),
                        "the key is the demo's (it starts with 'demo-'): make a new one "
                        "(python -c 'import secrets; print(secrets.token_urlsafe(32))') before real readers "
                        "get links signed with it", "secret_key")]
    findings = []
    if len(key) < MIN_LENGTH:
        findings.append(Finding("secret_key", WARNING, f"the key has {len(key)} characters; "
                                f"use at least {MIN_LENGTH} random ones", "secret_key"))
    path = settings.key_file
    if path.is_file() and key == _read(path):
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            findings.append(Finding("secret_key", WARNING, f"{settings.secret_key_file} is readable by others "
                                    f"(mode {mode:04o}): chmod 600 it", "secret_key_file"))
    if not findings:
        source = settings.secret_key_file if path.is_file() and key == _read(path) else "DIGEST_SECRET_KEY"
        findings.append(Finding("secret_key", OK, f"set ({source}), {len(key)} characters", "secret_key"))
    return findings


def _read(path) -> str | None:  # noqa: ANN001
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError:
        return None
