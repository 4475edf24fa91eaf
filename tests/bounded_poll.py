"""Run `digest --home HOME poll --json` in a fresh process under an address-space limit and
report what it cost: `python tests/bounded_poll.py HOME LIMIT_MB REPORT.json`.

The report holds the exit code and the peak resident memory (MB) of this process and of its
children (the parse workers), as the kernel counted them. The limit keeps a poll that reads
without end (old code fed `/dev/zero` to the parser) from taking the machine down with it:
it fails with MemoryError long before the OOM killer would act.
"""

from __future__ import annotations

import json
import resource
import sys


def _own_peak_mb() -> int:
    """This process's own high-water mark. Not RUSAGE_SELF: its ru_maxrss keeps the size of the
    process this one was forked from (pytest, large late in a full run) across the exec."""
    with open("/proc/self/status", encoding="ascii") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) // 1024


def main() -> None:
    home, limit_mb, report_path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    limit = limit_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    from digest.cli import app

    code: object = 0
    try:
        app(["--home", home, "poll", "--json"])
    except SystemExit as exit_:
        code = exit_.code
    finally:
        sys.stdout.flush()
        own = _own_peak_mb()
        children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
        with open(report_path, "w", encoding="utf-8") as handle:
            json.dump({"exit_code": code, "poller_mb": own, "workers_mb": children}, handle)


if __name__ == "__main__":
    main()
