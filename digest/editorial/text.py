"""The editor's free text, checked one way everywhere: titles and subjects on one line, intros
and pricing reads as blocks, each with its limit and an error that names the field."""

from __future__ import annotations

from digest.errors import ValidationError


def _within(text: str, what: str, limit: int) -> str:
    if len(text) > limit:
        raise ValidationError(f"the {what} is {len(text):,} characters; the limit is {limit:,}")
    return text


def one_line(value: str, what: str, limit: int, *, required: bool = True) -> str:
    """Whitespace runs folded to single spaces; empty refused when `required`."""
    text = " ".join(str(value).split())
    if required and not text:
        raise ValidationError(f"the {what} is empty")
    return _within(text, what, limit)


def block(value: str, what: str, limit: int) -> str:
    """Paragraphs kept (line endings made plain), trimmed; empty is allowed (not written yet)."""
    return _within(str(value).replace("\r\n", "\n").strip(), what, limit)
