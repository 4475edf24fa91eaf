"""The real stages behind the scheduler's jobs (see `stages.Stages` for the contract)."""

from __future__ import annotations

from digest.scheduler.stages import Stages


class PipelineStages(Stages):
    """Feeds, editorial, outbox and sender, called as the CLI's one-shot commands call them."""
