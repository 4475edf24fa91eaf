"""`digest send`, and the delivery side of issues: `digest issue queue` and `digest issue proof`."""

from __future__ import annotations

import sys
from typing import Any, Optional

import typer

from digest.cli.context import app_context
from digest.cli.output import print_json, say
from digest.cli.params import ISSUE, IssueArg, json_option
from digest.limits import MAX_SEND_RATE, MAX_SEND_WORKERS
from digest.wording import count


class _Bar:
    """A rich progress bar on stderr: settled deliveries, messages per second, ETA."""

    def __init__(self, console=None) -> None:  # noqa: ANN001
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn,
                                   TimeElapsedColumn, TimeRemainingColumn)
        from rich.text import Text

        from digest.cli.output import error_console

        class Rate(ProgressColumn):
            def render(self, task) -> Text:  # noqa: ANN001
                speed = task.finished_speed or task.speed
                return Text(f"{speed:,.0f} msg/s" if speed else "– msg/s")

        self.progress = Progress(TextColumn("sending"), BarColumn(), MofNCompleteColumn(), Rate(),
                                 TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                                 console=console or error_console(), transient=False)
        self.task: Any = None

    def start(self, total: int) -> None:
        self.task = self.progress.add_task("sending", total=total or None)
        self.progress.start()

    def advance(self, outcome: str) -> None:
        self.progress.advance(self.task)

    def stop(self) -> None:
        self.progress.stop()


def send(
    ctx: typer.Context,
    issue: Optional[int] = typer.Option(None, "--issue", click_type=ISSUE, help="Only this issue (default: every issue being sent)."),
    workers: Optional[int] = typer.Option(None, "--workers", min=1, max=MAX_SEND_WORKERS, help=f"Parallel SMTP connections, 1 to {MAX_SEND_WORKERS} (default: send.workers)."),
    rate: Optional[float] = typer.Option(None, "--rate", min=0, max=MAX_SEND_RATE, help="Messages per second overall, 0 for no limit (default: send.rate)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Write each message to outbox/<issue>/messages/ instead; deliveries stay queued."),
    no_wait: bool = typer.Option(False, "--no-wait", help="End when nothing is due now instead of waiting for retries."),
    skip_check: bool = typer.Option(False, "--skip-check", help="Send even while `digest check --offline` finds problems (each is logged)."),
    json_output: json_option("Print the summary as JSON.") = False,
) -> None:
    """Deliver the queued issues over SMTP (DIGEST_SMTP_URL), each reader once.

    Failures that may pass (4xx, dropped connections, timeouts) are retried with backoff;
    permanent ones (5xx) are recorded and count as bounces, once the relay has accepted another
    message. A relay that refuses everyone (unreachable, login, TLS, sender address, or
    send.breaker readers in a row) stops the run with exit 1: every delivery stays queued,
    uncharged, for the next run. Safe to stop at any moment and run again: it resumes where it
    stopped. --dry-run sends nothing and records nothing: the
    messages go to .eml files and every delivery stays queued for the real run. Refuses
    (exit 2, naming each problem) while `digest check --offline` finds a problem.

    Example: digest send --workers 4 --rate 50
    """
    from digest.errors import RelayError

    state = app_context(ctx)
    if not dry_run:
        _preflight(state, "digest send", skip_check)
    bar = _Bar() if sys.stderr.isatty() and not state.quiet and not json_output else None
    try:
        report = _send_until_stopped(state, bar=bar, issue_number=issue, workers=workers, rate=rate,
                                     dry_run=dry_run, wait=not no_wait)
    except RelayError as exc:  # what was delivered and what waits, then the relay's answer (exit 1)
        if exc.report is not None and json_output:
            print_json(exc.report.to_json())
        elif exc.report is not None:
            _standing(ctx, exc.report, "waiting for the relay")
        raise
    if json_output:
        print_json(report.to_json())
        return
    _say_sent(ctx, report)


def _send_until_stopped(state, *, bar: _Bar | None, **options: Any):  # noqa: ANN001, ANN202
    """`send_queued` with SIGTERM (systemd, docker stop) ending the run gracefully: messages in
    flight finish and are recorded, the rest stay queued. kill -9 is safe too, see README
    "Delivery guarantees". The progress bar stops and the old handler is back, whatever happens."""
    import signal
    import threading

    from digest.sender import send_queued

    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set()) \
        if threading.current_thread() is threading.main_thread() else None
    try:
        return send_queued(settings=state.settings, engine=state.engine, progress=bar, stop=stop, **options)
    finally:
        if bar is not None:
            bar.stop()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _say_sent(ctx: typer.Context, report: Any) -> None:
    """The run's report for people: what was sent (or written, on a dry run) and what waits."""
    if not report.issues:
        say(ctx, report.note)
        return
    if report.dry_run:
        where = ", ".join(report.folders)
        say(ctx, f"dry run: wrote {count(report.written, 'message')} to {where} in {report.elapsed:.1f} s; "
                 f"nothing was sent and every delivery stays queued"
                 + (f" ({count(report.skipped, 'subscriber')} no longer active would be skipped)" if report.skipped else ""))
        return
    bounced = f" ({count(report.bounced, 'subscriber')} now bounced)" if report.bounced else ""
    say(ctx, f"sent {report.sent}, failed {report.failed}{bounced}, retried {report.retried}, "
             f"skipped {report.skipped} in {report.elapsed:.1f} s ({report.rate:,.0f} messages/s)")
    for number in report.completed:
        say(ctx, f"issue {number} is sent")
    if report.stopped:
        say(ctx, "stopped on request; the rest stays queued for the next `digest send`")
    _standing(ctx, report, "still queued")
    if report.waiting:
        when = f" (next at {report.next_retry_at:%Y-%m-%d %H:%M:%S} UTC)" if report.next_retry_at else ""
        say(ctx, f"{report.waiting} deliver{'y waits' if report.waiting == 1 else 'ies wait'} for a retry{when}: "
                 "run `digest send` again")


def _standing(ctx: typer.Context, report: Any, why: str) -> None:
    """One line per issue the run left unfinished: an issue is sent only when every delivery is final."""
    for entry in report.standing:
        say(ctx, f"issue {entry['issue']}: {entry['delivered']} delivered, {entry['waiting']} {why}")


def _preflight(state, action: str, skip: bool) -> None:  # noqa: ANN001
    """Refuse (exit 2, naming each problem) unless the folder passes `digest check --offline`;
    --skip-check prints the problems as warnings and goes on."""
    from digest.cli.output import warn
    from digest.preflight import require_ready

    report = require_ready(settings=state.settings, engine=state.engine, action=action, skip=skip)
    for finding in report.problems:
        warn(f"{action} despite a problem (--skip-check): {finding.check}: {finding.message}")


def queue(
    ctx: typer.Context,
    issue: IssueArg,
    no_render: bool = typer.Option(False, "--no-render", help="Freeze the parts in outbox/<issue>/ as they are (say, after a hand edit) instead of rendering afresh."),
    skip_check: bool = typer.Option(False, "--skip-check", help="Queue even while `digest check --offline` finds problems (each is logged)."),
    json_output: json_option("Print the result as JSON.") = False,
) -> None:
    """Render a ready issue, freeze its parts and queue one delivery per active subscriber.

    The frozen parts (outbox/<issue>/frozen/, listed in manifest.json) are what every reader
    gets. Running it again never renders again: it adds deliveries only for subscribers who
    became active since. `digest send` delivers the queue. Refuses (exit 2, naming each
    problem) while `digest check --offline` finds a problem.

    Example: digest issue queue 12
    """
    from digest.cli.output import warn
    from digest.outbox import queue_issue

    state = app_context(ctx)
    _preflight(state, f"digest issue queue {issue}", skip_check)
    report = queue_issue(engine=state.engine, settings=state.settings, number=issue, render=not no_render)
    for message in report.warnings:
        warn(message)
    if json_output:
        print_json(report.to_json())
        return
    say(ctx, f"issue {report.number}: {count(report.added, 'new delivery')} queued "
             f"({report.queued} waiting, {report.total} in all); status {report.status}; "
             f"parts frozen in {report.folder}")


def proof(
    ctx: typer.Context,
    issue: IssueArg,
    to: list[str] = typer.Option([], "--to", metavar="ADDRESS", help="Where to send it (repeat for more; default: `editor`)."),
    no_render: bool = typer.Option(False, "--no-render", help="Use the parts in outbox/<issue>/ as they are instead of rendering afresh."),
    json_output: json_option("Print the result as JSON.") = False,
) -> None:
    """Send a proof of an issue exactly as readers will get it, subject marked "[Proof]".

    A queued issue's proof shows its frozen parts; before that the issue is rendered afresh.
    Links work (signed for a proof reader that belongs to nobody: votes and unsubscribes from
    a proof change nothing). No delivery or subscriber is touched.

    Example: digest issue proof 12 --to editor@example.org
    """
    from digest.proof import send_proof

    state = app_context(ctx)
    addresses = [part.strip() for value in to for part in value.split(",") if part.strip()]
    if not addresses and state.settings.editor:
        addresses = [state.settings.editor]
    report = send_proof(settings=state.settings, engine=state.engine, number=issue, to=addresses,
                        render=not no_render)
    if json_output:
        print_json(report.to_json())
        return
    say(ctx, f"proof of issue {report.number} sent to {', '.join(report.sent)}: {report.subject}")


def register(app: typer.Typer) -> None:
    from digest.cli.issue import issue_app

    issue_app.command("queue")(queue)
    issue_app.command("proof")(proof)
    app.command("send")(send)
