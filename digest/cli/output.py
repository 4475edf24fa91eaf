"""Printing for the CLI: JSON for scripts, rich for people, errors as one line on stderr.

Which stream a line goes to:

- stdout carries results, what a script captures or redirects: the records, listings, ids,
  JSON and CSV asked for, and a command's report of what it did (sent, queued, scheduled,
  subscribed, imported, rendered).
- stderr carries progress and notes: progress bars, notes beside the result (a feed skipped
  or moved, an address suppressed, where the web app listens), warnings and errors. The
  editor's desk (pair, review, comparison, issue new/add/remove/move/set/delete, tools
  corrections) confirms its edits here too, so that its stdout holds only the ids and records
  a script reads: `id=$(digest pair a b)`.

`say` prints both kinds of line a person may silence with --quiet (a cron job stays silent
when all is well). What was asked for (ids, records, listings, JSON), warnings and errors are
printed whatever --quiet says: with `typer.echo` / `print_json`, `warn` and `fail`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import typer
    from sqlmodel import Session

    from digest.cli.context import AppContext


def _default(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if hasattr(value, "model_dump"):
        return value.model_dump()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def print_json(data: Any) -> None:
    """Complete, machine-readable output: never paged, never coloured."""
    sys.stdout.write(json.dumps(data, default=_default, ensure_ascii=False, indent=2) + "\n")


def console():  # noqa: ANN201
    """A rich Console for stdout, created on first use (rich costs start-up time)."""
    from rich.console import Console

    return Console(highlight=False, soft_wrap=False)


def error_console():  # noqa: ANN201
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def warn(message: str) -> None:
    sys.stderr.write(f"warning: {message}\n")


def fail(message: str) -> None:
    sys.stderr.write(f"error: {message}\n")


def say(ctx: typer.Context, text: str, *, note: bool = False) -> None:
    """One line for a person, unless --quiet: a result on stdout, or with `note=True` a note
    on stderr (see the module docstring for which is which)."""
    import typer

    from digest.cli.context import app_context

    if not app_context(ctx).quiet:
        typer.echo(text, err=note)


def show(ctx: typer.Context, *, json_output: bool, load: Callable[[Session, AppContext], Any], view: str) -> None:
    """The show commands' one shape: `load` a record in a read-only transaction, then print it
    as JSON, or as the rich rendering `view` names in digest.cli.views (imported only for
    people: rich costs start-up time)."""
    from digest.cli.context import app_context
    from digest.db import session_scope

    state = app_context(ctx)
    with session_scope(state.engine) as session:
        record = load(session, state)
        data = record.to_json()
    if json_output:
        print_json(data)
        return
    from digest.cli import views

    console().print(getattr(views, view)(record))
