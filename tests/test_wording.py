"""What the CLI says reads as English: counted nouns agree ("1 pair"), long lines are cut at a
word with "…", columns say what they hold, and `digest serve` logs in one format."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from editorial_support import add_tools, review_all
from webapp import free_port, wait_until
from digest.wording import count, plural, shorten


@pytest.mark.parametrize(("number", "word", "said"), [
    (1, "pair", "1 pair"), (0, "pair", "0 pairs"), (2, "new delivery", "2 new deliveries"),
    (1, "new delivery", "1 new delivery"), (12, "unpaired tool", "12 unpaired tools"), (1500, "tool", "1,500 tools"),
])
def test_counted_nouns_agree(number: int, word: str, said: str) -> None:
    assert count(number, word) == said
    assert plural("was", 2) == "were" and plural("was", 1) == "was"


@pytest.mark.parametrize(("text", "width", "cut"), [
    ("turn call recordings into a searchable log of decisions", 40, "turn call recordings into a searchable…"),
    ("short", 40, "short"),
    ("exactly ten", 11, "exactly ten"),
    ("Supercalifragilistic", 8, "Superca…"),  # one word longer than the room: cut inside it
    ("one, two, three", 10, "one, two…"),
])
def test_shorten_cuts_at_a_word_with_an_ellipsis(text: str, width: int, cut: str) -> None:
    assert shorten(text, width) == cut
    assert len(shorten(text, width)) <= width


def test_tools_list_cuts_taglines_at_a_word(cli, home) -> None:
    add_tools(home, ["recapper"], recapper={"tagline": "turn call recordings into a searchable log of decisions"})
    full = "Recapper - turn call recordings into a searchable log of decisions"
    for columns in range(76, 96, 3):
        listing = cli("tools", "list", env={"COLUMNS": str(columns)})
        assert listing.exit_code == 0
        row = listing.stdout.splitlines()[1]
        assert row.endswith("…") and len(row) <= columns
        kept = row[row.index("Recapper - "):].removesuffix("…")
        assert full.startswith(kept) and full[len(kept)] == " ", row  # whole words only


def test_one_comparison_is_not_comparisons(cli, home) -> None:
    add_tools(home)
    assert cli("pair", "patchwise", "lintern").exit_code == 0
    made = cli("issue", "new", "--subject", "One", "--comparison", "1")
    assert made.exit_code == 0
    assert "issue 1: draft, 1 comparison, not ready" in made.stderr
    shown = cli("suggest", "--limit", "1")
    assert "1 suggestion among " in shown.stdout


def test_issue_list_names_the_comparison_ids(cli, home) -> None:
    add_tools(home)
    assert cli("pair", "patchwise", "lintern").exit_code == 0
    assert cli("pair", "minutely", "recapper").exit_code == 0
    review_all(cli, 2, "minutely", "recapper", "SSSS", "KKKK")
    assert cli("issue", "new", "--subject", "S", "--comparison", "2").exit_code == 0
    listing = cli("issue", "list", env={"COLUMNS": "120"})
    header = listing.stdout.splitlines()[1]
    assert "comparison ids" in header and " comparisons " not in header
    row = listing.stdout.splitlines()[3]
    assert row.split("│")[4].strip() == "2"  # the id of comparison 2, under a column that says so


def test_serve_logs_in_one_format(home: Path) -> None:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "digest", "--home", str(home), "serve", "--host", "127.0.0.1",
                                "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = f"http://127.0.0.1:{port}"

        def up() -> bool:
            try:
                return httpx.get(url + "/healthz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return process.poll() is not None

        wait_until(up, timeout=30)
        assert httpx.get(url + "/issues/").status_code == 200
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=15)
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert lines[0].startswith(f"serving on http://127.0.0.1:{port}")
    logged = lines[1:]
    assert any("Started server process" in line for line in logged)
    assert any("GET /issues/ 200" in line for line in logged)
    for line in logged:  # uvicorn's lines and the app's own alike: "2026-12-01 09:00:00,123 INFO name: ..."
        assert not line.startswith("INFO:"), line
        date, time, level = line.split()[:3]
        assert len(date) == 10 and date[4] == "-" and level in {"INFO", "WARNING", "ERROR"}, line
