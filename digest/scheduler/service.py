"""`digest scheduler`: APScheduler 3 in the foreground, its jobs stored in our database.

The job store is APScheduler's SQLAlchemyJobStore on the newsletter's own database (table
`apscheduler_jobs`, outside our migrations), so the jobs and their next run times survive a
restart: a slot that passed while no scheduler ran fires once when one starts again
(`coalesce`, no misfire limit) and the job itself decides, with the grace period, whether it
still acts (see `timing.decide`).

APScheduler only wakes the jobs up; it does not keep two processes from running the same job.
The leases and JobRun rows in `runs` do that, so any number of schedulers may share a database.

Stopping: SIGTERM or Ctrl-C sets the runtime's stop event. The send in progress finishes the
messages it has in flight, returns the rest to the queue and ends; the scheduler waits for the
running jobs, releases its leases and exits 0. The next scheduler resumes the unfinished send.
"""

from __future__ import annotations

import logging
import signal
import threading
from typing import TYPE_CHECKING, Any

from digest.scheduler.jobs import (BOUNCES, DISPATCH, HEARTBEAT, HEARTBEAT_TTL, POLL, WEEKLY, Runtime, bounces_job,
                                   dispatch_job, poll_job,
                                   weekly_send_job)
from digest.scheduler.names import DISPATCH_CRON, JOBSTORE_TABLE

if TYPE_CHECKING:
    from apscheduler.schedulers.base import BaseScheduler

log = logging.getLogger("digest.scheduler")

# APScheduler stores jobs by reference ("module:function") and calls them without arguments,
# so the running process's Runtime is found here. One scheduler runs per process.
_active: Runtime | None = None


def _call(job) -> None:  # noqa: ANN001
    runtime = _active
    if runtime is None or runtime.stop.is_set():
        return
    try:
        job(runtime)
    except Exception:  # a job never takes the scheduler down
        log.exception("%s: unexpected error", getattr(job, "__name__", job))


def run_poll() -> None:
    """APScheduler entry point of the poll job."""
    _call(poll_job)


def run_weekly_send() -> None:
    """APScheduler entry point of the weekly send."""
    _call(weekly_send_job)


def run_bounces() -> None:
    """APScheduler entry point of the bounce mailbox reader."""
    _call(bounces_job)


def run_dispatch() -> None:
    """APScheduler entry point of the minute dispatch (one-off and unfinished sends)."""
    _call(dispatch_job)


def job_table(runtime: Runtime) -> dict[str, tuple[str, Any, str]]:
    """id -> (function reference, trigger, description) of every job the scheduler runs."""
    from digest.scheduler.timing import parse_cron

    schedule = runtime.schedule
    table = {
        POLL: (f"{__name__}:run_poll", schedule.poll, "poll the feeds"),
        WEEKLY: (f"{__name__}:run_weekly_send", schedule.send, "the weekly send"),
        DISPATCH: (f"{__name__}:run_dispatch", parse_cron(DISPATCH_CRON, schedule.zone),
                   "one-off sends and unfinished sends"),
    }
    if schedule.bounces is not None:
        table[BOUNCES] = (f"{__name__}:run_bounces", schedule.bounces, "read the bounce mailbox")
    return table


def build_scheduler(runtime: Runtime) -> BaseScheduler:
    """A BackgroundScheduler on the database's job store, not yet started."""
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler

    return BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=runtime.engine, tablename=JOBSTORE_TABLE)},
        executors={"default": ThreadPoolExecutor(max_workers=4)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        timezone=runtime.schedule.zone,
    )


def sync_jobs(scheduler: BaseScheduler, runtime: Runtime) -> None:
    """Make the stored jobs match the settings, keeping the stored next run time when unchanged.

    Keeping it is what lets a slot missed while no scheduler ran fire on start. A job whose
    cron or time zone changed is rescheduled from now; jobs we no longer run are removed.
    """
    wanted = job_table(runtime)
    for job in scheduler.get_jobs():
        if job.id not in wanted:
            scheduler.remove_job(job.id)
            log.info("removed stored job %s (no longer scheduled)", job.id)
    for job_id, (ref, trigger, name) in wanted.items():
        stored = scheduler.get_job(job_id)
        if stored is not None and stored.func_ref == ref and repr(stored.trigger) == repr(trigger):
            continue
        if stored is not None:
            log.info("%s: schedule changed to %s; rescheduled from now", job_id, trigger)
        scheduler.add_job(ref, trigger=trigger, id=job_id, name=name, replace_existing=True)


def _start(scheduler: BaseScheduler) -> None:
    """Start paused; a twin creating the job table at the same moment is retried once."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        scheduler.start(paused=True)
    except SQLAlchemyError:
        scheduler.start(paused=True)


class _QuietSkips(logging.Filter):
    """Drop APScheduler's warning when a minute's dispatch is skipped because the previous one
    is still sending: expected during any long send, and it would repeat every minute."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances reached" not in record.getMessage()


def run_scheduler(runtime: Runtime, *, handle_signals: bool = True) -> None:
    """Run the jobs until `runtime.stop` is set (by SIGTERM/SIGINT when `handle_signals`)."""
    global _active
    from apscheduler.events import EVENT_JOB_ERROR

    from digest.leases import acquire, release

    if _active is not None:
        raise RuntimeError("a scheduler is already running in this process")
    scheduler = build_scheduler(runtime)
    scheduler.add_listener(lambda event: log.error("job %s raised %r", event.job_id, event.exception),
                           EVENT_JOB_ERROR)
    previous = _install_signals(runtime) if handle_signals else {}
    quiet = _QuietSkips()
    logging.getLogger("apscheduler.scheduler").addFilter(quiet)
    _active = runtime
    try:
        _start(scheduler)
        sync_jobs(scheduler, runtime)
        acquire(runtime.engine, HEARTBEAT, runtime.holder, ttl=HEARTBEAT_TTL)
        schedule = runtime.schedule
        log.info("scheduler started as %s: poll %r, weekly send %r (%s), grace %s", runtime.holder,
                 schedule.poll_expr, schedule.send_expr, schedule.zone_name,
                 _grace(schedule.grace.total_seconds()))
        for job in scheduler.get_jobs():
            log.info("next %s: %s", job.id, job.next_run_time.isoformat() if job.next_run_time else "never")
        scheduler.resume()
        # Short waits: a signal may land on a worker thread, and Python runs its handler only
        # when the main thread next executes bytecode.
        while not runtime.stop.wait(0.5):
            pass
        log.info("stopping: waiting for running jobs to finish")
    finally:
        runtime.stop.set()
        if scheduler.running:
            scheduler.shutdown(wait=True)
        _active = None
        logging.getLogger("apscheduler.scheduler").removeFilter(quiet)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        try:
            release(runtime.engine, HEARTBEAT, runtime.holder)
        except Exception as exc:  # noqa: BLE001 - the heartbeat expires by itself
            log.debug("heartbeat release failed: %s", exc)
        log.info("scheduler stopped")


def _grace(seconds: float) -> str:
    from datetime import timedelta

    from digest.scheduler.timing import describe_delay

    return describe_delay(timedelta(seconds=seconds))


def _install_signals(runtime: Runtime) -> dict[int, Any]:
    if threading.current_thread() is not threading.main_thread():
        return {}

    def stop(signum: int, _frame: object) -> None:
        name = signal.Signals(signum).name
        if runtime.stop.is_set():
            log.warning("%s again: still finishing the work in progress", name)
            return
        log.info("%s received: finishing the work in progress, then stopping", name)
        runtime.stop.set()

    previous = {}
    for signum in (signal.SIGTERM, signal.SIGINT):
        previous[signum] = signal.signal(signum, stop)
    return previous
