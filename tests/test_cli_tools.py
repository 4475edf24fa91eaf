"""`digest tools list` / `show`: filters, --json, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from feedserver import FeedServer, item, rss
from test_poll import LINTERN, MINUTELY, PATCHWISE, write_feeds


@pytest.fixture
def catalogue(cli, home: Path, feed_server: FeedServer):
    write_feeds(home, {"f": feed_server.route("/f.xml", body=rss(PATCHWISE, LINTERN, MINUTELY))})
    assert cli("poll").exit_code == 0
    return cli


def test_list_shows_every_tool_newest_first(catalogue) -> None:
    result = catalogue("tools", "list")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split()[:5] == ["ID", "SLUG", "CATEGORY", "PRICE", "SEEN"]
    assert [line.split()[1] for line in lines[1:]] == ["minutely", "lintern", "patchwise"]


def test_list_json_is_complete(catalogue) -> None:
    records = json.loads(catalogue("tools", "list", "--json").stdout)
    assert [r["slug"] for r in records] == ["minutely", "lintern", "patchwise"]
    patchwise = records[2]
    assert set(patchwise) >= {"id", "slug", "name", "url", "tagline", "description", "category", "vendor",
                              "price", "published_at", "first_seen_at", "feed", "edited", "comparisons"}
    assert (patchwise["price"], patchwise["feed"], patchwise["comparisons"]) == ("freemium", "f", 0)


def test_list_filters_by_category_any_case_and_limits(catalogue) -> None:
    code_review = json.loads(catalogue("tools", "list", "--category", "Code Review", "--json").stdout)
    assert sorted(r["slug"] for r in code_review) == ["lintern", "patchwise"]
    assert len(json.loads(catalogue("tools", "list", "--limit", "1", "--json").stdout)) == 1
    empty = catalogue("tools", "list", "--category", "nothing")
    assert empty.exit_code == 0 and "categories: code review, meetings" in empty.stderr


def test_new_means_in_no_comparison_yet(catalogue, home: Path) -> None:
    from datetime import UTC, datetime

    from digest.config import load_settings
    from digest.data.engine import connect

    with connect(load_settings(home)) as db, db.transaction(write=True):
        ids = {row["slug"]: row["id"] for row in db.query("SELECT slug, id FROM tool")}
        db.execute("INSERT INTO comparison (tool_a_id, tool_b_id, title, pricing_read, created_at, updated_at) "
                   "VALUES (:a, :b, 'Reviewers', '', :now, :now)",
                   {"a": ids["patchwise"], "b": ids["lintern"], "now": datetime.now(UTC)})
    fresh = json.loads(catalogue("tools", "list", "--new", "--json").stdout)
    assert [r["slug"] for r in fresh] == ["minutely"]
    patchwise = json.loads(catalogue("tools", "show", "patchwise", "--json").stdout)
    assert patchwise["comparisons"] == 1


def test_show_by_slug_or_id(catalogue) -> None:
    by_slug = catalogue("tools", "show", "lintern")
    assert by_slug.exit_code == 0
    assert by_slug.stdout.startswith("Lintern  (id ")
    assert "price:       open-source" in by_slug.stdout
    record = json.loads(catalogue("tools", "show", "lintern", "--json").stdout)
    assert json.loads(catalogue("tools", "show", str(record["id"]), "--json").stdout) == record
    assert {(k["kind"], k["value"]) for k in record["keys"]} == {
        ("guid", "f|li-1"), ("url", "lintern.example"), ("name", "lintern")}


@pytest.mark.parametrize("args", [("tools", "show", "nope"), ("tools", "show", "999")])
def test_unknown_tool_is_exit_2_in_one_line(catalogue, args: tuple[str, ...]) -> None:
    result = catalogue(*args)
    assert result.exit_code == 2
    assert result.stderr == f"error: no tool '{args[-1]}' (hint: `digest tools list` shows ids and slugs)\n"


def test_bad_limit_is_a_usage_error(catalogue) -> None:
    result = catalogue("tools", "list", "--limit", "0")
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_empty_catalogue_says_so(cli) -> None:
    result = cli("tools", "list")
    assert result.exit_code == 0 and result.stdout == ""
    assert "no tools yet" in result.stderr
    assert json.loads(cli("tools", "list", "--json").stdout) == []


def test_slugs_stay_unique_when_names_collide(cli, home: Path, feed_server: FeedServer) -> None:
    # different tools (names in Cyrillic) whose names give the same slug
    write_feeds(home, {"f": feed_server.route("/f.xml", body=rss(
        item("Рыба – one", "https://fish.example/", "1"), item("Кот – two", "https://cat.example/", "2")))},
                f={"kind": "ai-launches"})  # launches whatever their text says: named Рыба and Кот
    cli("poll")
    records = json.loads(cli("tools", "list", "--json").stdout)
    assert sorted(r["slug"] for r in records) == ["tool", "tool-2"]
    assert {r["name"] for r in records} == {"Рыба", "Кот"}


@pytest.mark.parametrize("many", [False, True], ids=["flushed-at-exit", "written-while-running"])
def test_output_into_a_pipe_closed_early_ends_quietly(home: Path, many: bool) -> None:
    """`digest tools list | head -1`: the reader stops early; no internal error, no traceback."""
    import subprocess
    import sys

    from editorial_support import add_tools

    if many:  # more than the pipe's buffer, so the write itself fails while the command runs
        add_tools(home, [f"tool-{n}" for n in range(80)])
    process = subprocess.Popen([sys.executable, "-m", "digest", "--home", str(home), "tools", "list", "--json"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.close()  # the reader is gone before the first byte
    stderr = process.stderr.read().decode()
    process.stderr.close()
    assert process.wait(timeout=60) == 1
    assert stderr == ""


def test_list_reads_only_the_database_settings(cli, home: Path) -> None:
    """`tools list` loads the [database] section alone (digest.config_values.load_database): a
    fault elsewhere is reported by the commands that use that setting, a database fault here."""
    settings_file = home / "digest.toml"
    settings_file.write_text(settings_file.read_text(encoding="utf-8") + '\n[smtp]\nurl = "http://nope"\n',
                             encoding="utf-8")
    assert cli("tools", "list", "--json").exit_code == 0
    assert cli("tools", "show", "1").exit_code == 2
    refused = cli("tools", "list", "--json", env={"DIGEST_DATABASE_POOL_SIZE": "many"})
    assert refused.exit_code == 2 and "DIGEST_DATABASE_POOL_SIZE: 'many' is not a whole number" in refused.stderr
