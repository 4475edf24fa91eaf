"""An issue's life: draft -> scheduled -> sending -> sent, and the one way its status changes.

Every status write goes through `move`: a compare-and-set (`UPDATE issue ... WHERE number = N
AND status = <expected>`) checked against `TRANSITIONS` first. A move the table does not list
raises StateError before touching the database (a bug in the caller, not a race); a move whose
expected status is no longer there (another process moved the issue first) changes nothing and
returns False, so of two schedulers or senders exactly one moves an issue on.

`GONE_OUT` is the one answer to "has this issue gone out to readers": it can no longer be
edited, and its vote links count.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from digest.data.issue_list import STATUSES
from digest.errors import StateError

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

    from digest.data.engine import Database

# digest.models.IssueStatus's values (a test keeps STATUSES equal to them), without importing
# the models: the read paths that skip the ORM ask what has gone out too
DRAFT, SCHEDULED, SENDING, SENT = STATUSES

# (from, to): why an issue makes that move. Anything else is refused.
TRANSITIONS: dict[tuple[str, str], str] = {
    (DRAFT, SCHEDULED): "`digest issue schedule`",
    (SCHEDULED, SCHEDULED): "`digest issue schedule` again: a new send time",
    (SCHEDULED, DRAFT): "`digest issue schedule --clear`, or a one-off send that could not go out",
    (DRAFT, SENDING): "`digest issue queue`",
    (SCHEDULED, SENDING): "`digest issue queue`, or the scheduler's send",
    (SENDING, SCHEDULED): "the scheduler's queueing failed before any delivery was made",
    (SENDING, SENT): "its last queued delivery was settled",
    (SENT, SENDING): "queued again for the subscribers who joined since",
}

GONE_OUT = frozenset({SENDING, SENT})


def require_editable(number: int, status: str) -> None:
    """StateError when issue `number` has gone out: what readers received is the record, so a
    sending or sent issue's fields and comparisons cannot change."""
    if status in GONE_OUT:
        raise StateError(f"issue {number} is {status}; a sending or sent issue cannot be changed",
                         hint="start a new issue with `digest issue new`")


def allowed(source: str, target: str) -> bool:
    return (source, target) in TRANSITIONS


def check(number: int, source: str, target: str) -> None:
    """StateError unless an issue may go from `source` to `target`."""
    if not allowed(source, target):
        can = sorted(to for (start, to) in TRANSITIONS if start == source)
        raise StateError(f"issue {number} cannot go from {source} to {target}",
                         hint=f"a {source} issue can become: {', '.join(can) or 'nothing else'}")


def move(bind: Connection | Engine, number: int, *, source: str, target: str, when: tuple = (),
         **values: Any) -> bool:
    """Move issue `number` from `source` to `target`; True for the one caller whose move happened.

    `when` adds conditions the row must also meet (SQL expressions on the issue table), `values`
    further columns to set. On a Connection (a Session's `connection()`) the move joins the
    caller's transaction; on an Engine it commits on its own (SQLite's write lock taken at BEGIN).
    StateError for a move `TRANSITIONS` does not list; False when the issue is not (or no longer)
    `source`, or fails `when`.
    """
    from sqlalchemy.engine import Engine

    from digest.data.issues import set_status
    from digest.db import write_engine
    from digest.models import utcnow

    check(number, source, target)
    values.setdefault("updated_at", utcnow())
    if isinstance(bind, Engine):
        with write_engine(bind).begin() as connection:
            return set_status(connection, number, source=source, target=target, when=when, values=values)
    return set_status(bind, number, source=source, target=target, when=when, values=values)


def move_in(db: Database, number: int, *, source: str, target: str, **values: Any) -> bool:
    """`move` inside a `digest.data` transaction (the commands that skip the ORM): the same
    check against `TRANSITIONS` and the same compare-and-set, through `digest.data.issue_edits`."""
    from datetime import UTC, datetime

    from digest.data.issue_edits import move_status

    check(number, source, target)
    values.setdefault("updated_at", datetime.now(UTC))
    return move_status(db, number, source=source, target=target, values=values)
