"""The editor's free text, checked one way everywhere: titles and subjects on one line, intros
and pricing reads as blocks, each with its limit and an error that names the field.

No field takes a control character other than tab and line breaks: a NUL, BEL or ESC typed or
pasted into a quote would be stored, then break `issue render` (XML and MJML refuse them) or
reach a terminal. Lone surrogates (bytes on the command line that were not UTF-8) are refused
for the same reason. Refused at input, the error names the field and the character.
"""

from __future__ import annotations

import re

from digest.errors import ValidationError

# C0 controls bar tab, LF and CR; DEL and the C1 controls; lone surrogates
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_NAMES = {0x00: "NUL", 0x07: "BEL", 0x08: "backspace", 0x0b: "vertical tab", 0x0c: "form feed", 0x1b: "ESC",
          0x7f: "DEL", 0x85: "NEL"}


def control_problem(value: str) -> str | None:
    """What is wrong with `value` if it holds a refused character ("control character U+001B
    (ESC) at character 4"); None when it holds none."""
    match = _CONTROL.search(str(value))
    if match is None:
        return None
    code = ord(match.group())
    if 0xD800 <= code <= 0xDFFF:
        return f"bytes that are not UTF-8 at character {match.start() + 1}"
    name = f" ({_NAMES[code]})" if code in _NAMES else ""
    return f"control character U+{code:04X}{name} at character {match.start() + 1}"


def plain(value: str, what: str) -> str:
    """`value` unchanged if it holds no control character but tab and line breaks; otherwise
    ValidationError naming `what` (e.g. "quote") and the character."""
    problem = control_problem(value)
    if problem is not None:
        raise ValidationError(f"the {what} contains {problem}; only tabs and line breaks are allowed",
                              hint="remove it; such characters break the rendered issue")
    return str(value)


def _within(text: str, what: str, limit: int) -> str:
    if len(text) > limit:
        raise ValidationError(f"the {what} is {len(text):,} characters; the limit is {limit:,}")
    return text


def one_line(value: str, what: str, limit: int, *, required: bool = True) -> str:
    """Whitespace runs folded to single spaces; empty refused when `required`."""
    text = " ".join(plain(value, what).split())
    if required and not text:
        raise ValidationError(f"the {what} is empty")
    return _within(text, what, limit)


def block(value: str, what: str, limit: int) -> str:
    """Paragraphs kept (line endings made plain), trimmed; empty is allowed (not written yet)."""
    return _within(plain(value, what).replace("\r\n", "\n").strip(), what, limit)
