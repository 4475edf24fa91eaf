"""Sender fleets on PostgreSQL for bench/send.py: 1, 2 and 4 `digest send` processes, one queue.

For each fleet size the same `deliveries` are queued afresh (every delivery back to queued, the
issue back to sending, VACUUM ANALYZE), the processes are started together against the one
discarding sink (its own process), and the rate is taken at the sink in the steady state: the
time from the 10% to the 90% mark of the messages received, so neither process start-up
(imports, ~0.5 s each, staggered when several start on two cores) nor the tail (the last
batches) counts; the wall rate from spawn to the last exit is printed beside it. Each fleet must deliver every delivery once:
the sink's count must equal the deliveries and the senders' `sent` must add up to them.

`profile_sender` runs one sender in this process with a cProfile per thread (cProfile sees only
the thread that enables it) and sums the threads: where a sender's wall time goes.
"""

from __future__ import annotations

import cProfile
import json
import os
import pstats
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class FleetRun:
    processes: int
    delivered: int
    sink_rate: float
    wall_rate: float
    sent_by: list[int]
    wal_per_message: float = 0.0
    commits_per_message: float = 0.0


def server_counters(engine) -> tuple[int, int]:
    """(WAL position in bytes, commits in this database so far): what a fleet cost PostgreSQL."""
    from sqlalchemy import text

    with engine.connect() as conn:
        wal = conn.execute(text("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn")).scalar()
        commits = conn.execute(text("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")).scalar()
    return int(wal), int(commits)


def table_figures(engine) -> dict[str, float]:
    """Bytes per row (heap, indexes, TOAST) of the delivery and subscriber tables."""
    from sqlalchemy import text

    figures = {}
    with engine.connect() as conn:
        conn.execute(text("ANALYZE delivery, subscriber"))
        for table in ("delivery", "subscriber"):
            rows = conn.execute(text(f"SELECT count(*) FROM {table}")).scalar()
            heap, total = conn.execute(text(f"SELECT pg_table_size('{table}'), pg_total_relation_size('{table}')")).one()
            figures[table] = (heap / rows, (total - heap) / rows, rows)
    return figures


def sink_count(sink: subprocess.Popen) -> int:
    sink.stdin.write("count\n")
    sink.stdin.flush()
    line = sink.stdout.readline()
    if not line.startswith("COUNT "):
        raise SystemExit(f"the sink said {line!r}")
    return int(line.split()[1])


def requeue(engine) -> None:
    """Every delivery queued again, the issue sending again: the next fleet starts from the same queue."""
    from sqlalchemy import text

    with engine.begin() as conn:
        conn.execute(text("UPDATE delivery SET status = 'queued', attempts = 0, sent_at = NULL, message_id = NULL, "
                          "claimed_by = NULL, lease_until = NULL, next_attempt_at = NULL"))
        conn.execute(text("UPDATE issue SET status = 'sending', sent_at = NULL"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE delivery"))


def run_fleet(home: Path, engine, sink: subprocess.Popen, port: int, processes: int, deliveries: int,
              workers: int) -> FleetRun:
    requeue(engine)
    before = sink_count(sink)
    wal, commits = server_counters(engine)
    env = {**os.environ, "DIGEST_SMTP_URL": f"smtp://127.0.0.1:{port}"}
    command = [sys.executable, "-m", "digest", "--home", str(home), "send", "--workers", str(workers), "--json"]
    spawned = time.perf_counter()
    fleet = [subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(processes)]
    marks: dict[float, float] = {}  # share of the deliveries received -> when
    received = 0
    while received < deliveries and any(p.poll() is None for p in fleet):
        received = sink_count(sink) - before
        now = time.perf_counter()
        for share in (0.1, 0.9):
            if received >= share * deliveries and share not in marks:
                marks[share] = now
        time.sleep(0.01)
    outputs = [p.communicate(timeout=600) for p in fleet]
    ended = time.perf_counter()
    received = sink_count(sink) - before
    for process, (_out, err) in zip(fleet, outputs):
        if process.returncode != 0:
            raise SystemExit(f"a sender failed: {err.strip()}")
    sent_by = [json.loads(out)["sent"] for out, _err in outputs]
    if received != deliveries or sum(sent_by) != deliveries:
        raise SystemExit(f"{processes} process(es): {received} messages received and {sum(sent_by)} recorded sent "
                         f"for {deliveries} deliveries")
    span = (marks[0.9] - marks[0.1]) / 0.8 if len(marks) == 2 and marks[0.9] > marks[0.1] else ended - spawned
    wal_after, commits_after = server_counters(engine)
    return FleetRun(processes, received, deliveries / span, deliveries / (ended - spawned), sent_by,
                    (wal_after - wal) / deliveries, (commits_after - commits) / deliveries)


def measure_fleets(home: Path, engine, sink: subprocess.Popen, port: int, *, deliveries: int, workers: int,
                   sizes: tuple[int, ...] = (1, 2, 4), rounds: int = 5) -> list[FleetRun]:
    """Each fleet size `rounds` times, interleaved (1, 2, 4, 1, 2, 4, ...), keeping each size's best
    round: other work on a shared machine only ever slows a round down, so the best is the least
    disturbed, and interleaving spreads a busy spell over all sizes alike."""
    best: dict[int, FleetRun] = {}
    for round_ in range(rounds):
        for size in sizes:
            run = run_fleet(home, engine, sink, port, size, deliveries, workers)
            print(f"  round {round_ + 1}, {size} process{'es' if size > 1 else ''}: {run.sink_rate:7,.0f} messages/s "
                  f"at the sink, sent per process {run.sent_by}, received {run.delivered:,} = deliveries; "
                  f"{run.commits_per_message:.2f} commits, {run.wal_per_message:,.0f} WAL bytes per message")
            if size not in best or run.sink_rate > best[size].sink_rate:
                best[size] = run
    runs = [best[size] for size in sizes]
    for run in runs:
        print(f"fleet, {run.processes} process{'es' if run.processes > 1 else '  '} x {workers} connections: "
              f"{run.sink_rate:7,.0f} messages/s at the sink (10-90%), best of {rounds} ({run.wall_rate:,.0f}/s from spawn to "
              f"exit); {run.sink_rate / runs[0].sink_rate:4.2f}x of 1 process")
    for table, (heap, indexes, rows) in table_figures(engine).items():
        print(f"table {table}: {rows:,} rows, {heap:,.0f} bytes per row in the heap + {indexes:,.0f} in its indexes")
    return runs


# --- profile ------------------------------------------------------------------------------------

def profile_sender(settings, engine, *, workers: int, limit: int, top: int = 14) -> None:
    """One sender in this process, each thread under its own cProfile; prints where the time goes."""
    from digest import sender as sender_module

    requeue(engine)
    profiles: list[cProfile.Profile] = []
    lock = threading.Lock()
    original = sender_module._Pool._work

    def profiled(self, transport):  # noqa: ANN001, ANN202
        profile = cProfile.Profile()
        with lock:
            profiles.append(profile)
        profile.enable()
        try:
            return original(self, transport)
        finally:
            profile.disable()

    sender_module._Pool._work = profiled
    main = cProfile.Profile()
    profiles.append(main)
    stop = threading.Event()

    class Stop:
        done = 0

        def start(self, total: int) -> None:
            return None

        def advance(self, outcome: str) -> None:
            Stop.done += 1
            if Stop.done >= limit:
                stop.set()

    try:
        cpu, wall = time.process_time(), time.perf_counter()
        main.enable()
        report = sender_module.send_queued(settings=settings, engine=engine, workers=workers, rate=0, stop=stop,
                                           progress=Stop(), wait=False)
        main.disable()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    finally:
        sender_module._Pool._work = original
    workers_only = [p for p in profiles if p is not main]
    stats = pstats.Stats(workers_only[0])
    for profile in workers_only[1:]:
        stats.add(profile)
    claimer = pstats.Stats(main)
    print(f"profile: one sender, {workers} connections, {report.sent:,} messages in {wall:.2f} s "
          f"({report.sent / wall:,.0f}/s); CPU {cpu:.2f} s = {cpu / wall:.0%} of one core "
          f"(every thread of this process, the claimer and the heartbeat included)")
    summarise(stats, wall=wall, threads=workers, sent=report.sent)
    print(f"  the main thread (claims batches, hands them out): {claimer.total_tt:.2f} s of {wall:.2f} s, mostly "
          f"blocked handing jobs to busy workers")
    print(f"  top {top} functions by own time, worker threads summed:")
    rows = sorted(stats.stats.items(), key=lambda item: item[1][2], reverse=True)[:top]
    for (filename, line, name), (_cc, calls, own, _cum, _callers) in rows:
        where = f"{Path(filename).name}:{line}" if line else filename
        print(f"    {own:7.2f} s {calls:9,} calls  {name} ({where})")


GROUPS = (  # (label, predicate on (filename, name)), first match wins
    ("waiting for the SMTP server's reply (socket recv)", lambda f, n: "recv" in n or "readline" in n),
    ("writing to the SMTP socket (sendall)", lambda f, n: "sendall" in n or n == "<method 'send' of '_socket.socket' objects>"),
    ("PostgreSQL round trips (psycopg execute/commit)", lambda f, n: "psycopg" in f or "pgconn" in n.lower()
     or "PGconn" in n or "wait_c" in n or "Waiting" in n),
    ("waiting for work or the bucket (queue get, locks)", lambda f, n: "acquire" in n or "wait" in n and "threading" in f),
    ("building the message (composer, links, tokens)", lambda f, n: any(k in f for k in ("composer", "message.py", "links", "tokens"))),
)


def summarise(stats: pstats.Stats, *, wall: float, threads: int, sent: int) -> None:
    """Own time grouped by what the thread was doing, as a share of the workers' wall time."""
    totals = {label: 0.0 for label, _ in GROUPS}
    other = 0.0
    for (filename, _line, name), (_cc, _calls, own, _cum, _callers) in stats.stats.items():
        for label, matches in GROUPS:
            if matches(filename, name):
                totals[label] += own
                break
        else:
            other += own
    budget = wall * threads
    print(f"  per message, summed over the {threads} worker thread(s) ({budget * 1000 / max(sent, 1):.2f} ms of "
          f"worker time each):")
    for label, seconds in [*totals.items(), ("everything else (SQLAlchemy, smtplib, the loop)", other)]:
        print(f"    {seconds * 1e3 / max(sent, 1):6.3f} ms  {label}")
