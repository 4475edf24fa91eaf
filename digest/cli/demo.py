"""`digest demo`: the weekly loop, offline, on bundled sample data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer


def demo(
    keep: Annotated[Optional[Path], typer.Option("--keep", metavar="DIR", help="Run in DIR and keep it afterwards (default: a temporary folder, removed at the end). A DIR from an earlier demo is emptied first.")] = None,
    serve: Annotated[bool, typer.Option("--serve", help="Leave the web app running at the end for you to click its links; Ctrl-C stops it.")] = False,
) -> None:
    """Run the whole weekly loop offline on bundled sample feeds, and report each step.

    Serves invented sample feeds on 127.0.0.1 and creates a newsletter folder; polls the
    feeds, pairs the top suggestion, records a sample scorecard and renders issue 1; adds
    sample readers, queues and sends issue 1 to an SMTP server on 127.0.0.1; casts readers'
    votes through the running web app (and shows a mail scanner's vote set aside); then
    renders issue 2 with last week's community verdict, and sums it up. DIGEST_* variables
    are ignored, so no real database or mail server is ever touched.

    Example: digest demo --keep /tmp/verdicts-demo --serve
    """
    from digest.demo import run_demo

    run_demo(keep=keep, say=typer.echo, serve=serve)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
