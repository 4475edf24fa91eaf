"""Small words for what the CLI says: counted nouns and text cut to fit.

Kept at the ground so every layer that prints a count or a short line says it the same way:
"1 pair", "2 pairs", never "1 pairs" or "pair(s)"; a long line cut at a word, with "…".
"""

from __future__ import annotations

# nouns whose plural is not the singular plus "s"
_IRREGULAR = {"delivery": "deliveries", "entry": "entries", "address": "addresses", "summary": "summaries",
              "category": "categories", "match": "matches", "is": "are", "was": "were", "has": "have",
              "reply": "replies", "auto-reply": "auto-replies"}


def plural(word: str, count: int) -> str:
    """`word` as it reads after `count`: the singular for exactly one, else the plural."""
    if count == 1:
        return word
    head, _, last = word.rpartition(" ")
    many = _IRREGULAR.get(last, last + "s")
    return f"{head} {many}" if head else many


def count(number: int, word: str) -> str:
    """`number` and `word` agreeing: count(1, "pair") is "1 pair", count(3, "new tool") "3 new tools"."""
    return f"{number:,} {plural(word, number)}"


def shorten(text: str, width: int) -> str:
    """`text` in at most `width` characters: whole if it fits, else cut at the last word
    boundary that fits, with "…" (cut inside the word only when the first word alone is
    longer than `width`)."""
    if len(text) <= width:
        return text
    room = max(1, width - 1)
    cut = text[:room]
    if text[room] != " " and " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:-–—·") + "…"
