"""A sent issue to bounce back, and a real Maildir to drop what comes back into."""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path

from bounce_corpus import Sent
from delivery_helpers import add_subscribers, make_ready_issue, write_parts
from digest.config import load_settings
from digest.outbox import queue_issue
from digest.sender import send_queued
from digest.smtpsink import start_sink

RETURN_PATH = "bounces@news.example"
_serial = itertools.count(1)


def configure(home: Path, text: str) -> None:
    with (home / "digest.toml").open("a", encoding="utf-8") as handle:
        handle.write("\n" + text + "\n")


def make_maildir(path: Path) -> Path:
    for sub in ("tmp", "new", "cur"):
        (path / sub).mkdir(parents=True, exist_ok=True)
    return path


def drop(maildir: Path, raw: bytes) -> str:
    """Deliver `raw` into maildir/new the way an MDA does (tmp/, then rename)."""
    name = f"1733127{next(_serial):06d}.M{os.getpid()}P1.testhost"
    (maildir / "tmp" / name).write_bytes(raw)
    os.replace(maildir / "tmp" / name, maildir / "new" / name)
    return name


def send_issue(home: Path, engine, emails: list[str], *, number: int = 1) -> dict[str, Sent]:
    """Issue `number` sent for real (aiosmtpd on loopback) to `emails`; what each one got."""
    settings = load_settings(home)
    if number == 1:
        add_subscribers(engine, emails)
    write_parts(settings, number, make_ready_issue(engine, settings, number=number))
    queue_issue(engine=engine, settings=settings, number=number, render=False)
    with start_sink() as sink:
        send_queued(settings=load_settings(home, {"DIGEST_SMTP_URL": sink.url()}), engine=engine)
        return {m.recipients[0]: Sent(m.mail_from, m.recipients[0], m.data) for m in sink.messages}


def statuses(cli) -> dict[str, dict]:
    result = cli("subscribers", "list", "--json")
    assert result.exit_code == 0, result.output
    return {row["email"]: row for row in json.loads(result.stdout)}
