"""Scorecard files: a comparison as TOML, for `digest review --file` and `digest comparison edit`.

One format serves both. A REVIEWS.toml holds `[[reviews]]` tables (reviewer, tool, verdict,
quote) and may also hold `title`, `pricing_read`, and `[a]` / `[b]` tables with the tools'
entry `price`; `digest review --file` applies what is there and leaves the rest alone. The
editor's document is the same format, complete: what is saved is the comparison, so a review
deleted from it is deleted.

A file is checked as a whole before anything is written, and every problem names the line and
the field (`REVIEWS.toml:12: reviews[2].verdict: 'shipp' is not ship or skip`). tomllib gives
no line numbers for values, so `Locator` finds them by scanning the text.

Rendering is deterministic: the same comparison always renders to the same bytes, and parsing
a rendered document gives back exactly the stored values (the round trip the editor relies on).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from digest.config import Reviewer
from digest.editorial.pairing import clean_pricing_read, clean_title
from digest.editorial.reviews import (ReviewInput, check_quote, check_reviewer, check_verdict,
                                      reviews_of, tool_of_comparison)
from digest.errors import DigestError, ValidationError
from digest.models import Comparison, EntryPrice, Tool

SIDES = ("a", "b")
TOP_KEYS = ("comparison", "title", "pricing_read", "a", "b", "reviews")
SIDE_KEYS = ("tool", "price")
REVIEW_KEYS = ("reviewer", "tool", "verdict", "quote")


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a scorecard file: where, which field, what."""

    line: int | None
    field: str
    message: str

    def describe(self, filename: str) -> str:
        where = f"{filename}:{self.line}" if self.line else filename
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class ScorecardError(ValidationError):
    """A scorecard file that does not validate; carries every problem found."""

    def __init__(self, problems: list[Problem], *, filename: str) -> None:
        self.problems = problems
        self.filename = filename
        if len(problems) == 1:
            super().__init__(problems[0].describe(filename) + "; nothing was written")
        else:
            super().__init__(f"{filename}: {len(problems)} problems, each below; nothing was written")

    def lines(self) -> list[str]:
        return [p.describe(self.filename) for p in self.problems]

    def details(self) -> list[str]:
        """Every problem, with its line, when there is more than one (one alone is the message)."""
        return self.lines() if len(self.problems) > 1 else []


@dataclass
class Scorecard:
    """What a checked scorecard file says; None for what it leaves out."""

    title: str | None = None
    pricing_read: str | None = None
    prices: dict[str, EntryPrice] = field(default_factory=dict)  # side -> price
    reviews: list[ReviewInput] = field(default_factory=list)


# --- line numbers -------------------------------------------------------------------------

_ARRAY_HEADER = re.compile(r"^\[\[\s*([A-Za-z0-9_.-]+)\s*\]\]")
_TABLE_HEADER = re.compile(r"^\[\s*([A-Za-z0-9_.-]+)\s*\]")
_KEY = re.compile(r"""^(?:"([^"]*)"|'([^']*)'|([A-Za-z0-9_-]+))\s*=""")


class Locator:
    """Line numbers of keys and tables in TOML text, found by scanning (skipping multi-line strings).

    Only for messages: when the text is unusual it falls back to the nearest table header.
    """

    def __init__(self, text: str) -> None:
        self.top: dict[str, int] = {}
        self.tables: dict[str, tuple[int, dict[str, int]]] = {}
        self.arrays: dict[str, list[tuple[int, dict[str, int]]]] = {}
        keys = self.top
        delimiter: str | None = None
        for number, line in enumerate(text.splitlines(), start=1):
            if delimiter is not None:
                if delimiter in line.replace("\\" + delimiter[0], ""):
                    delimiter = None
                continue
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            if match := _ARRAY_HEADER.match(stripped):
                entry: tuple[int, dict[str, int]] = (number, {})
                self.arrays.setdefault(match.group(1), []).append(entry)
                keys = entry[1]
            elif match := _TABLE_HEADER.match(stripped):
                entry = (number, {})
                self.tables.setdefault(match.group(1), entry)
                keys = entry[1]
            elif match := _KEY.match(stripped):
                key = next(g for g in match.groups() if g is not None)
                keys.setdefault(key, number)
                value = stripped[match.end():]
                for quote in ('"""', "'''"):
                    start = value.find(quote)
                    if start != -1 and value.find(quote, start + 3) == -1:
                        delimiter = quote
                        break

    def of_top(self, key: str) -> int | None:
        return self.top.get(key)

    def of_table(self, name: str, key: str | None = None) -> int | None:
        header, keys = self.tables.get(name, (None, {}))
        return keys.get(key, header) if key else header

    def of_array(self, name: str, index: int, key: str | None = None) -> int | None:
        entries = self.arrays.get(name, [])
        if index >= len(entries):
            return self.top.get(name)
        header, keys = entries[index]
        return keys.get(key, header) if key else header


_TOML_LINE = re.compile(r"\(at line (\d+), column \d+\)")


# --- parsing ------------------------------------------------------------------------------

def parse_scorecard(text: str, *, filename: str, session: Session, comparison: Comparison,
                    panel: Sequence[Reviewer], complete: bool) -> Scorecard:
    """Check a scorecard file against the comparison and the panel, as a whole.

    `complete=True` is the editor's document: title, pricing_read, [a] and [b] are required
    and the reviews listed are all the reviews. Raises ScorecardError listing every problem
    with its line; returns the checked values otherwise. Writes nothing.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = _TOML_LINE.search(str(exc))
        message = _TOML_LINE.sub("", str(exc)).strip()
        raise ScorecardError([Problem(int(match.group(1)) if match else None, "",
                                      f"invalid TOML: {message}")], filename=filename) from None
    check = _Check(data, Locator(text), session=session, comparison=comparison, complete=complete)
    check.top_keys()
    check.comparison_id()
    check.texts()
    check.sides()
    check.reviews(panel)
    if check.problems:
        check.problems.sort(key=lambda p: (p.line is None, p.line or 0))
        raise ScorecardError(check.problems, filename=filename)
    return check.card


class _Check:
    """One pass over a parsed scorecard: each part checked in turn, every problem collected
    (in the order found; `parse_scorecard` sorts them by line) and the good values kept."""

    def __init__(self, data: dict[str, Any], where: Locator, *, session: Session, comparison: Comparison,
                 complete: bool) -> None:
        self.data = data
        self.where = where
        self.session = session
        self.comparison = comparison
        self.complete = complete
        self.problems: list[Problem] = []
        self.card = Scorecard()
        self.tools = {"a": session.get(Tool, comparison.tool_a_id), "b": session.get(Tool, comparison.tool_b_id)}

    def problem(self, line: int | None, name: str, message: str) -> None:
        self.problems.append(Problem(line, name, message))

    def top_keys(self) -> None:
        for key in self.data:
            if key not in TOP_KEYS:
                self.problem(self.where.of_top(key) or self.where.of_table(key), key,
                             f"unknown key (a scorecard has {', '.join(TOP_KEYS)})")

    def comparison_id(self) -> None:
        if "comparison" not in self.data:
            return
        value = self.data["comparison"]
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(self.where.of_top("comparison"), "comparison", "expected the comparison's id, a number")
        elif value != self.comparison.id:
            self.problem(self.where.of_top("comparison"), "comparison",
                         f"this file is for comparison {value}, not {self.comparison.id}")

    def texts(self) -> None:
        for key, clean in (("title", clean_title), ("pricing_read", clean_pricing_read)):
            if key not in self.data:
                if self.complete:
                    self.problem(None, key, "missing")
                continue
            if not isinstance(self.data[key], str):
                self.problem(self.where.of_top(key), key, "expected a string")
                continue
            try:
                setattr(self.card, key, clean(self.data[key]))
            except ValidationError as exc:
                self.problem(self.where.of_top(key), key, exc.message)

    def sides(self) -> None:
        for side in SIDES:
            if side not in self.data:
                if self.complete:
                    self.problem(None, f"[{side}]", "missing")
                continue
            table = self.data[side]
            if not isinstance(table, dict):
                self.problem(self.where.of_top(side), side, f"expected a [{side}] table with tool and price")
                continue
            self.side(side, table)

    def side(self, side: str, table: dict[str, Any]) -> None:
        where, tool = self.where, self.tools[side]
        for key in table:
            if key not in SIDE_KEYS:
                self.problem(where.of_table(side, key), f"{side}.{key}", "unknown key (expected tool and price)")
        if "tool" in table and str(table["tool"]) not in (tool.slug, str(tool.id)):
            self.problem(where.of_table(side, "tool"), f"{side}.tool",
                         f"tool {side.upper()} is {tool.slug} and cannot be changed here "
                         "(pair the tools anew with `digest pair`)")
        if "price" in table:
            try:
                if not isinstance(table["price"], str):
                    raise ValueError("expected a string")
                self.card.prices[side] = EntryPrice.parse(table["price"])
            except ValueError as exc:
                self.problem(where.of_table(side, "price"), f"{side}.price", str(exc))
        elif self.complete:
            self.problem(where.of_table(side), f"{side}.price", "missing")

    def reviews(self, panel: Sequence[Reviewer]) -> None:
        reviews = self.data.get("reviews", [])
        if not isinstance(reviews, list):
            self.problem(self.where.of_top("reviews"), "reviews", "expected [[reviews]] tables")
            reviews = []
        if not self.complete and not set(self.data) - {"comparison"}:
            self.problem(None, "reviews", "no [[reviews]] tables and nothing else to record")
        allowed = list(panel)
        if self.complete:  # keep reviews by reviewers who have since left the panel
            extra = {r.reviewer for r in reviews_of(self.session, self.comparison.id)} - {r.key for r in panel}
            allowed += [Reviewer(key, key, "") for key in sorted(extra)]
        seen: dict[tuple[str, int], int] = {}
        for index, entry in enumerate(reviews):
            values = self.review(index, entry, allowed)
            if values is None:
                continue
            identity = (values["reviewer"], values["tool"])
            if identity in seen:
                self.problem(self.where.of_array("reviews", index), f"reviews[{index}]",
                             f"{values['reviewer']} reviews {_slug(self.tools, values['tool'])} twice "
                             f"(also reviews[{seen[identity]}])")
                continue
            seen[identity] = index
            self.card.reviews.append(ReviewInput(reviewer=values["reviewer"], tool_id=values["tool"],
                                                 verdict=values["verdict"], quote=values["quote"]))

    def review(self, index: int, entry: Any, allowed: list[Reviewer]) -> dict[str, Any] | None:
        """The checked values of reviews[index], or None when any of them is wrong or missing."""
        name, where = f"reviews[{index}]", self.where
        if not isinstance(entry, dict):
            self.problem(where.of_array("reviews", index), name, "expected a table")
            return None
        for key in entry:
            if key not in REVIEW_KEYS:
                self.problem(where.of_array("reviews", index, key), f"{name}.{key}",
                             f"unknown key (a review has {', '.join(REVIEW_KEYS)})")
        values: dict[str, Any] = {}
        for key, check in (("reviewer", lambda v: check_reviewer(v, allowed)),
                           ("tool", lambda v: tool_of_comparison(self.session, self.comparison, v).id),
                           ("verdict", check_verdict), ("quote", check_quote)):
            line = where.of_array("reviews", index, key)
            if key not in entry:
                self.problem(where.of_array("reviews", index), f"{name}.{key}", "missing")
                continue
            raw = entry[key]
            if not isinstance(raw, str) and not (key == "tool" and isinstance(raw, int) and not isinstance(raw, bool)):
                self.problem(line, f"{name}.{key}", "expected a string")
                continue
            try:
                values[key] = check(raw)
            except DigestError as exc:
                self.problem(line, f"{name}.{key}", exc.message)
        return values if len(values) == len(REVIEW_KEYS) else None


def _slug(tools: dict[str, Tool], tool_id: int) -> str:
    return next(t.slug for t in tools.values() if t.id == tool_id)


# --- rendering ----------------------------------------------------------------------------

def comparison_as_toml(*, session: Session, comparison: Comparison, panel: Sequence[Reviewer],
                      notice: Sequence[str] = ()) -> str:
    """The comparison as the editor's TOML document; the same state gives the same bytes.

    `notice` lines (a validation error, say) go first, as comments.
    """
    import tomlkit

    tool_a, tool_b = session.get(Tool, comparison.tool_a_id), session.get(Tool, comparison.tool_b_id)
    tools = {tool_a.id: tool_a, tool_b.id: tool_b}
    reviews = reviews_of(session, comparison.id)
    order = {r.key: i for i, r in enumerate(panel)}
    reviews.sort(key=lambda r: (order.get(r.reviewer, len(order)), r.reviewer,
                                0 if r.tool_id == tool_a.id else 1))
    given = {(r.reviewer, r.tool_id) for r in reviews}
    missing = [f"{p.key} on {t.slug}" for p in panel for t in (tool_a, tool_b) if (p.key, t.id) not in given]

    doc = tomlkit.document()
    for line in notice:
        doc.add(tomlkit.comment(line))
    if notice:
        doc.add(tomlkit.nl())
    doc.add(tomlkit.comment(f"Comparison {comparison.id}: {tool_a.name} (A) vs {tool_b.name} (B)."))
    doc.add(tomlkit.comment("Save to apply; quit without saving, or empty the file, to change nothing."))
    doc.add(tomlkit.comment("verdict: ship or skip. quote: 1 to 1,200 characters. "
                            "Delete a [[reviews]] table to delete that review."))
    doc.add(tomlkit.comment("price is the tool's entry price (every comparison shows it): "
                            + ", ".join(p.value for p in EntryPrice) + "."))
    doc.add(tomlkit.comment("panel: " + ", ".join(f"{p.key} ({p.name})" for p in panel)))
    if missing:
        doc.add(tomlkit.comment("not reviewed yet: " + ", ".join(missing)))
    doc.add(tomlkit.nl())
    doc.add("comparison", comparison.id)
    doc.add("title", tomlkit.string(comparison.title))
    doc.add("pricing_read", _text(comparison.pricing_read))
    for side, tool in (("a", tool_a), ("b", tool_b)):
        table = tomlkit.table()
        table.add("tool", tool.slug)
        table["tool"].comment(f"{tool.name} (cannot be changed here)")
        table.add("price", tool.price)
        doc.add(tomlkit.nl())
        doc.add(side, table)
    array = tomlkit.aot()
    for review in reviews:
        table = tomlkit.table()
        table.add("reviewer", review.reviewer)
        table.add("tool", tools[review.tool_id].slug)
        table.add("verdict", review.verdict)
        table.add("quote", _text(review.quote))
        array.append(table)
    if reviews:
        doc.add(tomlkit.nl())
        doc.add("reviews", array)
    text = tomlkit.dumps(doc)
    return text if text.endswith("\n") else text + "\n"


WRAP = 96


def _text(value: str):  # noqa: ANN202
    """A string item for prose: one line when short and plain, else a multi-line basic string
    wrapped at spaces with TOML's line-ending backslash (which the parser joins back exactly),
    so a 1,200-character quote reads well in any editor and quotation marks stay unescaped."""
    import tomlkit
    from tomlkit.items import String, StringType, Trivia

    if "\n" not in value and '"' not in value and len(value) <= 60:
        return tomlkit.string(value)
    # tomlkit leaves a carriage return raw, and a parser reads CR LF as LF: escape it
    escaped = tomlkit.string(value, multiline=True).as_string()[3:-3].replace("\r", "\\r")
    return String(StringType.MLB, value, _wrap(escaped), Trivia())


def _wrap(escaped: str, width: int = WRAP) -> str:
    """Break long lines at single spaces between two non-space characters, ending each
    broken line with `\\`: the parser removes the newline and nothing else."""
    out = []
    for line in escaped.split("\n"):
        while len(line) > width:
            cut = next((i for i in range(width, 0, -1) if line[i] == " " and not line[i - 1].isspace()
                        and i + 1 < len(line) and not line[i + 1].isspace()), None)
            if cut is None:
                cut = next((i for i in range(width, len(line) - 1) if line[i] == " " and not line[i - 1].isspace()
                            and not line[i + 1].isspace()), None)
            if cut is None:
                break
            out.append(line[:cut + 1] + "\\")
            line = line[cut + 1:]
        out.append(line)
    return "\n".join(out)


# --- applying -----------------------------------------------------------------------------

def apply_scorecard(*, session: Session, comparison: Comparison, card: Scorecard,
                    complete: bool) -> list[str]:
    """Write a checked scorecard; returns what changed, one short phrase each.

    With `complete=True` the card is the whole comparison (reviews not in it are deleted);
    otherwise only what the card names is recorded or replaced. The caller checks that the
    comparison is editable and runs this in one transaction.
    """
    from digest.editorial.pairs import update_comparison
    from digest.editorial.reviews import upsert_review
    from digest.models import utcnow

    changes = [f"changed {name.replace('_', ' ')}" for name in
               update_comparison(session=session, comparison=comparison, title=card.title,
                                 pricing_read=card.pricing_read)]
    for side, price in card.prices.items():
        tool = session.get(Tool, comparison.tool_a_id if side == "a" else comparison.tool_b_id)
        if tool.price != price.value:
            tool.price = price.value
            tool.edited = sorted({*tool.edited, "price"})
            session.add(tool)
            changes.append(f"changed {tool.slug} price")
    existing = {(r.reviewer, r.tool_id): r for r in reviews_of(session, comparison.id)}
    slugs = {comparison.tool_a_id: session.get(Tool, comparison.tool_a_id).slug,
             comparison.tool_b_id: session.get(Tool, comparison.tool_b_id).slug}
    for review in card.reviews:
        before = existing.pop((review.reviewer, review.tool_id), None)
        if before is not None and (before.verdict, before.quote) == (review.verdict, review.quote):
            continue
        upsert_review(session, comparison, review)
        verb = "recorded" if before is None else "replaced"
        changes.append(f"{verb} {review.reviewer} on {slugs[review.tool_id]}")
    if complete:
        for (reviewer, tool_id), row in existing.items():
            session.delete(row)
            changes.append(f"deleted {reviewer} on {slugs[tool_id]}")
    if changes:
        comparison.updated_at = utcnow()
        session.add(comparison)
    session.flush()
    return changes


def read_scorecard_file(path: str) -> tuple[str, str]:
    """(text, name to show) of a REVIEWS.toml; ValidationError when it cannot be read."""
    from pathlib import Path

    file = Path(path)
    try:
        return file.read_text(encoding="utf-8"), file.name
    except FileNotFoundError:
        raise ValidationError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(f"{path}: cannot read: {exc}") from None


def record_scorecard(*, session: Session, comparison: Comparison, text: str, filename: str,
                     panel: Sequence[Reviewer]) -> list[str]:
    """Record a REVIEWS.toml: every review in it recorded or replaced, and the title, pricing
    read and prices it names set. Checked as a whole first (ScorecardError lists every
    problem with its line); StateError when the comparison is in a sending or sent issue.
    """
    from digest.editorial.lookup import require_editable_comparison

    require_editable_comparison(session, comparison)
    card = parse_scorecard(text, filename=filename, session=session, comparison=comparison,
                           panel=panel, complete=False)
    return apply_scorecard(session=session, comparison=comparison, card=card, complete=False)
