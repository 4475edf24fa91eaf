"""Children that Ctrl-C can stop, however the suite itself was started.

A command started in the background by a non-interactive shell (as `make test` runs its two
passes) inherits SIGINT as ignored, and Python then never raises KeyboardInterrupt. A person
pressing Ctrl-C at a terminal has no such setting, so tests that check what Ctrl-C does
start their child with SIGINT back at its default.
"""

from __future__ import annotations

import signal


def sigint_default() -> None:
    """`preexec_fn` for subprocess.Popen."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
