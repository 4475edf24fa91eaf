"""Telling the editor when a scheduled send cannot happen: a log line, and an email when set.

The notice is always logged (WARNING, one line). When `editor` is set in digest.toml it is
also emailed, through the sender's SMTP transport; a failure to email is logged, never raised,
so a broken mail server cannot take a job down with it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from digest.config import Settings
    from digest.scheduler.stages import Stages

log = logging.getLogger("digest.scheduler")


def notify_editor(settings: Settings, stages: Stages, *, subject: str, body: str) -> bool:
    """Log the notice and email it to the editor if one is set; True if it was emailed."""
    if not settings.editor:
        log.warning("editor notice: %s (no editor address is set in digest.toml)", subject)
        return False
    try:
        stages.email_editor(settings=settings, subject=f"[{settings.name}] {subject}", body=body)
    except Exception as exc:  # noqa: BLE001
        log.error("editor notice: %s (emailing %s failed: %s)", subject, settings.editor, exc)
        return False
    log.warning("editor notice: %s (emailed to %s)", subject, settings.editor)
    return True
