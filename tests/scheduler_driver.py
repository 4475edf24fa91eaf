"""Run `digest ARGS...` on a fake clock: import everything, print READY, read an offset in
seconds from stdin, then run with the clock at real time + offset (time-machine, ticking)."""

import sys
import time

import time_machine

import digest.cli
import digest.scheduler.listing  # noqa: F401  (imported before the clock moves)
import digest.scheduler.pipeline  # noqa: F401
import digest.scheduler.service  # noqa: F401

sys.stdout.write("READY\n")
sys.stdout.flush()
offset = float(sys.stdin.readline())
with time_machine.travel(time.time() + offset, tick=True):
    sys.argv = ["digest", *sys.argv[1:]]
    digest.cli.main()
