#!/usr/bin/env python3
"""Benchmark: queueing, message assembly and SMTP delivery against plain smtplib, same run.

    .venv/bin/python bench/send.py [--deliver 2000] [--database sqlite|postgresql]

(--queue, --assembly and --dkim shrink the first two measurements for a smoke run, as
tests/test_bench_scripts.py does; the targets are for the default sizes.)

What it does, all on loopback:
* queueing: a newsletter folder with 100,000 active subscribers and a ready three-comparison
  issue, rendered beforehand; times `queue_issue` (freeze the parts, one INSERT ... SELECT of
  100,000 deliveries);
* assembly: builds 20,000 personalised messages from the frozen ~100 KB issue (two signed
  tokens, the vote, unsubscribe and web links, every header) on one core, no SMTP, best of
  three rounds, as messages per CPU second (and per wall second); then DKIM-signed assembly
  (rsa-sha256, 2048-bit key) over 300 messages a round;
* delivery: a folder with 20,000 subscribers queued; an aiosmtpd sink that discards, in its
  own process (python -m digest.smtpsink --discard) so it does not share our GIL; times
  `send_queued` with 1 and 4 connections over the first `--deliver` deliveries each, and,
  interleaved in the same run, plain smtplib sending the same bytes to the same sink over the
  same number of connections (a thread per connection, `sendmail` in a loop). Prints the ratio;
* peak RSS of this process (ru_maxrss) and of the sink.

The issue is the bundled sample issue (`digest.demo.sample`: three comparisons, four reviewers,
long quotes) rendered by the render stage, as `digest issue queue` renders it. Targets (issue 5): queue 100,000
in <= 5 s; assembly >= 20,000 messages/s; delivery >= 70% of the raw smtplib rate; peak RSS
<= 300 MB. Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import smtplib
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGETS = {"queue": 5.0, "assembly": 20_000.0, "ratio": 0.70, "rss_mb": 300.0, "fleet2": 1.3, "fleet4": 0.95}


# --- the issue ----------------------------------------------------------------------------------

def make_folder(base: Path, name: str, subscribers: int, database: str) -> tuple[object, object]:
    """An initialised folder with the sample three-comparison issue 1 (ready) and `subscribers`
    active subscribers; the issue is rendered by `queue_issue`, as `digest issue queue` does."""
    from digest.config import load_settings
    from digest.db import open_database, session_scope
    from digest.folder import init_folder
    from digest.models import Subscriber
    from digest.demo.sample import add_sample_issue, sample_issue_data

    home = base / name
    home.mkdir(parents=True)
    # A sandbox: sample readers on a loopback relay, so `digest send` (bench/fleet.py) is not refused.
    section = f'[database]\nurl = "{database}"\n' if database != "sqlite" else ""
    (home / "digest.toml").write_text("sandbox = true\n" + section, encoding="utf-8")
    init_folder(home)
    settings = load_settings(home, environ={})
    engine = open_database(settings)
    with session_scope(engine, write=True) as session:
        add_sample_issue(session=session, data=sample_issue_data(comparisons=3, votes=False))
    now = datetime.now(UTC)
    table = Subscriber.__table__
    with engine.begin() as conn:
        for start in range(0, subscribers, 20_000):
            conn.execute(table.insert(), [{"email": f"reader{i}@example.com", "email_key": f"reader{i}@example.com",
                                           "status": "active", "source": "import", "bounce_count": 0,
                                           "created_at": now, "confirmed_at": now}
                                          for i in range(start, min(subscribers, start + 20_000))])
    return settings, engine


# --- measurements -------------------------------------------------------------------------------

def measure_queue(base: Path, database: str, subscribers: int) -> float:
    from digest.outbox import queue_issue

    settings, engine = make_folder(base, "queue", subscribers, database)
    # rendered first and apart (bench/render.py times it): queueing is the freeze and the INSERT
    from digest.render import render_to_outbox

    render_to_outbox(settings=settings, issue_number=1)
    started = time.perf_counter()
    report = queue_issue(engine=engine, settings=settings, number=1, render=False)
    elapsed = time.perf_counter() - started
    if report.added != subscribers:
        raise SystemExit(f"queued {report.added}, expected {subscribers}")
    engine.dispose()
    return elapsed


def measure_assembly(settings, count: int, *, dkim: bool) -> tuple[float, int]:
    from digest.message import DkimSigner
    from digest.outbox import load_frozen
    from digest.composer import Composer, make_signer

    signer = None
    if dkim:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption())
        signer = DkimSigner(domain="digest.invalid", selector="bench", private_key=pem)
    composer = Composer(settings=settings, parts=load_frozen(settings, 1), signer=make_signer(settings), dkim=signer)
    size = 0
    best_cpu = best_wall = 0.0
    for round_ in range(3):  # best of three: other processes on the machine only ever slow a round down
        started, cpu = time.perf_counter(), time.process_time()
        for n in range(round_ * count + 1, (round_ + 1) * count + 1):
            raw = composer.compose(subscriber_id=n, email=f"reader{n}@example.com", message_id=composer.message_id(n))
            size = len(raw)
        # one thread does the work: CPU time is its time on one core
        best_cpu = max(best_cpu, count / (time.process_time() - cpu))
        best_wall = max(best_wall, count / (time.perf_counter() - started))
    return best_cpu, best_wall, size


class _StopAfter:
    """A Progress that stops the run after `limit` settled deliveries."""

    def __init__(self, limit: int, stop: threading.Event) -> None:
        self.limit, self.stop, self.done = limit, stop, 0
        self.lock = threading.Lock()

    def start(self, total: int) -> None:
        return None

    def advance(self, outcome: str) -> None:
        with self.lock:
            self.done += 1
            if self.done >= self.limit:
                self.stop.set()


def measure_ours(settings, engine, workers: int, count: int) -> float:
    from digest.sender import send_queued

    stop = threading.Event()
    progress = _StopAfter(count, stop)
    started = time.perf_counter()
    report = send_queued(settings=settings, engine=engine, workers=workers, rate=0, stop=stop, progress=progress,
                         wait=False)
    elapsed = time.perf_counter() - started
    if report.failed:
        raise SystemExit(f"{report.failed} deliveries failed")
    return report.sent / elapsed


def measure_raw(port: int, message: bytes, workers: int, count: int) -> float:
    per = count // workers

    def loop() -> None:
        client = smtplib.SMTP("127.0.0.1", port)
        for n in range(per):
            client.sendmail("verdicts@digest.invalid", [f"reader{n}@example.com"], message)
        client.quit()

    threads = [threading.Thread(target=loop) for _ in range(workers)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return per * workers / (time.perf_counter() - started)


def start_sink(*options: str) -> tuple[subprocess.Popen, int]:
    sink = subprocess.Popen([sys.executable, "-m", "digest.smtpsink", "--discard", *options], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, cwd=ROOT)
    line = sink.stdout.readline()
    if not line.startswith("PORT "):
        raise SystemExit("the sink did not start")
    return sink, int(line.split()[1])


def sink_rss_mb(sink: subprocess.Popen) -> float:
    try:
        with open(f"/proc/{sink.pid}/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def postgres_database(admin_url: str) -> tuple[str, object]:
    import psycopg

    name = f"digest_bench_{os.getpid()}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")

    def drop() -> None:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    netloc = admin_url.split("://", 1)[1].rsplit("/", 1)[0]
    return f"postgresql+psycopg://{netloc}/{name}", drop


def fleets(base: Path, url: str, args: argparse.Namespace) -> bool:
    """1, 2 and 4 sender processes on one PostgreSQL queue (bench/fleet.py), then one sender profiled.

    The sink reads DATA whole (`--whole-data`): aiosmtpd's line-by-line reading of a 100 KB
    issue costs ~7 ms of CPU, which would cap every fleet at one sink core's ~150-250 msg/s.
    Targets (issue 8): 2 processes >= 1.3x the rate of 1; 4 never below 2 (5% allowed for noise
    on a shared machine); every fleet delivers each delivery once (checked in run_fleet).
    """
    sink, port = start_sink("--whole-data")
    try:
        return _fleets(base, url, args, sink, port)
    finally:
        sink.stdin.close()
        sink.wait(timeout=10)


def _fleets(base: Path, url: str, args: argparse.Namespace, sink: subprocess.Popen, port: int) -> bool:
    import dataclasses

    from fleet import measure_fleets, profile_sender

    from digest.outbox import queue_issue

    settings, engine = make_folder(base, "fleet", args.fleet, url)
    queue_issue(engine=engine, settings=settings, number=1)
    print(f"fleets: {args.fleet:,} deliveries a round, {args.fleet_workers} connection(s) per process, "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs before")
    runs = measure_fleets(settings.home, engine, sink, port, deliveries=args.fleet, workers=args.fleet_workers)
    print(f"load average {os.getloadavg()[0]:.1f} after the fleets")
    rate = {run.processes: run.sink_rate for run in runs}
    two, four = rate[2] / rate[1], rate[4] / rate[2]
    ok = two >= TARGETS["fleet2"] and four >= TARGETS["fleet4"]
    print(f"fleet: 2 processes {two:.2f}x of 1 (target >= {TARGETS['fleet2']}), 4 processes {four:.2f}x of 2 "
          f"(target >= {TARGETS['fleet4']}): {'met' if ok else 'MISSED'}")
    settings = dataclasses.replace(settings, smtp=dataclasses.replace(settings.smtp, url=f"smtp://127.0.0.1:{port}"))
    profile_sender(settings, engine, workers=args.fleet_workers, limit=min(args.fleet, 4000))
    engine.dispose()
    return ok


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deliver", type=int, default=2000, help="deliveries timed per configuration")
    parser.add_argument("--subscribers", type=int, default=20_000)
    parser.add_argument("--queue", type=int, default=100_000, help="subscribers of the queueing folder")
    parser.add_argument("--assembly", type=int, default=20_000, help="messages assembled a round")
    parser.add_argument("--dkim", type=int, default=300, help="DKIM-signed messages assembled a round")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--postgres-admin", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--fleet", type=int, default=3000, help="deliveries per fleet round (postgresql)")
    parser.add_argument("--fleet-workers", type=int, default=1, help="connections per sender process in a fleet (send.workers default)")
    parser.add_argument("--fleet-only", action="store_true", help="only the fleets and the profile (postgresql)")
    args = parser.parse_args()
    if args.fleet_only and args.database != "postgresql":
        parser.error("--fleet-only needs --database postgresql")
    return args


def main() -> int:
    args = parse_args()
    for name in list(os.environ):
        if name.startswith("DIGEST_"):
            del os.environ[name]
    base = Path(tempfile.mkdtemp(prefix="digest-bench-send-"))
    cleanups = [lambda: shutil.rmtree(base, ignore_errors=True)]
    sink = None
    try:
        def database() -> str:
            if args.database == "sqlite":
                return "sqlite"
            url, drop = postgres_database(args.postgres_admin)
            cleanups.append(drop)
            return url

        print(f"bench/send.py: database {args.database}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
        if args.fleet_only:
            return 0 if fleets(base, database(), args) else 1
        queue_seconds = measure_queue(base, database(), args.queue)
        print(f"queue {args.queue:,} subscribers:        {queue_seconds:6.2f} s   (target <= {TARGETS['queue']:.0f} s)")

        import dataclasses

        from digest.outbox import queue_issue

        settings, engine = make_folder(base, "send", args.subscribers, database())
        queue_issue(engine=engine, settings=settings, number=1)
        assembly, wall, size = measure_assembly(settings, args.assembly, dkim=False)
        print(f"assembly, signed links + headers: {assembly:9,.0f} messages/s per CPU second, one core, best of 3 "
              f"({wall:,.0f}/s wall; {size / 1024:.0f} KB each; target >= {TARGETS['assembly']:,.0f})")
        dkim_rate, dkim_wall, _ = measure_assembly(settings, args.dkim, dkim=True)
        print(f"assembly + DKIM (rsa-sha256 2048): {dkim_rate:8,.0f} messages/s per CPU second ({dkim_wall:,.0f}/s wall)")

        sink, port = start_sink()
        settings = dataclasses.replace(settings, smtp=dataclasses.replace(settings.smtp, url=f"smtp://127.0.0.1:{port}"))
        from digest.outbox import load_frozen
        from digest.composer import Composer, make_signer

        composer = Composer(settings=settings, parts=load_frozen(settings, 1), signer=make_signer(settings))
        sample = composer.compose(subscriber_id=1, email="reader1@example.com", message_id=composer.message_id(1))
        measure_raw(port, sample, 1, 50)  # warm the sink up
        ratios = []
        for workers in (1, 4):
            raw = measure_raw(port, sample, workers, args.deliver)
            ours = measure_ours(settings, engine, workers, args.deliver)
            ratios.append(ours / raw)
            print(f"delivery, {workers} connection{'s' if workers > 1 else ' '}:          {ours:7,.0f} messages/s; "
                  f"plain smtplib {raw:7,.0f} messages/s; ratio {ours / raw:5.0%} (target >= {TARGETS['ratio']:.0%})")
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak RSS: this process {rss:.0f} MB (target <= {TARGETS['rss_mb']:.0f}), sink {sink_rss_mb(sink):.0f} MB")
        engine.dispose()
        fleet_ok = fleets(base, database(), args) if args.database == "postgresql" else True
        missed = [name for name, ok in (("queue", queue_seconds <= TARGETS["queue"]),
                                        ("assembly", assembly >= TARGETS["assembly"]),
                                        ("ratio", min(ratios) >= TARGETS["ratio"]),
                                        ("rss", rss <= TARGETS["rss_mb"]), ("fleet", fleet_ok)) if not ok]
        print("all targets met" if not missed else f"missed: {', '.join(missed)}")
        return 1 if missed else 0
    finally:
        if sink is not None:
            sink.stdin.close()
            sink.wait(timeout=10)
        for cleanup in reversed(cleanups):
            cleanup()


if __name__ == "__main__":
    sys.exit(main())
