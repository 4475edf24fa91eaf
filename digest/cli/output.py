"""Printing for the CLI: JSON for scripts, rich for people, errors as one line on stderr."""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import Any


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
