"""Benchmark: votes POSTed over loopback to one `digest serve` worker on SQLite.

A concurrent httpx client (asyncio, in this process) casts one vote per (reader, comparison)
through the real vote links against `digest serve` running in a subprocess, then checks the
vote table: every vote recorded exactly once, with the choice that was cast.

    .venv/bin/python bench/web.py [--readers 3000] [--concurrency 8]

Targets: >= 800 votes/s and p99 <= 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

TARGET_RATE = 800.0
TARGET_P99_MS = 50.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def prepare(home: Path, readers: int) -> tuple[list[int], list[int], str]:
    """A fresh newsletter folder: one sent issue with three comparisons, `readers` active readers."""
    from digest.config import load_settings
    from digest.db import open_database, session_scope
    from digest.folder import init_folder
    from digest.models import Comparison, Issue, IssueComparison, Subscriber, Tool, utcnow

    init_folder(home)
    settings = load_settings(home)
    engine = open_database(settings)
    with session_scope(engine, write=True) as session:
        tools = [Tool(slug=f"tool-{i}", name=f"Tool {i}") for i in range(6)]
        session.add_all(tools)
        session.flush()
        comparisons = [Comparison(tool_a_id=tools[2 * i].id, tool_b_id=tools[2 * i + 1].id, title=f"Pair {i}")
                       for i in range(3)]
        session.add_all(comparisons)
        issue = Issue(number=1, subject="Bench issue", status="sent", sent_at=utcnow())
        session.add(issue)
        session.flush()
        session.add_all(IssueComparison(issue_id=issue.id, comparison_id=c.id, position=n)
                        for n, c in enumerate(comparisons))
        now = utcnow()
        session.add_all(Subscriber(email=f"r{i}@example.org", email_key=f"r{i}@example.org", status="active",
                                   confirmed_at=now) for i in range(readers))
        session.flush()
        reader_ids = [s for (s,) in session.execute(Subscriber.__table__.select().with_only_columns(Subscriber.id))]
        comparison_ids = [c.id for c in comparisons]
    engine.dispose()
    return reader_ids, comparison_ids, settings.secret_key


async def _post(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> int:
    """One request on a kept-alive connection; returns the status code after reading the body."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    await reader.readexactly(length)
    return status


async def cast(url: str, jobs: list[tuple[str, int, int, str]], concurrency: int) -> tuple[list[float], int]:
    """POST every vote link in `jobs` with `concurrency` requests in flight; latencies in seconds.

    The client is a lean HTTP/1.1 keep-alive client on asyncio streams, so that it costs a
    fraction of the server's time per request (httpx costs more than the server measured here,
    and would make this a benchmark of the client). One GET through httpx fetches the CSRF
    cookie and its form token, which every vote form of that browser carries.
    """
    host, port = url.split("//", 1)[1].split(":")
    async with httpx.AsyncClient(base_url=url) as client:
        page = await client.get(jobs[0][0])
        csrf = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        cookie = f"digest_csrf={page.cookies['digest_csrf']}"
    body = f"csrf={csrf}".encode()
    latencies: list[float] = []
    failures = 0
    queue = iter(jobs)

    async def worker() -> None:
        nonlocal failures
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            for path, _, _, _ in queue:
                request = (f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nCookie: {cookie}\r\n"
                           f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n\r\n"
                           ).encode() + body
                started = time.perf_counter()
                status = await _post(reader, writer, request)
                latencies.append(time.perf_counter() - started)
                if status != 200:
                    failures += 1
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readers", type=int, default=3000, help="readers; each votes once in each of 3 comparisons")
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight")
    parser.add_argument("--warmup", type=int, default=300, help="votes cast before measuring")
    args = parser.parse_args()

    from digest.tokens import Signer

    with tempfile.TemporaryDirectory(prefix="digest-bench-web-") as folder:
        home = Path(folder) / "newsletter"
        readers, comparisons, secret = prepare(home, args.readers + args.warmup)
        signer = Signer(secret)
        rng = random.Random(7)
        jobs = []
        for reader in readers:
            token = signer.vote_token(reader, 1)
            for comparison in comparisons:
                choice = rng.choice("ab")
                jobs.append((f"/vote/{token}.{comparison}{choice}", reader, comparison, choice))
        rng.shuffle(jobs)
        warmup, measured = jobs[: args.warmup], jobs[args.warmup:]
        warmup = warmup[: args.warmup]

        port = free_port()
        env = {**os.environ, "DIGEST_BASE_URL": f"http://127.0.0.1:{port}"}
        server = subprocess.Popen([sys.executable, "-m", "digest", "--quiet", "--home", str(home), "serve",
                                   "--host", "127.0.0.1", "--port", str(port)], env=env)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline or server.poll() is not None:
                    print("the server did not start", file=sys.stderr)
                    return 1
                time.sleep(0.05)
            asyncio.run(cast(url, warmup, args.concurrency))
            server_cpu = cpu_seconds(server.pid)
            client_cpu = time.process_time()
            started = time.perf_counter()
            latencies, failures = asyncio.run(cast(url, measured, args.concurrency))
            elapsed = time.perf_counter() - started
            server_cpu = cpu_seconds(server.pid) - server_cpu
            client_cpu = time.process_time() - client_cpu
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=30)

        db = sqlite3.connect(home / "digest.db")
        stored = {(s, c): choice for s, c, choice in db.execute("SELECT subscriber_id, comparison_id, choice FROM vote")}
        rows = db.execute("SELECT count(*) FROM vote").fetchone()[0]
        db.close()
        expected = {(s, c): choice for _, s, c, choice in jobs}
        exact = rows == len(expected) and stored == expected

    rate = len(measured) / elapsed
    ordered = sorted(latencies)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
    p90 = ordered[int(len(ordered) * 0.90)] * 1000
    print(f"votes POSTed: {len(measured)} (+{len(warmup)} warm-up) over loopback, concurrency {args.concurrency}, "
          f"one uvicorn worker, SQLite")
    print(f"throughput:   {rate:,.0f} votes/s   (target >= {TARGET_RATE:.0f})")
    print(f"latency:      p50 {p50:.1f} ms   p90 {p90:.1f} ms   p99 {p99:.1f} ms   max {ordered[-1] * 1000:.1f} ms"
          f"   (target p99 <= {TARGET_P99_MS:.0f} ms)")
    print(f"CPU per vote: server {server_cpu / len(measured) * 1e6:.0f} us, client {client_cpu / len(measured) * 1e6:.0f} us "
          f"(machine load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    print(f"failures:     {failures}")
    print(f"vote table:   {rows} rows for {len(expected)} votes cast; every vote exactly once: {'yes' if exact else 'NO'}")
    ok = exact and failures == 0 and rate >= TARGET_RATE and p99 <= TARGET_P99_MS
    print("result:       " + ("targets met" if ok else "targets NOT met"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
