"""`digest issue schedule` prints and stores exactly what it did through the ORM.

It moved from SQLModel onto digest.data (issue 14 §4). The script below schedules, re-schedules
and clears issues, ready and not, and is refused (sent, sending, unknown, bad or past times,
--at with --clear), recording every command's exit code, stdout and stderr (the weekly send
time and "now" masked: they follow the clock) and, at the end, the issues' status and one-off
send times: recorded from the ORM version as tests/golden/schedule_writes.json, on both backends.
UPDATE_GOLDEN=1 rewrites the file on purpose.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from editorial_support import add_tools, review_all, sql

GOLDEN = Path(__file__).with_name("golden") / "schedule_writes.json"
# a date-time that follows the clock (the next weekly send, now); the one-offs are in 2030
_MOVING = re.compile(r"(\b[A-Z][a-z]{2} )?(?!2030)\d{4}-\d\d-\d\d[T ]\d\d:\d\d[^\"\s)]*")

STEPS = (
    ("issue", "schedule", "1"), ("issue", "schedule", "2", "--json"), ("issue", "schedule", "1"),
    ("issue", "schedule", "3", "--at", "2030-01-01T09:00"),
    ("issue", "schedule", "3", "--at", "2030-01-01T09:00+01:00", "--json"),
    ("issue", "schedule", "2", "--at", "2030-02-01 10:30"),
    ("issue", "schedule", "3", "--clear"), ("issue", "schedule", "3", "--clear"),
    ("issue", "schedule", "2", "--clear", "--json"), ("-q", "issue", "schedule", "2"),
    ("issue", "schedule", "4"), ("issue", "schedule", "4", "--clear"), ("issue", "schedule", "5", "--at", "2030-01-01T09:00"),
    ("issue", "schedule", "99"), ("issue", "schedule", "99", "--clear"), ("issue", "schedule", "x"),
    ("issue", "schedule", "1", "--at", "nope"), ("issue", "schedule", "1", "--at", "2020-01-01T00:00"),
    ("issue", "schedule", "1", "--at", "2030-01-01T09:00", "--clear"), ("-q", "issue", "schedule", "1", "--clear"),
)


def test_issue_schedule_prints_and_stores_what_the_orm_version_did(cli, home) -> None:
    add_tools(home)
    for a, b in (("patchwise", "lintern"), ("pixelmuse", "voxly")):
        assert cli("pair", a, b).exit_code == 0
    review_all(cli, 2, "pixelmuse", "voxly", "SSSS", "KKKK")
    for args in (("--subject", "Empty"), ("--subject", "Ready", "--comparison", "2"),
                 ("--subject", "Half", "--comparison", "1"), ("--subject", "Sent"), ("--subject", "Sending")):
        assert cli("issue", "new", *args).exit_code == 0
    sql(home, "UPDATE issue SET status = 'sent' WHERE number = 4")
    sql(home, "UPDATE issue SET status = 'sending' WHERE number = 5")
    printed = []
    for args in STEPS:
        before = {row[0]: str(row[1]) for row in sql(home, "SELECT number, updated_at FROM issue")}
        result = cli(*args)
        after = {row[0]: str(row[1]) for row in sql(home, "SELECT number, updated_at FROM issue")}
        printed.append({"args": " ".join(args), "exit": result.exit_code, "stdout": _MOVING.sub("<now>", result.stdout),
                        "stderr": _MOVING.sub("<now>", result.stderr),
                        "touched": sorted(n for n in after if after[n] != before[n])})
    issues = [[number, status, str(when)[:16] if when else None]
              for number, status, when in sql(home, "SELECT number, status, scheduled_at FROM issue ORDER BY number")]
    recorded = {"steps": printed, "issue": issues}
    golden = json.loads(GOLDEN.read_text(encoding="utf-8")) if GOLDEN.exists() else {}
    if os.environ.get("UPDATE_GOLDEN") == "1":
        golden["issue schedule"] = recorded
        GOLDEN.write_text(json.dumps(golden, indent=1, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
    assert recorded == golden["issue schedule"]


def test_an_issue_going_out_cannot_be_rescheduled_by_the_editor(cli, home) -> None:
    """sending -> scheduled is allowed to the scheduler (queueing failed), not to `issue
    schedule`: it turned an issue that was being sent back into a scheduled one."""
    assert cli("issue", "new", "--subject", "Going out").exit_code == 0
    sql(home, "UPDATE issue SET status = 'sending' WHERE number = 1")
    for args in ((), ("--at", "2030-01-01T09:00")):
        refused = cli("issue", "schedule", "1", *args)
        assert refused.exit_code != 0 and refused.stderr.startswith("error: issue 1 is sending"), refused.stderr
    assert sql(home, "SELECT status, scheduled_at FROM issue WHERE number = 1") == [("sending", None)]
