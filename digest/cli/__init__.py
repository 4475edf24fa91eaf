"""The `digest` command: a thin Typer layer over the library, one module per noun.

Each command parses its arguments, calls one library function and prints the result. Errors
from the library (`DigestError`) become one line on stderr and the error's exit code (1 for a
failed operation, 2 for bad usage or input); `--verbose` adds the traceback. Command modules
import heavy libraries inside the command functions so that start-up stays fast.

The Typer app lives in `digest.cli.root` (`app` here is that app, imported on first use):
importing typer costs more than the whole of `digest --help` may take, so this package
imports nothing heavy, and `main` lets `digest.cli.fast` answer `digest --help` and
`digest tools list` before typer is ever imported.
"""

from __future__ import annotations

import sys
from typing import Any


def main() -> None:
    """Console-script entry point.

    Output piped into a reader that stops early (`digest tools list | head`) ends quietly with
    exit status 1, as click does for a closed pipe, instead of reporting an internal error:
    also when the pipe closes only as the buffered output is flushed at exit.
    """
    from digest.cli.fast import run

    try:
        code = run(sys.argv[1:])
        if code is None:
            from digest.cli.root import app

            app()
    finally:
        _flush_stdout()
    sys.exit(code)


def _flush_stdout() -> None:
    import os

    try:
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the interpreter's own flush at exit is quiet too
        raise SystemExit(1) from None


def __getattr__(name: str) -> Any:
    """`app` (the Typer app) and `app_context`, imported when first asked for."""
    if name == "app":
        from digest.cli.root import app

        return app
    if name == "app_context":
        from digest.cli.context import app_context

        return app_context
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["app", "app_context", "main"]
