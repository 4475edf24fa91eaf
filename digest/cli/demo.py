"""`digest demo`: the weekly loop, offline, on bundled sample data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer


def demo(
    keep: Annotated[Optional[Path], typer.Option("--keep", metavar="DIR", help="Run in DIR and keep it afterwards (default: a temporary folder, removed at the end).")] = None,
) -> None:
    """Run the whole loop offline on bundled sample feeds, and report each step.

    Serves invented sample feeds on 127.0.0.1, creates a newsletter folder, polls the feeds
    and lists the tools found, pairs the top suggestion, records a sample scorecard and
    assembles issue 1. DIGEST_* variables are ignored, so no real database or mail
    server is ever touched.

    Example: digest demo --keep /tmp/verdicts-demo
    """
    from digest.demo import run_demo

    run_demo(keep=keep, say=typer.echo)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
