"""The scheduler's names: its jobs, its heartbeat lease, its job store table, the dispatch cron.

Apart from `jobs` and `service` (which use them and re-export them) so that `digest schedule
list` can name the jobs without importing the models and SQLAlchemy that those modules load.
"""

from __future__ import annotations

POLL, WEEKLY, DISPATCH, BOUNCES = "poll", "weekly-send", "dispatch", "bounces"
HEARTBEAT = "scheduler:alive"  # the lease a running scheduler renews
JOBSTORE_TABLE = "apscheduler_jobs"  # APScheduler's SQLAlchemyJobStore table
DISPATCH_CRON = "* * * * *"  # one-off sends and unfinished sends, every minute


def lease_name(job: str) -> str:
    """The lease that guards `job`; the weekly send and one-off sends share one (`send`)."""
    return "scheduler:send" if job in (WEEKLY, DISPATCH) else f"scheduler:{job}"
