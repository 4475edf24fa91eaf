"""`digest tools ...`: browse and correct the catalogue of tools found in the feeds."""

from __future__ import annotations

import typer

tools_app = typer.Typer(help="Browse and correct the catalogue of tools found in the feeds.",
                        no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(tools_app, name="tools")
