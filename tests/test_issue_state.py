"""An issue's status moves only along draft -> scheduled -> sending -> sent, one mover at a time."""

from __future__ import annotations

import threading

import pytest

from digest import issue_state
from digest.db import write_engine
from digest.errors import StateError
from digest.scheduler import sendable
from scheduler_support import issue_state as stored, make_issue


@pytest.mark.parametrize(("status", "target"), [("sent", "draft"), ("sent", "scheduled"), ("sending", "draft"),
                                                ("draft", "sent"), ("scheduled", "sent")])
def test_a_move_the_life_does_not_have_is_refused_and_changes_nothing(engine, settings, status, target) -> None:
    make_issue(engine, settings, number=1, status=status, rendered=False)
    with pytest.raises(StateError, match=f"issue 1 cannot go from {status} to {target}"):
        issue_state.move(engine, 1, source=status, target=target)
    assert stored(engine, 1).status == status


def test_every_status_can_be_reached_and_left_only_as_the_table_says() -> None:
    statuses = {"draft", "scheduled", "sending", "sent"}
    assert {end for pair in issue_state.TRANSITIONS for end in pair} == statuses
    assert not any(source == "sent" and target != "sending" for source, target in issue_state.TRANSITIONS)
    assert issue_state.GONE_OUT == {"sending", "sent"}


def test_of_two_concurrent_movers_one_wins_and_the_other_gets_false(engine, settings) -> None:
    make_issue(engine, settings, number=1, status="scheduled", rendered=False)
    results: list[bool] = []
    with write_engine(engine).connect() as first:
        with first.begin():
            assert issue_state.move(first, 1, source="scheduled", target="sending")
            # the second mover starts while the first has not committed: it waits for the row, then finds it moved
            second = threading.Thread(target=lambda: results.append(
                issue_state.move(engine, 1, source="scheduled", target="sending")))
            second.start()
        second.join(timeout=60)
    assert results == [False]
    assert stored(engine, 1).status == "sending"


def test_a_lost_move_leaves_the_winners_values(engine, settings) -> None:
    make_issue(engine, settings, number=1, status="scheduled", rendered=False)
    assert sendable.start_sending(engine, 1, now=stored(engine, 1).created_at)
    assert not sendable.start_sending(engine, 1, now=stored(engine, 1).created_at)
    assert not sendable.back_to_draft(engine, 1, scheduled_at=None)
    assert stored(engine, 1).status == "sending"


def test_clearing_a_schedule_never_undoes_a_send_that_started_meanwhile(engine, settings) -> None:
    """The editor's `schedule --clear` read the issue as scheduled; the scheduler started sending
    it before the clear was written. The clear is refused instead of turning a sending issue into
    a draft (the compare-and-set in digest.scheduler.booking, on digest.data)."""
    from digest.data.engine import connect
    from digest.scheduler.booking import unschedule_issue

    make_issue(engine, settings, number=1, status="scheduled", rendered=False)
    seen = {"id": stored(engine, 1).id, "number": 1, "status": "scheduled"}  # read as scheduled
    assert sendable.start_sending(engine, 1, now=stored(engine, 1).created_at)
    with connect(settings) as db, pytest.raises(StateError, match="changed"), db.transaction(write=True):
        unschedule_issue(db, seen)
    assert stored(engine, 1).status == "sending"
