"""How long `digest suggest` takes as the week's catalogue grows.

Builds a real SQLite newsletter folder in a temp dir with N invented tools spread over 12
categories (two of them related by a shared word), then times reading the catalogue and
`suggest_pairs` (the library calls behind `digest suggest`) and the whole CLI command. Prints
one line per size.

    .venv/bin/python bench/suggest.py            # sizes 100, 300, 1000
    .venv/bin/python bench/suggest.py 50 2000    # sizes of your choice
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from pathlib import Path

CATEGORIES = ["code review", "code generation", "meetings", "voice", "image generation", "data",
              "documents", "design", "education", "retail", "video", "security"]
VOCABULARY = ("agent api assistant audio brand budget chart clip code commit contract dashboard data "
              "deploy design diff draft email finding forecast image invoice lecture meeting model note "
              "prompt pull query recap record report request review schema search slide speech summary "
              "team test ticket transcript video voice warehouse workflow").split()


def build(home: Path, count: int, seed: int = 7) -> None:
    from digest.config import load_settings
    from digest.db import open_database, session_scope
    from digest.folder import init_folder
    from digest.models import Tool

    init_folder(home)
    rng = random.Random(seed)
    engine = open_database(load_settings(home))
    with session_scope(engine, write=True) as session:
        for n in range(count):
            words = rng.sample(VOCABULARY, 18)
            session.add(Tool(slug=f"tool-{n}", name=f"Tool {n}", tagline=" ".join(words[:5]),
                             description="It " + " and ".join(words[5:]) + ".",
                             category=CATEGORIES[n % len(CATEGORIES)]))
    engine.dispose()


def main(sizes: list[int]) -> None:
    from typer.testing import CliRunner

    from digest.cli import app
    from digest.config import load_settings
    from digest.data.engine import connect
    from digest.data.pair_candidates import read_catalogue
    from digest.editorial import suggest_pairs

    print(f"{'tools':>6} {'pairs scored':>13} {'suggest_pairs(limit=10)':>24} {'digest suggest --limit 10':>26}")
    for size in sizes:
        with tempfile.TemporaryDirectory() as folder:
            home = Path(folder) / "newsletter"
            build(home, size)
            with connect(load_settings(home)) as db, db.transaction():
                started = time.perf_counter()
                report = suggest_pairs(read_catalogue(db), limit=10)
                library = time.perf_counter() - started
            started = time.perf_counter()
            result = CliRunner().invoke(app, ["--home", str(home), "suggest", "--limit", "10"])
            command = time.perf_counter() - started
            if result.exit_code != 0:
                raise SystemExit(result.output)
            print(f"{size:>6} {report.pairs_scored:>13} {library * 1000:>22.0f}ms {command * 1000:>24.0f}ms")


if __name__ == "__main__":
    main([int(arg) for arg in sys.argv[1:]] or [100, 300, 1000])
