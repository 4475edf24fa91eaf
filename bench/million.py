#!/usr/bin/env python3
"""A million-reader queue on PostgreSQL: what it weighs and what the queue's queries cost at that size.

    .venv/bin/python bench/million.py [--subscribers 1000000]

In a scratch database on 127.0.0.1:5432 (dropped afterwards): the sample issue and `--subscribers`
active readers, then `queue_issue` (one INSERT … SELECT); prints the time it took, the bytes per
row of the delivery and subscriber tables with their indexes, and the time of the sender's
queries at that size: a claim of 200 at the head of the queue and halfway through (half the
deliveries sent, a new pass starting from the lowest id), the queue state, and one `sent` record.
These are the figures docs/scaling.md builds on.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def timed(label: str, call, repeat: int = 5):  # noqa: ANN001, ANN201
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = call()
        best = min(best, time.perf_counter() - started)
    print(f"{label:<58} {best * 1000:9.1f} ms (best of {repeat})")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", type=int, default=1_000_000)
    parser.add_argument("--postgres-admin", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    for name in [n for n in os.environ if n.startswith("DIGEST_")]:
        del os.environ[name]

    from send import postgres_database
    from sqlalchemy import text

    from digest.config import load_settings
    from digest.db import open_database, session_scope
    from digest.deliveries import DeliveryStore, Job
    from digest.folder import init_folder
    from digest.outbox import queue_issue
    from digest.render import render_to_outbox
    from digest.demo.sample import add_sample_issue, sample_issue_data

    base = Path(tempfile.mkdtemp(prefix="digest-million-"))
    url, drop = postgres_database(args.postgres_admin)
    try:
        home = base / "news"
        home.mkdir()
        (home / "digest.toml").write_text(f'[database]\nurl = "{url}"\n', encoding="utf-8")
        init_folder(home)
        settings = load_settings(home, environ={})
        engine = open_database(settings)
        with session_scope(engine, write=True) as session:
            add_sample_issue(session=session, data=sample_issue_data(comparisons=3, votes=False))
        started = time.perf_counter()
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO subscriber (email, email_key, status, source, bounce_count, created_at, "
                              "confirmed_at) SELECT 'reader' || g || '@example.com', 'reader' || g || '@example.com', "
                              "'active', 'import', 0, now(), now() FROM generate_series(1, :n) g"),
                         {"n": args.subscribers})
        print(f"bench/million.py: {args.subscribers:,} subscribers inserted in {time.perf_counter() - started:.1f} s")
        render_to_outbox(settings=settings, issue_number=1)
        started = time.perf_counter()
        report = queue_issue(engine=engine, settings=settings, number=1, render=False)
        print(f"queue_issue: {report.added:,} deliveries queued in {time.perf_counter() - started:.1f} s")
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE delivery, subscriber"))
            for table in ("delivery", "subscriber"):
                heap, total = conn.execute(text(f"SELECT pg_table_size('{table}'), "
                                                f"pg_total_relation_size('{table}')")).one()
                print(f"table {table}: {heap / 2**20:,.0f} MB heap + {(total - heap) / 2**20:,.0f} MB indexes = "
                      f"{heap / args.subscribers:,.0f} + {(total - heap) / args.subscribers:,.0f} bytes per row")
            issue_id = conn.execute(text("SELECT id FROM issue")).scalar()

        store = DeliveryStore(engine, lease=60)
        store.sending_issues()

        def claim_and_release() -> list[Job]:
            store.new_pass()
            jobs = store.claim(issue_id, 200)
            store.release(jobs)
            return jobs

        timed("claim 200 at the head of the queue (and give them back)", claim_and_release)
        timed("queue state (due / held / waiting), whole queue", store.queue_state, repeat=3)
        with engine.begin() as conn:
            conn.execute(text("UPDATE delivery SET status = 'sent', sent_at = now() WHERE id <= "
                              "(SELECT min(id) + :half FROM delivery)"), {"half": args.subscribers // 2})
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE delivery"))
        jobs = timed("claim 200 halfway (a new pass from the lowest id)", claim_and_release)
        timed("queue state, half the queue sent", store.queue_state, repeat=3)
        job = store.claim(issue_id, 1)[0]
        timed("record one sent (autocommit UPDATE, one round trip)", lambda: store.record_sent(job, "<m@x>"), repeat=20)
        with engine.connect() as conn:
            plan = conn.execute(text("EXPLAIN SELECT id FROM delivery WHERE issue_id = :i AND status = 'queued' "
                                     "AND id > 0 AND (claimed_by IS NULL OR lease_until < now()) "
                                     "ORDER BY id LIMIT 200 FOR UPDATE SKIP LOCKED"), {"i": issue_id}).all()
        print("claim plan: " + " / ".join(row[0].strip() for row in plan[:4]))
        del jobs
        store.close()
        engine.dispose()
        return 0
    finally:
        drop()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
