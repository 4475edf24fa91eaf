"""An issue's record (`outbox/N/issue.json`): written once when it is queued, and the only
source of its web page and archive entry from then on."""

from __future__ import annotations

import logging
import stat

from delivery_helpers import add_subscribers, make_ready_issue, write_parts
from render_helpers import visible_text
from sqlalchemy import text
from webapp import site, smtp_inbox  # noqa: F401

from digest.outbox import queue_issue
from digest.record import RECORD, IssueRecord, read_record, web_page


def _rename_tools(engine, name: str) -> None:  # noqa: ANN001
    with engine.begin() as connection:
        connection.execute(text("UPDATE tool SET name = :name || id, tagline = 'changed later'"), {"name": name})


def test_queueing_writes_the_record_once_and_read_only(engine, settings) -> None:  # noqa: ANN001
    make_ready_issue(engine, settings, number=1, subject="Tools, as sent")
    add_subscribers(engine, ["a@example.org"])
    queue_issue(engine=engine, settings=settings, number=1)
    path = settings.outbox_dir / "1" / RECORD
    assert not path.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    first = path.read_bytes()
    record = read_record(settings, 1)
    assert record.subject == "Tools, as sent" and [c.a.name for c in record.comparisons] == ["Tool 0A"]
    assert IssueRecord.from_json(record.to_json()) == record
    _rename_tools(engine, "Renamed ")
    add_subscribers(engine, ["b@example.org"])
    report = queue_issue(engine=engine, settings=settings, number=1)  # a new reader joined: queued again
    assert report.added == 1 and path.read_bytes() == first


def test_the_page_comes_from_the_record_whatever_the_catalogue_says(engine, settings) -> None:  # noqa: ANN001
    (comparison,) = make_ready_issue(engine, settings, number=1)
    add_subscribers(engine, ["a@example.org"])
    queue_issue(engine=engine, settings=settings, number=1)
    record = read_record(settings, 1)
    page = web_page(record, settings=settings, votes={})
    _rename_tools(engine, "Renamed ")
    assert web_page(read_record(settings, 1), settings=settings, votes={}) == page
    assert "Tool 0A" in visible_text(page) and "Renamed" not in visible_text(page)
    counted = visible_text(web_page(record, settings=settings, votes={comparison: (2, 1)}))
    assert "3 reader votes so far." in counted and "67%" in counted


def test_queueing_parts_as_they_are_still_records_the_issue(engine, settings) -> None:  # noqa: ANN001
    ids = make_ready_issue(engine, settings, number=1)
    write_parts(settings, 1, ids)
    queue_issue(engine=engine, settings=settings, number=1, render=False)
    assert [c.id for c in read_record(settings, 1).comparisons] == ids


def test_a_damaged_record_is_an_error_page_not_the_live_catalogue(site, caplog) -> None:  # noqa: F811
    folder = site.settings.outbox_dir / "1"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / RECORD).write_text('{"format": 1, "issue": 1', encoding="utf-8")
    with caplog.at_level(logging.ERROR), site.client() as client:
        page = client.get("/issues/1")
        assert page.status_code == 500 and "cannot be shown" in page.text
        assert "Traceback" not in page.text and "Writing assistants" not in page.text
        archive = client.get("/issues/")
    assert any("issue.json" in r.getMessage() for r in caplog.records)
    assert archive.status_code == 200 and "Release notes that write themselves" in archive.text
