"""Helpers for the editorial tests: a small catalogue written straight into the real database,
a dump of the database to prove a refused command changed nothing, and JSON from the CLI."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, UTC
from pathlib import Path

from digest.config import load_settings
from digest.db import open_database, session_scope
from digest.models import Tool, ToolKey
from digest.normalise import name_key
from sqlmodel import select

# slug: (category, name, tagline, description, price)
CATALOGUE = {
    "patchwise": ("code review", "Patchwise", "An AI reviewer on every pull request",
                  "Patchwise reads each pull request, runs your tests and leaves code review findings "
                  "as inline comments so human reviewers can focus on design.", "freemium"),
    "lintern": ("code review", "Lintern", "Automated code review that explains itself",
                "Lintern reviews pull requests before a human does: it checks the diff against your "
                "tests, ranks its findings by severity and suggests fixes.", "paid"),
    "stubby": ("code generation", "Stubby", "Boilerplate from a spec",
               "Stubby writes API client code and unit tests from an OpenAPI spec, so new services "
               "start with working code.", "open-source"),
    "minutely": ("meetings", "Minutely", "Meeting notes without the note taker",
                 "Minutely joins your video calls, transcribes the meeting and sends a summary with "
                 "decisions and action items to every attendee.", "freemium"),
    "recapper": ("meetings", "Recapper", "Your meeting, recapped",
                 "Recapper records calls, writes a recap of the discussion and files the action items "
                 "into your project tracker after every meeting.", "free"),
    "pixelmuse": ("image generation", "PixelMuse", "Brand-safe images on demand",
                  "PixelMuse generates product images and ad creatives in your brand style from a "
                  "short text prompt.", "paid"),
    "voxly": ("voice", "Voxly", "Natural voices for your app",
              "Voxly turns text into natural speech in forty languages with an API built for low "
              "latency.", "unknown"),
}

PANEL = ("builder", "skeptic", "buyer", "futurist")


def add_tools(home: Path, slugs=None, *, first_seen: datetime | None = None, **overrides) -> dict[str, int]:
    """Write catalogue tools (with url and name identity keys, as a poll would); returns slug -> id."""
    engine = open_database(load_settings(home))
    ids = {}
    try:
        with session_scope(engine, write=True) as session:
            for offset, slug in enumerate(slugs or CATALOGUE):
                category, name, tagline, description, price = CATALOGUE.get(
                    slug, (None, slug.title(), "", "", "unknown"))
                values = dict(slug=slug, name=name, tagline=tagline, description=description,
                              category=category, price=price, url=f"https://{slug}.example/")
                values.update(overrides.get(slug, {}))
                seen = (first_seen or datetime(2026, 1, 1, tzinfo=UTC)) + timedelta(minutes=offset)
                tool = Tool(first_seen_at=seen, **values)
                session.add(tool)
                session.flush()
                session.add(ToolKey(kind="url", value=f"https://{slug}.example/", tool_id=tool.id))
                key = name_key(tool.name)
                if not session.exec(select(ToolKey).where(ToolKey.kind == "name", ToolKey.value == key)).first():
                    session.add(ToolKey(kind="name", value=key, tool_id=tool.id))
                ids[slug] = tool.id
    finally:
        engine.dispose()
    return ids


def add_settings(home: Path, text: str, encoding: str = "utf-8") -> None:
    """Append to digest.toml (which may already point the test at its PostgreSQL database)."""
    with (home / "digest.toml").open("a", encoding=encoding) as handle:
        handle.write("\n" + text)


def _engine(home: Path):
    return open_database(load_settings(home))


def dump(home: Path) -> str:
    """Every row of every table, in key order: equal dumps mean nothing changed (either backend)."""
    from sqlmodel import SQLModel

    import digest.models  # noqa: F401

    engine = _engine(home)
    try:
        with engine.connect() as connection:
            lines = []
            for table in sorted(SQLModel.metadata.tables.values(), key=lambda t: t.name):
                rows = connection.execute(table.select().order_by(*table.primary_key.columns)).all()
                lines += [f"{table.name}: {tuple(row)!r}" for row in rows]
            return "\n".join(lines)
    finally:
        engine.dispose()


def sql(home: Path, query: str, *args) -> list[tuple]:
    """Run one statement on the test's database (positional ? parameters), committed."""
    from sqlalchemy import text

    for index in range(len(args)):
        query = query.replace("?", f":p{index}", 1)
    engine = _engine(home)
    try:
        with engine.begin() as connection:
            result = connection.execute(text(query), {f"p{i}": value for i, value in enumerate(args)})
            return [tuple(row) for row in result.all()] if result.returns_rows else []
    finally:
        engine.dispose()


def as_json(result) -> object:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def refused(cli, home: Path, *args: str, code: int = 2, input: str | None = None, env=None) -> str:
    """Run a command that must be refused: exit `code`, one error line, database unchanged."""
    before = dump(home)
    result = cli(*args, input=input, env=env)
    assert result.exit_code == code, (result.exit_code, result.output)
    lines = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    assert dump(home) == before
    return lines[0]


def review_all(cli, comparison: int, a: str, b: str, verdicts_a: str, verdicts_b: str) -> None:
    """Record reviews from a compact form: 'SSK-' = builder ship, skeptic ship, buyer skip, futurist none."""
    for tool, verdicts in ((a, verdicts_a), (b, verdicts_b)):
        for reviewer, letter in zip(PANEL, verdicts):
            if letter == "-":
                continue
            verdict = "ship" if letter == "S" else "skip"
            result = cli("review", str(comparison), "--tool", tool, "--reviewer", reviewer,
                         "--verdict", verdict, "--quote", f"{reviewer} says {verdict} on {tool}.")
            assert result.exit_code == 0, result.output
