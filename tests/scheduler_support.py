"""Helpers for the scheduler tests: issues in given states, real scheduler processes on a fake
clock (time-machine), and bounded waits instead of sleeps."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from digest.db import session_scope
from digest.links import LEGACY

placeholder, vote_placeholder = LEGACY, LEGACY.vote  # hand-made parts, as a render before nonces wrote them
from digest.models import Comparison, Delivery, Issue, IssueComparison, JobRun, Review, Subscriber, Tool

DRIVER = Path(__file__).with_name("scheduler_driver.py")


def wait_until(predicate: Callable[[], object], *, timeout: float = 20.0, what: str = "condition") -> object:
    """Poll `predicate` until it is truthy or `timeout` seconds pass (then fail, saying what)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        threading.Event().wait(0.05)


# --- data -------------------------------------------------------------------------------------

def make_issue(engine, settings, *, number: int, status: str = "scheduled", scheduled_at: datetime | None = None,
               ready: bool = True, subject: str | None = None, rendered: bool = True) -> list[int]:
    """An issue with one comparison, reviewed by the whole panel when `ready`, its parts in the
    outbox when `rendered`; returns its comparison ids."""
    with session_scope(engine, write=True) as session:
        issue = Issue(number=number, subject=subject or f"Issue {number}: two tools, one verdict",
                      status=status, scheduled_at=scheduled_at)
        session.add(issue)
        session.flush()
        tools = [Tool(slug=f"tool-{number}-{side}", name=f"Tool {number}{side.upper()}") for side in "ab"]
        session.add_all(tools)
        session.flush()
        comparison = Comparison(tool_a_id=tools[0].id, tool_b_id=tools[1].id, title=f"Pair of issue {number}")
        session.add(comparison)
        session.flush()
        reviewers = settings.panel if ready else settings.panel[:-1]
        for reviewer in reviewers:
            for tool in tools:
                session.add(Review(comparison_id=comparison.id, tool_id=tool.id, reviewer=reviewer.key,
                                   verdict="ship", quote=f"{reviewer.name} would ship {tool.name}."))
        session.add(IssueComparison(issue_id=issue.id, comparison_id=comparison.id, position=0))
        ids = [comparison.id]
    if rendered:
        write_parts(settings, number, ids)
    return ids


def write_parts(settings, number: int, comparison_ids: list[int]) -> Path:
    """Rendered parts with every link placeholder, as the render stage leaves them."""
    folder = settings.outbox_dir / str(number)
    folder.mkdir(parents=True, exist_ok=True)
    votes = "".join(f'<p><a href="{vote_placeholder(c, "a")}">A</a> <a href="{vote_placeholder(c, "b")}">B</a></p>'
                    for c in comparison_ids)
    (folder / "email.template.html").write_text(
        f"<!doctype html><html><body><p>Issue {number}: the panel's verdict.</p>{votes}"
        f'<p><a href="{placeholder("web")}">Web</a> {placeholder("email")} '
        f'<a href="{placeholder("unsubscribe")}">Unsubscribe</a></p></body></html>\n', encoding="utf-8")
    text_votes = "".join(f"A: {vote_placeholder(c, 'a')}\nB: {vote_placeholder(c, 'b')}\n" for c in comparison_ids)
    (folder / "email.template.txt").write_text(
        f"Issue {number}\n\n{text_votes}\nWeb: {placeholder('web')}\nTo: {placeholder('email')}\n"
        f"Unsubscribe: {placeholder('unsubscribe')}\n", encoding="utf-8")
    return folder


def add_subscribers(engine, count: int, *, prefix: str = "reader") -> list[str]:
    emails = [f"{prefix}{n}@example.org" for n in range(count)]
    with session_scope(engine, write=True) as session:
        session.add_all([Subscriber(email=e, email_key=e, status="active") for e in emails])
    return emails


def issue_state(engine, number: int) -> Issue:
    from sqlmodel import select

    with session_scope(engine) as session:
        return session.exec(select(Issue).where(Issue.number == number)).one()


def delivery_counts(engine, number: int) -> dict[str, int]:
    from sqlalchemy import func, select

    with engine.connect() as connection:
        rows = connection.execute(select(Delivery.status, func.count()).join(Issue, Issue.id == Delivery.issue_id)
                                  .where(Issue.number == number).group_by(Delivery.status)).all()
    return {status: count for status, count in rows}


def job_runs(engine, job: str) -> list[JobRun]:
    from sqlmodel import select

    with session_scope(engine) as session:
        return list(session.exec(select(JobRun).where(JobRun.job == job).order_by(JobRun.slot)).all())


def recipients(sink, *, subject_part: str | None = None) -> list[str]:
    """Every envelope recipient the sink got (only of messages whose Subject has `subject_part`)."""
    import email

    found = []
    for message in sink.messages:
        subject = email.message_from_bytes(message.data).get("Subject", "")
        if subject_part is None or subject_part in subject:
            found.extend(message.recipients)
    return found


# --- a real scheduler process on a fake clock ---------------------------------------------------

class SchedulerProcess:
    """`digest scheduler` in a subprocess whose clock starts at a time the test picks.

    The driver imports everything first and prints READY; `go(moment)` then starts the command
    with the clock at `moment`, and time runs on at normal speed once the scheduler has started.
    """

    def __init__(self, home: Path, env: dict[str, str], *args: str) -> None:
        full_env = {**os.environ, **env, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen([sys.executable, str(DRIVER), "--home", str(home), *(args or ("scheduler",))],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, env=full_env)
        self.lines: list[str] = []
        self._stdout = ""
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        ready = self.proc.stdout.readline()
        if ready.strip() != "READY":
            self.proc.kill()
            raise AssertionError(f"driver did not start: {ready!r} {self.proc.stderr.read()}")

    def _read(self) -> None:
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))

    def go(self, moment: datetime) -> None:
        """Start the command with the clock at `moment` (it stands still until the scheduler has started)."""
        self.proc.stdin.write(f"{moment.timestamp()}\n")
        self.proc.stdin.flush()

    def log(self) -> str:
        return "\n".join(self.lines)

    def wait_for_log(self, text: str, *, timeout: float = 20.0) -> str:
        def seen() -> str | None:
            if self.proc.poll() is not None and not any(text in line for line in self.lines):
                self._reader.join(timeout=2)
                raise AssertionError(f"scheduler exited ({self.proc.returncode}) before logging {text!r}:\n{self.log()}")
            return next((line for line in self.lines if text in line), None)

        return wait_until(seen, timeout=timeout, what=f"log line {text!r}\n{self.log()}")

    def terminate(self, *, timeout: float = 30.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=timeout)
        self._reader.join(timeout=5)
        return code

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
