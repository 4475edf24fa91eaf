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
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import typer


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


def report_failure(exc: BaseException, *, verbose: bool) -> int:
    """What every command does with an exception it raised: one line on stderr (a DigestError's
    details under it), the traceback too with --verbose; returns the exit code (the error's own,
    130 for an interrupt, 1 for anything unexpected). Call it inside the `except` block: the
    traceback printed is the one being handled."""
    from digest.errors import DigestError

    if isinstance(exc, KeyboardInterrupt):
        fail("interrupted")
        return 130
    if isinstance(exc, DigestError):
        _report(exc.one_line(), verbose=verbose)
        for line in exc.details():
            sys.stderr.write(f"  {' '.join(line.split())}\n")
        return exc.exit_code
    _report(f"internal error: {type(exc).__name__}: {exc} (run with --verbose for the traceback)", verbose=verbose)
    return 1


def _report(message: str, *, verbose: bool) -> None:
    if verbose:
        import traceback

        traceback.print_exc()
    fail(message)


def echo(text: str, *, err: bool = False) -> None:
    """A line through click's `echo`, as `typer.echo` prints it (colour codes dropped when the
    stream is no terminal): with typer's copy of click when the full CLI runs, with click itself
    in `digest.cli.fast`, which answers without importing typer."""
    echo_with = getattr(sys.modules.get("typer"), "echo", None)
    if echo_with is None:
        from click import echo as echo_with
    echo_with(text, err=err)


def say(ctx: typer.Context, text: str, *, note: bool = False) -> None:
    """One line for a person, unless --quiet: a result on stdout, or with `note=True` a note
    on stderr (see the module docstring for which is which)."""
    import typer

    from digest.cli.context import app_context

    if not app_context(ctx).quiet:
        typer.echo(text, err=note)

