"""Leases: one holder at a time, renewal by the holder, expiry frees a dead holder's lease."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import timedelta

from digest.leases import acquire, current_holder, release


def test_only_one_holder_until_release(engine) -> None:
    assert acquire(engine, "send:1", "alpha", ttl=timedelta(minutes=5))
    assert not acquire(engine, "send:1", "beta", ttl=timedelta(minutes=5))
    assert acquire(engine, "send:1", "alpha", ttl=timedelta(minutes=5))  # renewal
    assert current_holder(engine, "send:1") == "alpha"
    assert not release(engine, "send:1", "beta")
    assert release(engine, "send:1", "alpha")
    assert current_holder(engine, "send:1") is None
    assert acquire(engine, "send:1", "beta", ttl=timedelta(minutes=5))


def test_expired_lease_is_taken_over(engine) -> None:
    assert acquire(engine, "poll", "dead", ttl=timedelta(seconds=-1))
    assert current_holder(engine, "poll") is None
    assert acquire(engine, "poll", "alive", ttl=timedelta(minutes=1))


def test_racing_processes_get_one_winner(settings, engine) -> None:
    script = textwrap.dedent(f"""
        import sys
        from datetime import timedelta
        from digest.config import load_settings
        from digest.db import open_database
        from digest.leases import acquire
        from pathlib import Path
        engine = open_database(load_settings(Path({str(settings.home)!r})))
        won = sum(acquire(engine, f"job:{{i}}", sys.argv[1], ttl=timedelta(minutes=5)) for i in range(40))
        print(won)
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script, f"p{n}"], stdout=subprocess.PIPE, text=True)
             for n in range(3)]
    wins = [int(p.communicate(timeout=60)[0]) for p in procs]
    assert sum(wins) == 40
