"""Parameters shared by the commands, declared once: --json, the issue and comparison
arguments, and the click types that read ids, numbers and counts one way.

Click's own INT reads whatever `int()` reads ("+3", " 3", "3_0", "٣") and any size, so an id
typed oddly named something and a huge one reached the database as an OverflowError. These
types read through `digest.ids.parse_id` instead: canonical digits within range, or a one-line
usage error (exit 2).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from digest.errors import ValidationError
from digest.ids import parse_id

try:  # typer >= 0.26 runs on its vendored click and wraps any other ParamType as a bare function
    from typer._click.types import ParamType
except ImportError:  # pragma: no cover - older typer runs on click itself
    from click import ParamType


class Number(ParamType):
    """An id, number, position or count: canonical ASCII digits from `minimum` to MAX_ID."""

    name = "integer"

    def __init__(self, what: str, *, minimum: int = 1) -> None:
        self.what = what
        self.minimum = minimum

    def convert(self, value: Any, param: Any, ctx: Any) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)  # a default: checked like typed text
        try:
            return parse_id(value, self.what, minimum=self.minimum)
        except ValidationError as exc:
            self.fail(exc.message, param, ctx)


ID = Number("id")
ISSUE = Number("issue")
POSITION = Number("position", minimum=0)  # 0 reaches the library, which names the valid range
LIMIT = Number("limit")
LIMIT_OR_ZERO = Number("limit", minimum=0)


def json_option(help: str = "Print complete machine-readable JSON.") -> Any:  # noqa: A002
    """The --json switch (machine-readable output on stdout, complete and never coloured);
    `help` says what it prints for the command at hand."""
    return Annotated[bool, typer.Option("--json", help=help)]


JsonOption = json_option()
IssueArg = Annotated[str, typer.Argument(help="The issue's number.", show_default=False)]
ComparisonArg = Annotated[str, typer.Argument(help="The comparison's id.", show_default=False)]
