"""`digest poll`: fetch the feeds and store the tools they announce."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from digest.cli.context import app_context
from digest.cli.output import print_json, say
from digest.cli.params import json_option


def poll(
    ctx: typer.Context,
    feed: Annotated[list[str], typer.Option("--feed", metavar="NAME",
                                            help="Poll only this feed of feeds.toml (repeatable).")] = [],  # noqa: B006
    force: Annotated[bool, typer.Option("--force", help="Also poll feeds that are disabled (410 Gone) or backing off after failures.")] = False,
    due: Annotated[bool, typer.Option("--due", help="Only feeds whose poll interval has elapsed (for cron and the scheduler).")] = False,
    json_output: json_option("Print the full report as JSON.") = False,
) -> None:
    """Fetch the feeds of feeds.toml and store the tools they announce.

    Unchanged feeds cost a 304 (ETag / Last-Modified). A feed that fails is recorded on the
    feed and retried later with backoff; the others go on. Exits 0 whenever the poll ran,
    even if feeds failed; the summary line says how many.

    Example: digest poll --feed show-hn
    """
    from digest.poll import FAILED, SKIPPED
    from digest.poll import poll as run_poll

    state = app_context(ctx)
    settings = state.settings
    bar = _ProgressBar() if not json_output and not state.quiet and sys.stderr.isatty() else None
    try:
        report = run_poll(settings, feed_names=feed, force=force, due_only=due,
                          progress=bar.advance if bar else None)
    finally:
        if bar:
            bar.stop()
    if json_output:
        print_json(report.to_dict())
        return
    for outcome in report.feeds:
        if outcome.result == FAILED:
            typer.echo(f"failed  {outcome.name}: {outcome.error}", err=True)
        elif outcome.result == SKIPPED:
            say(ctx, f"skipped {outcome.name}: {outcome.error}", note=True)
        for warning in outcome.warnings:
            say(ctx, f"warning: {outcome.name}: {warning}", note=True)
        if outcome.moved_to:
            say(ctx, f"moved   {outcome.name}: now {outcome.moved_to} (permanent redirect)", note=True)
    typer.echo(report.summary())


class _ProgressBar:
    """A rich progress bar on stderr, only for people at a terminal."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.progress = Progress(TextColumn("polling"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("{task.description}"), TimeElapsedColumn(),
                                 console=Console(stderr=True), transient=True)
        self.task = None

    def advance(self, outcome, done: int, total: int) -> None:  # noqa: ANN001
        if self.task is None:
            self.progress.start()
            self.task = self.progress.add_task(outcome.name, total=total)
        self.progress.update(self.task, completed=done, description=outcome.name)

    def stop(self) -> None:
        if self.task is not None:
            self.progress.stop()


def register(app: typer.Typer) -> None:
    app.command("poll")(poll)
