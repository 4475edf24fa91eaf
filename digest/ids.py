"""Ids, numbers and counts as a user types them, bounded by what the database can hold.

Ids, issue numbers and positions are 32-bit signed integer columns on PostgreSQL (64-bit on
SQLite), so a larger number names nothing. Checked here, such a number is bad input (exit 2)
instead of an OverflowError or NumericValueOutOfRange deep in a database driver.
"""

from __future__ import annotations

from digest.errors import ValidationError

MAX_ID = 2**31 - 1  # the largest id, number, position or --limit any command accepts


def _digits(text: str) -> bool:
    # ASCII only: str.isdigit() also accepts '٣', which int() reads, and '²', which it refuses
    return text.isascii() and text.isdigit()


def _value(text: str) -> int:
    """The number of a string of digits, capped just above MAX_ID (int() refuses 4,300 digits)."""
    return int(text) if len(text.lstrip("0")) <= 10 else MAX_ID + 1


def is_id(text: str) -> bool:
    """Whether `text` is a whole number in the range of ids."""
    return _digits(text) and 0 < _value(text) <= MAX_ID


def parse_id(ref: str | int, what: str) -> int:
    """A positive whole number no larger than MAX_ID (a leading # is allowed); ValidationError
    otherwise, naming `what` and the value as given."""
    text = str(ref).strip().lstrip("#")
    if not _digits(text) or _value(text) <= 0:
        raise ValidationError(f"{what} {ref!r} is not a number like 3")
    if _value(text) > MAX_ID:
        raise ValidationError(f"{what} {_short(text)} is out of range (at most {MAX_ID})")
    return _value(text)


def _short(text: str) -> str:
    return text if len(text) <= 24 else f"{text[:12]}…({len(text)} digits)"


def check_count(value: int | None, name: str, *, minimum: int = 1) -> int | None:
    """A count such as --limit: None (no limit) or minimum..MAX_ID; ValidationError otherwise."""
    if value is not None and not minimum <= value <= MAX_ID:
        raise ValidationError(f"{name} must be between {minimum} and {MAX_ID}, got {value}")
    return value
