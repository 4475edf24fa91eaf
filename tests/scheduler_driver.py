"""Run `digest ARGS...` on a fake clock, for the scheduler process tests.

Imports everything, prints READY, then reads a moment (a POSIX timestamp) from stdin. The
clock stands still at that moment while the command starts up (so a slow machine cannot make
the scheduler start after the slot it is meant to wait for) and runs on at normal speed from
the moment the scheduler has stored its jobs and logs "scheduler started". time-machine moves
`time.time()` and `datetime.now()` for every thread; waits (monotonic) stay real.
"""

import logging
import sys

import time_machine

import digest.cli
import digest.scheduler.listing  # noqa: F401  (imported before the clock moves)
import digest.scheduler.pipeline  # noqa: F401
import digest.scheduler.service  # noqa: F401

sys.stdout.write("READY\n")
sys.stdout.flush()
moment = float(sys.stdin.readline())

with time_machine.travel(moment, tick=False) as traveller:

    class StartTheClock(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.getMessage().startswith("scheduler started"):
                traveller.move_to(moment, tick=True)

    logging.getLogger("digest.scheduler").addHandler(StartTheClock())
    sys.argv = ["digest", *sys.argv[1:]]
    digest.cli.main()
