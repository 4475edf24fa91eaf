"""`digest subscribers add` and `remove` print and store exactly what they did through the ORM.

They moved from SQLModel onto digest.data (issue 14 §4). The script below runs one command
after another on a real database, success and refusal alike (invalid and suppressed
addresses, unknown subscribers, the override), and records every command's exit code, stdout
and stderr and, at the end, the subscriber and suppression rows (timestamps only as set or
not): recorded from the ORM version as tests/golden/audience_writes.json, on both backends.
UPDATE_GOLDEN=1 rewrites the file on purpose.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from editorial_support import sql

GOLDEN = Path(__file__).with_name("golden") / "audience_writes.json"
_STAMP = re.compile(r'"(created_at|confirmed_at|unsubscribed_at)": "[^"]*"')

STEPS = (
    ("subscribers", "add", "ann@example.com", "Bob@Example.org", "ann@EXAMPLE.com"),
    ("subscribers", "add", "--pending", "pen@example.com", "pat@example.com"),
    ("subscribers", "add", "pen@example.com", "ann@example.com", "new@example.com"),
    ("subscribers", "add", "--pending", "pat@example.com", "--json"),
    ("-q", "subscribers", "add", "quiet@example.com"),
    ("subscribers", "add", "not-an-address"), ("subscribers", "add", " "),
    ("subscribers", "add", "ok@example.com", "bad@@example.com"), ("subscribers", "add", "jörg@example.com"),
    ("subscribers", "remove", "bob@example.org"), ("subscribers", "remove", "BOB@example.org"),
    ("subscribers", "remove", "pat@example.com", "--json"), ("-q", "subscribers", "remove", "quiet@example.com"),
    ("subscribers", "remove", "nobody@example.com"), ("subscribers", "remove", " "),
    ("subscribers", "add", "bob@example.org"), ("subscribers", "add", "new2@example.com", "bob@example.org"),
    ("subscribers", "add", "bob@example.org", "pat@example.com", "quiet@example.com"),
    ("subscribers", "add", "ghost@example.com"), ("subscribers", "add", "bounced@example.com"),
    ("subscribers", "add", "--override-suppression", "bob@example.org", "ghost@example.com", "fresh@example.com"),
    ("subscribers", "add", "--override-suppression", "--pending", "bounced@example.com", "--json"),
    ("subscribers", "add", "--override-suppression", "ann@example.com"),
    ("subscribers", "add", "--json", "bob@example.org", "ann@example.com"),
)


def _rows(home: Path) -> dict:
    subscribers = sql(home, "SELECT id, email, email_key, status, source, confirmed_at IS NOT NULL, "
                            "unsubscribed_at IS NOT NULL, bounce_count, last_bounce FROM subscriber ORDER BY id")
    suppressions = sql(home, "SELECT email_key, reason FROM suppression ORDER BY email_key")
    return {"subscriber": [[*row[:5], bool(row[5]), bool(row[6]), *row[7:]] for row in subscribers],
            "suppression": [list(row) for row in suppressions]}


def test_subscribers_add_and_remove_print_and_store_what_the_orm_version_did(cli, home) -> None:
    assert cli("subscribers", "add", "bounced@example.com").exit_code == 0
    sql(home, "UPDATE subscriber SET status = 'bounced', bounce_count = 3, last_bounce = '550 gone' "
              "WHERE email_key = 'bounced@example.com'")
    sql(home, "INSERT INTO suppression (email_key, reason, created_at) VALUES "
              "('ghost@example.com', 'unsubscribed', '2026-01-01 00:00:00.000000')")
    printed = []
    for args in STEPS:
        result = cli(*args)
        printed.append({"args": " ".join(args), "exit": result.exit_code,
                        "stdout": _STAMP.sub(r'"\1": "..."', result.stdout), "stderr": result.stderr})
    recorded = {"steps": printed, **_rows(home)}
    golden = json.loads(GOLDEN.read_text(encoding="utf-8")) if GOLDEN.exists() else {}
    if os.environ.get("UPDATE_GOLDEN") == "1":
        golden["subscribers add and remove"] = recorded
        GOLDEN.write_text(json.dumps(golden, indent=1, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
    assert recorded == golden["subscribers add and remove"]
