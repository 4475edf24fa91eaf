"""Ids, numbers and counts as a user types them, bounded by what the database can hold.

Ids, issue numbers and positions are 32-bit signed integer columns on PostgreSQL (64-bit on
SQLite), so a larger number names nothing. Checked here, such a number is bad input (exit 2)
instead of an OverflowError or NumericValueOutOfRange deep in a database driver.
"""

from __future__ import annotations

from digest.errors import ValidationError

MAX_ID = 2**31 - 1  # the largest id, number, position or --limit any command accepts


def canonical(text: str) -> int | None:
    """The number `text` writes, when it writes one the only way: ASCII digits, no sign, no
    leading zero ("0" itself aside), no dot, space or underscore, at most MAX_ID; None otherwise.

    Every id, number and position that arrives as text (a URL, a vote link, a command-line
    argument) is read here, so "1", "+1", "01", "1.0" and "¹" can never name the same thing,
    and a number no column can hold never reaches the database.
    """
    if not (text.isascii() and text.isdigit()) or len(text) > 10 or (text[0] == "0" and len(text) > 1):
        return None
    value = int(text)
    return value if value <= MAX_ID else None


def _too_large(text: str) -> bool:
    # ASCII only: str.isdigit() also accepts '٣', which int() reads, and '²', which it refuses
    return text.isascii() and text.isdigit() and text[0] != "0" and canonical(text) is None


def is_id(text: str) -> bool:
    """Whether `text` is an id written canonically (see `canonical`): 1 to MAX_ID."""
    value = canonical(text)
    return value is not None and value > 0


def parse_id(ref: str | int, what: str, *, minimum: int = 1) -> int:
    """An id, number, position or count as the user typed it: canonical digits (a leading # is
    allowed), `minimum` to MAX_ID; ValidationError otherwise, naming `what` and the value as given."""
    text = str(ref)
    text = text[1:] if text.startswith("#") else text
    value = canonical(text)
    if value is not None and value >= minimum:
        return value
    if _too_large(text):
        raise ValidationError(f"{what} {_short(text)} is out of range (at most {MAX_ID})")
    raise ValidationError(f"{what} {_short(str(ref))!r} is not a number like 3 (digits only, no sign or leading zero)")


def _short(text: str) -> str:
    return text if len(text) <= 24 else f"{text[:12]}…({len(text)} digits)"


def check_count(value: int | None, name: str, *, minimum: int = 1) -> int | None:
    """A count such as --limit: None (no limit) or minimum..MAX_ID; ValidationError otherwise."""
    if value is not None and not minimum <= value <= MAX_ID:
        raise ValidationError(f"{name} must be between {minimum} and {MAX_ID}, got {value}")
    return value
