"""The audience through the real CLI on a real SQLite file: add, import, list, remove, export."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import pytest
from sqlmodel import select

from digest.db import session_scope
from digest.models import Subscriber, Suppression
from digest.subscribers import confirm_subscriber, get_subscriber, request_subscription


def listed(cli, *args: str) -> list[dict]:
    result = cli("subscribers", "list", "--json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_add_is_active_and_deduplicated_case_insensitively(cli) -> None:
    result = cli("subscribers", "add", "Ann@Example.COM", "bob@example.org")
    assert result.exit_code == 0, result.output
    assert "added: Ann@example.com (active)" in result.stdout
    again = cli("subscribers", "add", "ann@example.com")
    assert again.exit_code == 0 and "already present: Ann@example.com" in again.stdout
    records = listed(cli)
    assert [(r["email"], r["status"]) for r in records] == [("Ann@example.com", "active"), ("bob@example.org", "active")]
    assert all(isinstance(r["id"], int) for r in records)


def test_add_with_one_invalid_address_adds_nothing(cli) -> None:
    result = cli("subscribers", "add", "good@example.com", "not-an-address")
    assert result.exit_code == 2
    assert "not-an-address" in result.stderr and "Traceback" not in result.output
    assert listed(cli) == []


def test_pending_then_add_again_activates(cli) -> None:
    assert cli("subscribers", "add", "--pending", "pat@example.com").exit_code == 0
    assert listed(cli, "--status", "pending")[0]["email"] == "pat@example.com"
    result = cli("subscribers", "add", "pat@example.com")
    assert "activated: pat@example.com" in result.stdout
    assert listed(cli, "--status", "active")[0]["confirmed_at"]


def test_list_filters_limits_and_rejects_unknown_status(cli) -> None:
    cli("subscribers", "add", *[f"r{i}@example.com" for i in range(5)])
    assert len(listed(cli, "--limit", "2")) == 2
    assert listed(cli, "--status", "bounced") == []
    bad = cli("subscribers", "list", "--status", "sleeping")
    assert bad.exit_code == 2 and "not a subscriber status" in bad.stderr
    human = cli("subscribers", "list")
    assert "r4@example.com" in human.stdout and "5 active" in human.stdout


def test_remove_suppresses_and_add_needs_the_named_override(cli, engine) -> None:
    cli("subscribers", "add", "leaver@example.com")
    result = cli("subscribers", "remove", "LEAVER@example.com")
    assert result.exit_code == 0, result.output
    assert listed(cli)[0]["status"] == "unsubscribed"
    with session_scope(engine) as session:
        assert session.exec(select(Suppression)).one().reason == "removed"
    refused = cli("subscribers", "add", "leaver@example.com", "new@example.com")
    assert refused.exit_code == 1 and refused.stdout == "" and refused.stderr.count("\n") == 1
    assert "leaver@example.com is suppressed (removed)" in refused.stderr and "nothing was added" in refused.stderr
    assert "--override-suppression" in refused.stderr
    assert cli("subscribers", "add", "--force", "leaver@example.com").exit_code == 2  # no generic override
    assert [(r["email"], r["status"]) for r in listed(cli)] == [("leaver@example.com", "unsubscribed")]
    forced = cli("subscribers", "add", "--override-suppression", "leaver@example.com")
    assert forced.exit_code == 0 and "subscribed again, suppression lifted: leaver@example.com" in forced.stdout
    assert listed(cli)[0]["status"] == "active"
    with session_scope(engine) as session:
        assert session.exec(select(Suppression)).all() == []


def test_remove_unknown_address_is_a_usage_error(cli) -> None:
    result = cli("subscribers", "remove", "nobody@example.com")
    assert result.exit_code == 2 and "no subscriber" in result.stderr


def test_import_reports_each_kind_and_handles_bom_header_and_names(cli, tmp_path) -> None:
    cli("subscribers", "add", "old@example.com", "gone@example.com")
    cli("subscribers", "remove", "gone@example.com")
    path = tmp_path / "readers.csv"
    path.write_bytes("\ufeffName,Email\nAnn Lee,ann@example.com\n\"Lee, Bo\",BO@example.com\n"
                     "Old,OLD@example.com\nGone,gone@example.com\nAnn again,ANN@example.com\n".encode("utf-8"))
    result = cli("subscribers", "import", str(path), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["added"] == ["ann@example.com", "BO@example.com"]
    assert sorted(report["already_present"]) == ["ANN@example.com", "old@example.com"]  # as written
    assert report["suppressed"] == ["gone@example.com"]
    assert report["invalid"] == [] and report["header"] is True and report["ignored_columns"] == ["Name"]
    statuses = {r["email"]: r["status"] for r in listed(cli)}
    assert statuses == {"old@example.com": "active", "gone@example.com": "unsubscribed",
                        "ann@example.com": "active", "BO@example.com": "active"}


def test_import_with_bad_rows_changes_nothing_and_names_the_lines(cli, tmp_path) -> None:
    cli("subscribers", "add", "keep@example.com")
    path = tmp_path / "mixed.csv"
    path.write_text("email\nfine@example.com\nbroken@\n\nalso fine@example.com\nlast@example.com\n", encoding="utf-8")
    result = cli("subscribers", "import", str(path))
    assert result.exit_code == 2
    assert "2 invalid rows, nothing imported" in result.stderr
    assert "line 3:" in result.stderr and "line 5:" in result.stderr
    assert [r["email"] for r in listed(cli)] == ["keep@example.com"]
    skipped = cli("subscribers", "import", str(path), "--skip-invalid")
    assert skipped.exit_code == 0, skipped.output
    assert skipped.stdout.startswith("imported 2: 2 active;") and "skipped line 3" in skipped.stdout
    assert [r["email"] for r in listed(cli)] == ["keep@example.com", "fine@example.com", "last@example.com"]


def test_import_without_header_with_semicolons_and_cp1252(cli, tmp_path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes("zoë@example.com;Zoë\nyan@example.com;Yan\n".replace("zoë@", "zoe@").encode("cp1252"))
    result = cli("subscribers", "import", str(path), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["added"] == ["zoe@example.com", "yan@example.com"] and report["header"] is False
    assert report["encoding"] == "cp1252"


@pytest.mark.parametrize(("content", "words"), [
    (b"\x7fELF\x02\x01\x01\x00\x00\x00" + bytes(range(256)) * 4, "line 1 holds binary data; this is not a CSV text file"),
    (b"email\nann@example.com\n\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "line 4 holds binary data"),  # \x89PNG\r is line 3, \x1a starts line 4
    (b"name,city\nAnn,Paris\nBob,Rome\n", "no email column: none is headed email and none holds an address"),
    (b"", "the file is empty; there is nothing to import"),
    (b"\n\n  \n", "the file is empty; there is nothing to import"),
])
@pytest.mark.parametrize("skip", [False, True], ids=["strict", "skip-invalid"])
def test_import_refuses_a_file_that_is_not_a_list_of_addresses(cli, tmp_path, content: bytes, words: str,
                                                               skip: bool) -> None:
    cli("subscribers", "add", "keep@example.com")
    path = tmp_path / "readers.csv"
    path.write_bytes(content)
    result = cli("subscribers", "import", str(path), *(["--skip-invalid"] if skip else []))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"error: {path}: {words}") and result.stderr.count("\n") == 1
    assert [r["email"] for r in listed(cli)] == ["keep@example.com"]


def test_a_header_only_file_imports_nothing_without_error(cli, tmp_path) -> None:
    path = tmp_path / "none.csv"
    path.write_text("email,status\n", encoding="utf-8")
    result = cli("subscribers", "import", str(path))
    assert result.exit_code == 0 and result.stdout.startswith("imported 0; skipped 0 suppressed;")


def test_export_with_a_bad_status_writes_nothing(cli) -> None:
    cli("subscribers", "add", "a@example.com")
    result = cli("subscribers", "export", "--status", "bogus")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == ("error: 'bogus' is not a subscriber status "
                             "(one of pending, active, unsubscribed, bounced, complained)\n")


EXPORT_GOLDEN = Path(__file__).with_name("golden") / "subscribers-export.json"


def test_export_prints_what_the_orm_version_printed(cli, home, engine) -> None:
    """`digest subscribers export` (every --status) over each status and source, dates set and
    unset, bounces counted and addresses CSV must quote: the same output, byte for byte, as
    when it read through SQLModel (recorded from that version, on both backends).
    UPDATE_GOLDEN=1 rewrites the file on purpose."""
    from datetime import UTC, datetime

    from delivery_helpers import add_subscribers
    from editorial_support import sql

    add_subscribers(engine, ["ann@example.com", "Bo.Case@Example.com"])
    add_subscribers(engine, ['"comma,quote"@example.com', "new@example.com"], status="pending")
    add_subscribers(engine, ["gone@example.com"], status="unsubscribed")
    add_subscribers(engine, ["bounced@example.com"], status="bounced")
    add_subscribers(engine, ["spam@example.com"], status="complained")
    day = datetime(2026, 2, 3, 4, 5, 6, 789000, tzinfo=UTC)
    sql(home, "UPDATE subscriber SET created_at = ?", day)
    sql(home, "UPDATE subscriber SET confirmed_at = ? WHERE status IN ('active', 'unsubscribed', 'bounced')",
        day.replace(day=4))
    sql(home, "UPDATE subscriber SET unsubscribed_at = ?, source = 'web' WHERE status = 'unsubscribed'",
        day.replace(day=5, microsecond=0))
    sql(home, "UPDATE subscriber SET bounce_count = 3, source = 'import' WHERE status = 'bounced'")
    printed = {}
    for args in ((), *(("--status", status) for status in ("active", "pending", "unsubscribed", "bounced",
                                                            "complained", " Active "))):
        result = cli("subscribers", "export", *args)
        assert result.exit_code == 0, result.output
        printed[" ".join(("subscribers export", *args))] = result.stdout
    if os.environ.get("UPDATE_GOLDEN") == "1":
        EXPORT_GOLDEN.write_text(json.dumps(printed, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    assert printed == json.loads(EXPORT_GOLDEN.read_text(encoding="utf-8"))


def test_export_streams_page_by_page_with_the_same_rows(cli, home, engine, monkeypatch) -> None:
    """The export reads a page of subscribers at a time (bounded memory for a big list): pages
    that end mid-list, on its last row and past it give the same CSV as one page."""
    from delivery_helpers import add_subscribers
    from digest.data import subscriber_list

    add_subscribers(engine, [f"r{i}@example.com" for i in range(7)])
    add_subscribers(engine, ["p1@example.com", "p2@example.com"], status="pending")
    whole = cli("subscribers", "export").stdout
    active = cli("subscribers", "export", "--status", "active").stdout
    assert len(whole.splitlines()) == 10 and len(active.splitlines()) == 8
    for page in (1, 2, 7, 9):
        monkeypatch.setattr(subscriber_list, "_EXPORT_PAGE", page)
        assert cli("subscribers", "export").stdout == whole
        assert cli("subscribers", "export", "--status", "active").stdout == active


def test_import_missing_file(cli, tmp_path) -> None:
    result = cli("subscribers", "import", str(tmp_path / "nope.csv"))
    assert result.exit_code == 2 and "no such file" in result.stderr


def test_export_round_trips_through_import(cli, make_cli, tmp_path) -> None:
    cli("subscribers", "add", "a@example.com", "b@example.com", "c@example.com")
    cli("subscribers", "remove", "b@example.com")
    exported = cli("subscribers", "export")
    assert exported.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert [(r["email"], r["status"]) for r in rows] == [("a@example.com", "active"), ("b@example.com", "unsubscribed"),
                                                         ("c@example.com", "active")]
    active_only = cli("subscribers", "export", "--status", "active")
    path = tmp_path / "export.csv"
    path.write_text(active_only.stdout, encoding="utf-8")
    other = make_cli(tmp_path / "other")
    assert other("init").exit_code == 0
    result = other("subscribers", "import", str(path), "--json")
    assert json.loads(result.stdout)["added"] == ["a@example.com", "c@example.com"]


def test_web_double_opt_in_lifts_a_suppression(cli, engine) -> None:
    cli("subscribers", "add", "back@example.com")
    cli("subscribers", "remove", "back@example.com")
    with session_scope(engine, write=True) as session:
        subscriber = request_subscription(session=session, email="Back@example.com")
        assert subscriber.status == "pending"
        assert session.exec(select(Suppression)).first() is not None  # not lifted before confirming
    with session_scope(engine, write=True) as session:
        confirm_subscriber(session=session, subscriber=get_subscriber(session, "back@example.com"))
    with session_scope(engine) as session:
        assert session.exec(select(Suppression)).all() == []
        assert session.exec(select(Subscriber)).one().status == "active"


def test_the_listing_knows_every_status_in_the_models_order() -> None:
    """`subscribers list` reads without the ORM, so it names the statuses itself: the same
    ones, in the same order (its count line follows it)."""
    from digest.data.subscriber_list import STATUSES
    from digest.models import SubscriberStatus

    assert STATUSES == tuple(s.value for s in SubscriberStatus)


def test_the_suppressed_statuses_are_the_models_leaving_ones() -> None:
    """digest.audience names them without the ORM: unsubscribed, bounced and complained."""
    from digest.audience import SUPPRESSED_STATUSES
    from digest.models import SubscriberStatus

    assert SUPPRESSED_STATUSES == {SubscriberStatus.UNSUBSCRIBED, SubscriberStatus.BOUNCED, SubscriberStatus.COMPLAINED}
