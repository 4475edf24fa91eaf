"""The scheduled jobs: poll, the weekly send, and the minute dispatch of one-off sends.

Each job takes the `Runtime` and `now` (the clock seam: tests pass any time), decides with
`timing.decide`, takes its lease, claims its slot, and then makes one or two calls into the
stages. Every job logs one line when it starts and one when it ends (with counts), and never
raises: a failure is logged and, for sends, told to the editor, and the scheduler goes on.

    poll         every `[schedule] poll` slot; missed slots coalesce into one poll
    weekly-send  every `[schedule] send` slot: the newest ready issue scheduled for the weekly
                 send goes out; within `grace` of a missed slot it still does, later the
                 editor is told and nothing is sent; no ready issue: the editor is told
    dispatch     every minute: one-off sends that are due, sends left unfinished by a stop
                 or a crash (resumed where they stopped), and a weekly slot that fell due
                 but was never handled (see `weekly_catch_up`)
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from digest.errors import DigestError, NotReadyError, RelayError, StateError
from digest.leases import acquire, holder_id
from digest.models import Issue, utcnow
from digest.scheduler import runs, sendable
from digest.scheduler.names import BOUNCES, DISPATCH, HEARTBEAT, POLL, WEEKLY  # noqa: F401 - re-exported
from digest.scheduler.notify import notify_editor
from digest.scheduler.stages import SendOutcome, Stages
from digest.scheduler.timing import DONE, MISSED, NOTHING, RUN, Decision, Schedule, decide, describe_delay
from digest.wording import count, plural

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from digest.config import Settings

log = logging.getLogger("digest.scheduler")

HEARTBEAT_TTL = timedelta(minutes=3)


def _pipeline() -> Stages:
    from digest.scheduler.pipeline import PipelineStages

    return PipelineStages()


@dataclass
class Runtime:
    """What the jobs of one scheduler process share."""

    settings: Settings
    engine: Engine
    schedule: Schedule
    stages: Stages = field(default_factory=_pipeline)
    holder: str = field(default_factory=lambda: holder_id("scheduler"))
    stop: threading.Event = field(default_factory=threading.Event)
    clock: Callable[[], datetime] = utcnow
    # issue number -> (failures in a row, not before): a failing resume backs off 1 min .. 1 h
    resume_backoff: dict[int, tuple[int, datetime]] = field(default_factory=dict)
    skip_check: bool = False  # `--skip-check`: send even while `digest check` finds problems (logged)

    def job_holder(self, job: str) -> str:
        """The lease holder for one job: jobs of one process exclude each other too."""
        return f"{self.holder}/{job}"

    def lease(self, job: str) -> runs.HeldLease:
        return runs.HeldLease(self.engine, runs.lease_name(job), self.job_holder(job))


@dataclass(frozen=True)
class JobResult:
    """How one run of a job ended: `outcome` is ok, nothing, missed, stopped, failed, busy or done."""

    job: str
    outcome: str
    detail: str = ""
    slot: datetime | None = None
    issue: int | None = None


def _fmt(moment: datetime, schedule: Schedule) -> str:
    return moment.astimezone(schedule.zone).strftime("%Y-%m-%d %H:%M %Z")


def _finish(rt: Runtime, run_id: int | None, result: JobResult, started: float) -> JobResult:
    if run_id is not None:
        runs.finish_run(rt.engine, run_id, outcome=result.outcome, detail=result.detail, now=rt.clock())
    level = logging.ERROR if result.outcome == "failed" else logging.INFO
    log.log(level, "%s %s in %.1fs: %s", result.job, "failed" if result.outcome == "failed" else "finished",
            time.monotonic() - started, result.detail or result.outcome)
    return result


# --- poll -----------------------------------------------------------------------------------

def poll_job(rt: Runtime, *, now: datetime | None = None) -> JobResult:
    """Poll the feeds that are due, once per slot across all processes; missed slots coalesce."""
    now = now or rt.clock()
    decision = decide(now=now, trigger=rt.schedule.poll, last_slot=runs.last_slot(rt.engine, POLL), grace=None)
    if decision.action in (DONE, NOTHING):
        return JobResult(POLL, "done", "this slot was already polled", decision.slot)
    lease = rt.lease(POLL)
    if not lease.try_acquire():
        log.info("poll skipped: another scheduler process is polling")
        return JobResult(POLL, "busy", "another process is polling", decision.slot)
    with lease:
        run_id = runs.claim_slot(rt.engine, job=POLL, slot=decision.slot, holder=rt.job_holder(POLL), now=now)
        if run_id is None:
            return JobResult(POLL, "done", "this slot was already polled", decision.slot)
        started = time.monotonic()
        extra = f", {count(decision.coalesced, 'missed slot')} folded in" if decision.coalesced else ""
        log.info("poll started (slot %s%s)", _fmt(decision.slot, rt.schedule), extra)
        try:
            summary = rt.stages.poll(rt.settings)
        except Exception as exc:  # noqa: BLE001 - a job never takes the scheduler down
            return _finish(rt, run_id, JobResult(POLL, "failed", _error(exc), decision.slot), started)
        return _finish(rt, run_id, JobResult(POLL, "ok", summary, decision.slot), started)


# --- bounces ----------------------------------------------------------------------------------

def bounces_job(rt: Runtime) -> JobResult:
    """Read the bounce mailbox, when one is configured. No slot is claimed: a second read finds
    nothing new (each message is recorded once), and the lease keeps two processes apart."""
    if not rt.settings.bounces.mailbox:
        return JobResult(BOUNCES, "nothing", "no bounce mailbox is configured")
    lease = rt.lease(BOUNCES)
    if not lease.try_acquire():
        return JobResult(BOUNCES, "busy", "another process is reading the bounce mailbox")
    with lease:
        started = time.monotonic()
        try:
            summary = rt.stages.bounces(engine=rt.engine, settings=rt.settings)
        except Exception as exc:  # noqa: BLE001 - a job never takes the scheduler down
            return _finish(rt, None, JobResult(BOUNCES, "failed", _error(exc)), started)
        return _finish(rt, None, JobResult(BOUNCES, "ok", summary), started)


# --- the weekly send --------------------------------------------------------------------------

def _decide_weekly(rt: Runtime, now: datetime) -> Decision:
    return decide(now=now, trigger=rt.schedule.send, last_slot=runs.last_slot(rt.engine, WEEKLY),
                  grace=rt.schedule.grace)


def weekly_send_job(rt: Runtime, *, now: datetime | None = None) -> JobResult:
    """The weekly send for the latest `[schedule] send` slot, exactly once across processes.

    A slot within the grace period is sent once the send lease is free (a one-off send may
    hold it); a slot past it, or whose lease stayed taken for the whole grace period, is
    recorded as missed and the editor is told. The slot's JobRun row makes either happen once.
    """
    fixed_now = now
    decision = _decide_weekly(rt, fixed_now or rt.clock())
    if decision.action in (DONE, NOTHING):
        return JobResult(WEEKLY, "done", "this slot was already handled", decision.slot)
    lease = rt.lease(WEEKLY)
    blocked = False
    if decision.action == RUN:
        remaining = (rt.schedule.grace - decision.late).total_seconds()
        if not lease.wait_acquire(timeout=remaining, stop=rt.stop):
            if rt.stop.is_set():
                log.info("weekly-send: stopping before slot %s could start; the next start catches up",
                         _fmt(decision.slot, rt.schedule))
                return JobResult(WEEKLY, "busy", "stopped while waiting for the send lease", decision.slot)
            blocked = True
        decision = _decide_weekly(rt, fixed_now or rt.clock())  # time passed while waiting
        if decision.action in (DONE, NOTHING):
            lease.release()
            return JobResult(WEEKLY, "done", "this slot was already handled", decision.slot)
    with lease:
        now = fixed_now or rt.clock()
        run_id = runs.claim_slot(rt.engine, job=WEEKLY, slot=decision.slot, holder=rt.job_holder(WEEKLY), now=now)
        if run_id is None:
            return JobResult(WEEKLY, "done", "this slot was already handled", decision.slot)
        started = time.monotonic()
        slot_text = _fmt(decision.slot, rt.schedule)
        late = f", {describe_delay(decision.late)} late" if decision.late >= timedelta(minutes=1) else ""
        log.info("weekly-send started (slot %s%s)", slot_text, late)
        try:
            if blocked or decision.action == MISSED:
                why = (f"another send held the send lease from {slot_text} until the grace period ran out"
                       if blocked else None)
                return _finish(rt, run_id, _missed_weekly(rt, decision, why), started)
            return _finish(rt, run_id, _send_weekly(rt, decision.slot, lease), started)
        except Exception as exc:  # noqa: BLE001
            result = JobResult(WEEKLY, "failed", _error(exc), decision.slot)
            notify_editor(rt.settings, rt.stages, subject=f"The weekly send of {slot_text} failed",
                          body=f"The weekly send of {slot_text} failed: {_error(exc)}\n\n" + _what_next(exc))
            return _finish(rt, run_id, result, started)


def weekly_catch_up(rt: Runtime, *, now: datetime) -> JobResult | None:
    """Run the weekly send for a slot that fell due but was never handled, if there is one.

    APScheduler moves a job's next run time on when it starts the job, so a scheduler stopped
    (or killed) between that moment and the slot's claim would skip the slot silently. The
    minute dispatch calls this to close that gap: only for the slot right after the last
    handled one (so a changed cron never sends at once), and only once it is two minutes late
    (the on-time run belongs to the weekly job itself).
    """
    last = runs.last_slot(rt.engine, WEEKLY)
    if last is None:
        return None
    decision = decide(now=now, trigger=rt.schedule.send, last_slot=last, grace=rt.schedule.grace)
    if decision.action not in (RUN, MISSED) or decision.coalesced or decision.late < timedelta(minutes=2):
        return None
    log.info("weekly-send: slot %s was never handled; catching up", _fmt(decision.slot, rt.schedule))
    return weekly_send_job(rt, now=now)


def _missed_weekly(rt: Runtime, decision: Decision, why: str | None) -> JobResult:
    slot, late, coalesced = decision.slot, decision.late, decision.coalesced
    slot_text = _fmt(slot, rt.schedule)
    grace = describe_delay(rt.schedule.grace)
    earlier = f" ({count(coalesced, 'earlier weekly send')} {plural('was', coalesced)} missed as well)" if coalesced else ""
    why = why or (f"the scheduler was not running at {slot_text} and came back {describe_delay(late)} later, "
                  f"past the {grace} grace period")
    notify_editor(rt.settings, rt.stages, subject=f"The weekly send of {slot_text} was missed",
                  body=f"Nothing was sent at {slot_text}: {why}{earlier}.\n\n"
                       "To send now: digest issue queue N && digest send\n"
                       "To send later: digest issue schedule N --at YYYY-MM-DDTHH:MM\n")
    return JobResult(WEEKLY, "missed", f"slot {slot_text} missed by {describe_delay(late)} "
                                       f"(grace {grace}); nothing sent, editor told", slot)


def _send_weekly(rt: Runtime, slot: datetime, lease: runs.HeldLease) -> JobResult:
    from digest.db import session_scope

    with session_scope(rt.engine) as session:
        chosen, problems = None, []
        for issue in sendable.weekly_issues(session):
            missing = rt.stages.missing(session=session, issue=issue, settings=rt.settings)
            if not missing:
                chosen = issue.number
                break
            problems.append(f"issue {issue.number} is scheduled but not ready: {missing[0]}"
                            + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""))
        if chosen is None and not problems:
            problems.append("no issue is scheduled for the weekly send")
            for draft in sendable.ready_drafts(session):
                if not rt.stages.missing(session=session, issue=draft, settings=rt.settings):
                    problems.append(f"issue {draft.number} is ready but still a draft: "
                                    f"`digest issue schedule {draft.number}` puts it in the next weekly send")
                    break
    slot_text = _fmt(slot, rt.schedule)
    if chosen is None:
        notify_editor(rt.settings, rt.stages, subject=f"Nothing was sent at {slot_text}",
                      body=f"The weekly send of {slot_text} found no ready issue, so nothing was sent.\n\n"
                           + "\n".join(f"- {line}" for line in problems) + "\n")
        return JobResult(WEEKLY, "nothing", "no ready issue; nothing sent, editor told: " + "; ".join(problems), slot)
    outcome = deliver(rt, chosen, lease=lease, now=rt.clock())
    if outcome is None:
        return JobResult(WEEKLY, "done", f"issue {chosen} was taken by another process", slot, chosen)
    return JobResult(WEEKLY, "stopped" if outcome.stopped else "ok", f"issue {chosen}: {outcome.describe()}",
                     slot, chosen)


def deliver(rt: Runtime, number: int, *, lease: runs.HeldLease, now: datetime, resume: bool = False) -> SendOutcome | None:
    """Queue (unless resuming) and send one issue; None if another process moved it first.

    Raises NotReadyError, before anything moves, while the folder is not ready for real readers."""
    rt.stages.check(engine=rt.engine, settings=rt.settings, skip=rt.skip_check)
    if not resume:
        if not sendable.start_sending(rt.engine, number, now=now):
            return None
        try:
            rt.stages.queue(engine=rt.engine, settings=rt.settings, number=number)
        except BaseException:
            sendable.undo_sending(rt.engine, number)
            raise
    try:
        outcome = rt.stages.send(engine=rt.engine, settings=rt.settings, number=number,
                                 stop=_StopWhenEither(rt.stop, lease.lost))
    except StateError as exc:  # another sender (`digest send`) holds the queue: it stays queued
        log.info("issue %d: %s; its deliveries stay queued and are resumed after", number, exc.message)
        return SendOutcome(queued=sendable.queued_count(rt.engine, number), note=exc.message)
    outcome.stopped = outcome.queued > 0 and (rt.stop.is_set() or lease.lost.is_set())
    return outcome


class _StopWhenEither(threading.Event):
    """Set when the scheduler stops or the job's lease is lost (whichever comes first)."""

    def __init__(self, *events: threading.Event) -> None:
        super().__init__()
        self._events = events

    def is_set(self) -> bool:
        return super().is_set() or any(event.is_set() for event in self._events)

    def wait(self, timeout: float | None = None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.is_set():
            remaining = 0.2 if deadline is None else min(0.2, deadline - time.monotonic())
            if remaining <= 0:
                return False
            super().wait(remaining)
        return True


# --- dispatch: one-off sends and unfinished sends ------------------------------------------------

def dispatch_job(rt: Runtime, *, now: datetime | None = None) -> list[JobResult]:
    """One-off sends that are due, and sends left unfinished; quiet when there is nothing."""
    from digest.db import session_scope

    now = now or rt.clock()
    try:
        acquire(rt.engine, HEARTBEAT, rt.holder, ttl=HEARTBEAT_TTL)
    except Exception as exc:  # noqa: BLE001
        log.warning("dispatch: database unreachable: %s", _error(exc))
        return []
    caught_up = weekly_catch_up(rt, now=now)
    with session_scope(rt.engine) as session:
        due = [(issue.number, issue.scheduled_at) for issue in sendable.one_off_issues(session, due_by=now)]
    unfinished = sendable.unfinished_sends(rt.engine, now=now)
    results = [caught_up] if caught_up is not None else []
    if not due and not unfinished:
        return results
    lease = rt.lease(DISPATCH)
    if not lease.try_acquire():
        log.debug("dispatch: another send holds the lease; trying again next minute")
        return results
    with lease:
        for number, scheduled_at in due:
            if rt.stop.is_set():
                break
            results.append(_one_off(rt, number, scheduled_at, lease, now))
        for number in unfinished:
            if rt.stop.is_set():
                break
            failures, not_before = rt.resume_backoff.get(number, (0, now))
            if now < not_before:
                continue
            results.append(_resume(rt, number, lease, now, failures))
    return results


def _resume(rt: Runtime, number: int, lease: runs.HeldLease, now: datetime, failures: int) -> JobResult:
    """Send what is left of an issue's deliveries; a failure is retried after a growing pause."""
    started = time.monotonic()
    log.info("resume started: issue %d has queued deliveries", number)
    try:
        outcome = deliver(rt, number, lease=lease, now=now, resume=True)
    except Exception as exc:  # noqa: BLE001
        pause = timedelta(minutes=min(2 ** failures, 60))
        rt.resume_backoff[number] = (failures + 1, now + pause)
        return _finish(rt, None, JobResult("resume", "failed", f"issue {number}: {_error(exc)}; "
                                           f"next try in {describe_delay(pause)}", issue=number), started)
    rt.resume_backoff.pop(number, None)
    return _finish(rt, None, JobResult("resume", "stopped" if outcome.stopped else "ok",
                                       f"issue {number}: {outcome.describe()}", issue=number), started)


def _one_off(rt: Runtime, number: int, scheduled_at: datetime, lease: runs.HeldLease, now: datetime) -> JobResult:
    from digest.db import session_scope

    started = time.monotonic()
    at_text = _fmt(scheduled_at, rt.schedule)
    late = sendable.lateness(now, scheduled_at)
    log.info("one-off send started: issue %d (due %s%s)", number, at_text,
             f", {describe_delay(late)} late" if late >= timedelta(minutes=1) else "")
    if late > rt.schedule.grace:
        if not sendable.back_to_draft(rt.engine, number, scheduled_at=scheduled_at):
            return JobResult("one-off", "done", f"issue {number} was handled by another process", issue=number)
        notify_editor(rt.settings, rt.stages, subject=f"Issue {number} was not sent at {at_text}",
                      body=f"Issue {number} was due at {at_text}, but the scheduler only ran "
                           f"{describe_delay(late)} later, past the {describe_delay(rt.schedule.grace)} grace "
                           "period. It was not sent and is back in draft.\n\n"
                           f"Reschedule it: digest issue schedule {number} --at YYYY-MM-DDTHH:MM\n")
        return _finish(rt, None, JobResult("one-off", "missed", f"issue {number} due {at_text} missed by "
                                           f"{describe_delay(late)}; back in draft, editor told", issue=number), started)
    try:
        with session_scope(rt.engine) as session:
            issue = _get(session, number)
            missing = rt.stages.missing(session=session, issue=issue, settings=rt.settings)
        try:
            rt.stages.check(engine=rt.engine, settings=rt.settings, skip=rt.skip_check)
        except NotReadyError as exc:
            if not sendable.back_to_draft(rt.engine, number, scheduled_at=scheduled_at):
                return JobResult("one-off", "done", f"issue {number} was handled by another process", issue=number)
            notify_editor(rt.settings, rt.stages, subject=f"Issue {number} was not sent: the folder is not ready",
                          body=f"Issue {number} was due at {at_text}, but `digest check` finds problems, so it "
                               "was not sent and is back in draft:\n\n"
                               + "\n".join(f"- {line}" for line in exc.problems) + "\n")
            return _finish(rt, None, JobResult("one-off", "nothing", f"issue {number}: {exc.one_line()}; "
                                               "back in draft, editor told", issue=number), started)
        if missing:
            if not sendable.back_to_draft(rt.engine, number, scheduled_at=scheduled_at):
                return JobResult("one-off", "done", f"issue {number} was handled by another process", issue=number)
            notify_editor(rt.settings, rt.stages, subject=f"Issue {number} was not sent: it is not ready",
                          body=f"Issue {number} was due at {at_text} but is not ready, so it was not sent "
                               "and is back in draft:\n\n" + "\n".join(f"- {line}" for line in missing) + "\n")
            return _finish(rt, None, JobResult("one-off", "nothing", f"issue {number} not ready: {missing[0]}; "
                                               "back in draft, editor told", issue=number), started)
        outcome = deliver(rt, number, lease=lease, now=now)
    except Exception as exc:  # noqa: BLE001
        notify_editor(rt.settings, rt.stages, subject=f"Issue {number} failed to send",
                      body=f"The one-off send of issue {number} (due {at_text}) failed: {_error(exc)}\n\n"
                           + _what_next(exc))
        return _finish(rt, None, JobResult("one-off", "failed", f"issue {number}: {_error(exc)}", issue=number), started)
    if outcome is None:
        return JobResult("one-off", "done", f"issue {number} was taken by another process", issue=number)
    return _finish(rt, None, JobResult("one-off", "stopped" if outcome.stopped else "ok",
                                       f"issue {number}: {outcome.describe()}", issue=number), started)


def _get(session, number: int) -> Issue:  # noqa: ANN001
    from sqlmodel import select

    return session.exec(select(Issue).where(Issue.number == number)).one()


def _what_next(exc: BaseException) -> str:
    if isinstance(exc, NotReadyError):
        return ("Nothing was sent: `digest check` finds the folder not ready for real readers:\n\n"
                + "".join(f"- {line}\n" for line in exc.problems)
                + "\nFix them; the issue stays scheduled for the next weekly send (or queue and send it now: "
                  "digest issue queue N && digest send).\n")
    if isinstance(exc, RelayError):
        return ("The relay, not the readers, is failing: every delivery it did not accept stays queued and "
                "no reader was charged a retry or a bounce. The scheduler tries again by itself, 1, 2, 4 ... "
                "then every 60 minutes, until the relay takes mail; nothing needs doing.\n")
    return "Deliveries already made are recorded; `digest send` resumes the rest once the cause is fixed.\n"


def _error(exc: BaseException) -> str:
    if isinstance(exc, DigestError):
        return exc.one_line()
    return f"{type(exc).__name__}: {exc}"
