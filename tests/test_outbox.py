"""Queueing: only ready issues, frozen parts with a manifest, one delivery per active subscriber."""

from __future__ import annotations

import hashlib
import json

import pytest
from sqlmodel import select

from delivery_helpers import add_subscribers, make_ready_issue, write_parts
from digest.db import session_scope
from digest.errors import StateError
from digest.models import Delivery, Issue, IssueComparison, Review
from digest.outbox import insert_deliveries, load_frozen, queue_issue


def deliveries(engine) -> list[Delivery]:
    with session_scope(engine) as session:
        return list(session.exec(select(Delivery).order_by(Delivery.id)))


def test_queue_freezes_parts_and_queues_active_subscribers_only(cli, engine, settings) -> None:
    ids = make_ready_issue(engine, settings, comparisons=3)
    folder = write_parts(settings, 1, ids)
    active = add_subscribers(engine, ["a@example.com", "b@example.com"])
    add_subscribers(engine, ["p@example.com"], status="pending")
    add_subscribers(engine, ["u@example.com"], status="unsubscribed")
    result = cli("issue", "queue", "1", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["added"], report["total"], report["status"]) == (2, 2, "sending")
    assert sorted(d.subscriber_id for d in deliveries(engine)) == sorted(active)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["subject"] == "Patchwise vs Lintern — who ships?"
    assert manifest["comparison_ids"] == ids
    for part in ("email.html", "email.txt"):
        frozen = folder / manifest["parts"][part]["path"]
        assert frozen.parent.name == "frozen" and frozen.stat().st_mode & 0o222 == 0  # read-only copies
        assert manifest["parts"][part]["sha256"] == hashlib.sha256(frozen.read_bytes()).hexdigest()
        template = folder / part.replace("email.", "email.template.")
        assert frozen.read_bytes() == template.read_bytes()  # rendered afresh, then frozen
        assert "__digest_" not in (folder / part).read_text()  # the sample reader's copy beside it
    assert "Tool 0A" in (folder / "frozen" / "email.txt").read_text()  # the issue's own content
    assert manifest["counts"]["deliveries"] == 2 and manifest["counts"]["comparisons"] == 3
    assert "rendered_at" in manifest and "vote_%d_b" % ids[2] in manifest["placeholders"]
    with session_scope(engine) as session:
        issue = session.exec(select(Issue)).one()
        assert issue.status == "sending" and issue.queued_at is not None


def test_queue_twice_adds_no_twins_and_picks_up_new_subscribers(cli, engine, settings) -> None:
    write_parts(settings, 1, make_ready_issue(engine, settings))
    add_subscribers(engine, ["a@example.com", "b@example.com"])
    assert cli("issue", "queue", "1").exit_code == 0
    again = cli("issue", "queue", "1", "--json")
    assert json.loads(again.stdout)["added"] == 0
    add_subscribers(engine, ["c@example.com"])
    third = json.loads(cli("issue", "queue", "1", "--json").stdout)
    assert (third["added"], third["total"]) == (1, 3)
    pairs = [(d.issue_id, d.subscriber_id) for d in deliveries(engine)]
    assert len(pairs) == len(set(pairs)) == 3


def test_the_unique_constraint_not_a_check_prevents_twins(engine, settings) -> None:
    make_ready_issue(engine, settings)
    add_subscribers(engine, ["a@example.com", "b@example.com"])
    with session_scope(engine, write=True) as session:
        issue_id = session.exec(select(Issue)).one().id
        assert insert_deliveries(session, issue_id) == 2
        assert insert_deliveries(session, issue_id) == 0
    assert len(deliveries(engine)) == 2


def test_an_issue_without_comparisons_is_not_ready(cli, engine, settings) -> None:
    with session_scope(engine, write=True) as session:
        session.add(Issue(number=1, subject="Empty"))
    result = cli("issue", "queue", "1")
    assert result.exit_code == 1 and "not ready" in result.stderr and "no comparisons" in result.stderr
    assert deliveries(engine) == []


def test_a_missing_review_is_named(cli, engine, settings) -> None:
    make_ready_issue(engine, settings)
    with session_scope(engine, write=True) as session:
        review = session.exec(select(Review).where(Review.reviewer == "skeptic")).first()
        session.delete(review)
    result = cli("issue", "queue", "1")
    assert result.exit_code == 1 and "skeptic has not reviewed" in result.stderr
    with session_scope(engine) as session:
        assert session.exec(select(Issue)).one().status == "draft"


def test_unrendered_issue_and_unknown_issue(cli, engine, settings) -> None:
    make_ready_issue(engine, settings)
    add_subscribers(engine, ["a@example.com"])
    result = cli("issue", "queue", "1", "--no-render")
    assert result.exit_code == 1 and "has not been rendered" in result.stderr
    assert deliveries(engine) == []
    assert cli("issue", "queue", "7").exit_code == 2
    bad = cli("issue", "queue", "seven")
    assert bad.exit_code == 2 and "Traceback" not in bad.output


def test_frozen_parts_outlive_a_later_render_and_tampering_is_refused(cli, engine, settings) -> None:
    make_ready_issue(engine, settings)
    assert cli("issue", "queue", "1").exit_code == 0
    folder = settings.outbox_dir / "1"
    frozen_html = (folder / "frozen" / "email.html").read_bytes()
    with session_scope(engine, write=True) as session:  # what a later render would pick up
        session.exec(select(Issue)).one().intro = "An intro written after queueing."
    assert cli("issue", "render", "1").exit_code == 0
    assert cli("issue", "queue", "1").exit_code == 0  # the preview changed, the frozen parts did not
    assert b"written after queueing" in (folder / "email.template.html").read_bytes()
    assert (folder / "frozen" / "email.html").read_bytes() == frozen_html == load_frozen(settings, 1).html.encode()
    tampered = folder / "frozen" / "email.html"
    tampered.chmod(0o644)
    tampered.write_bytes(frozen_html.replace(b"Pair 0", b"Pear 0"))
    result = cli("issue", "queue", "1")
    assert result.exit_code == 1 and "changed after issue 1 was queued" in result.stderr
    with pytest.raises(StateError):
        load_frozen(settings, 1)


def test_hand_edited_parts_are_frozen_as_they_are_with_no_render(cli, engine, settings) -> None:
    folder = write_parts(settings, 1, make_ready_issue(engine, settings))
    edited = (folder / "email.template.html").read_text().replace("here is the verdict", "here is the hand-tuned verdict")
    (folder / "email.template.html").write_text(edited, encoding="utf-8")
    result = cli("issue", "queue", "1", "--no-render", "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)["rendered"] is False
    assert "hand-tuned verdict" in load_frozen(settings, 1).html


def test_parts_with_a_vote_link_for_another_issue_are_refused(cli, engine, settings) -> None:
    ids = make_ready_issue(engine, settings)
    write_parts(settings, 1, ids + [999])
    result = cli("issue", "queue", "1", "--no-render")
    assert result.exit_code == 1 and "vote_999_a" in result.stderr


def test_queue_of_a_sent_issue_only_adds_new_readers(engine, settings) -> None:
    write_parts(settings, 1, make_ready_issue(engine, settings))
    add_subscribers(engine, ["a@example.com"])
    queue_issue(engine=engine, settings=settings, number=1)
    with session_scope(engine, write=True) as session:
        issue = session.exec(select(Issue)).one()
        issue.status = "sent"
        session.add(issue)
    assert queue_issue(engine=engine, settings=settings, number=1).status == "sent"
    add_subscribers(engine, ["late@example.com"])
    report = queue_issue(engine=engine, settings=settings, number=1)
    assert (report.added, report.status) == (1, "sending")
    with session_scope(engine) as session:
        assert len(session.exec(select(IssueComparison)).all()) == 1


def test_a_hand_edited_text_part_without_the_unsubscribe_link_is_refused(cli, engine, settings) -> None:
    """Every mailed part lets the reader leave: the HTML part's link does not cover the text part."""
    folder = write_parts(settings, 1, make_ready_issue(engine, settings))
    text = folder / "email.template.txt"
    text.write_text("\n".join(line for line in text.read_text().splitlines() if "unsubscribe" not in line) + "\n",
                    encoding="utf-8")
    result = cli("issue", "queue", "1", "--no-render")
    assert result.exit_code == 1 and "email.template.txt has no unsubscribe link" in result.stderr
    assert not (folder / "manifest.json").exists() and deliveries(engine) == []
