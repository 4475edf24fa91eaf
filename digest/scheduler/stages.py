"""The scheduler's view of the pipeline: the few calls its jobs make into the other stages.

The jobs decide *when* and *whether*; the stages do the work. Keeping the calls behind one
small object gives the jobs a seam (like the SMTP transport's) and keeps each job body a
handful of lines: poll the feeds, check an issue's readiness and the folder's (preflight),
queue it, send it, tell the editor.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from sqlmodel import Session

    from digest.config import Settings
    from digest.models import Issue

log = logging.getLogger("digest.scheduler")


@dataclass
class SendOutcome:
    """What one send run did for one issue."""

    sent: int = 0
    failed: int = 0
    queued: int = 0  # still waiting (stopped early, or retries pending)
    stopped: bool = False
    note: str = ""  # why nothing was sent this time (another sender holds the queue)
    counts: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        text = f"{self.sent} sent, {self.failed} failed, {self.queued} still queued"
        if self.note:
            text += f" ({self.note}; resumed when it is done)"
        return text + (" (stopped early; the rest resumes on the next run)" if self.stopped else "")


class Stages(Protocol):
    """The calls the jobs make; `digest.scheduler.pipeline.PipelineStages` is the real one."""

    def poll(self, settings: Settings) -> str:
        """Poll the feeds that are due; a one-line summary. Raises only if it cannot run."""

    def bounces(self, *, engine: Engine, settings: Settings) -> str:
        """Read the bounce mailbox once (`digest bounces`); a one-line summary."""

    def missing(self, *, session: Session, issue: Issue, settings: Settings) -> list[str]:
        """What keeps the issue from being ready (empty when it is ready)."""

    def check(self, *, engine: Engine, settings: Settings, skip: bool = False) -> None:
        """Refuse (NotReadyError) to mail readers while `digest check --offline` finds a problem;
        with `skip` (`digest scheduler --skip-check`) log the problems and go on."""

    def queue(self, *, engine: Engine, settings: Settings, number: int) -> int:
        """Freeze the issue's parts and create its deliveries; how many deliveries it has."""

    def send(self, *, engine: Engine, settings: Settings, number: int, stop: threading.Event) -> SendOutcome:
        """Deliver the issue's due queued deliveries until done or `stop` is set."""

    def email_editor(self, *, settings: Settings, subject: str, body: str) -> None:
        """Send a plain-text notice to `settings.editor` through the sender's SMTP transport."""


def issue_gaps(*, session: Session, issue: Issue, settings: Settings) -> list[str]:
    """What keeps the issue from being ready, per the editorial stage (empty when ready)."""
    from digest.editorial import readiness

    return [gap.message for gap in readiness(session=session, issue=issue, panel=settings.panel).missing]
