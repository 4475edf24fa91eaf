"""Who may send a claimed delivery: claim leases on the database's clock, kept alive by a heartbeat.

Several `digest send` processes, on one host or many, share one PostgreSQL queue. Each claims a
batch (`digest.deliveries`: SELECT … FOR UPDATE SKIP LOCKED) and stamps it `claimed_by` itself
with `lease_until = now() + lease`, where now() is the *database server's* clock, so hosts whose
clocks disagree still agree on when a lease ends. While it works, a heartbeat renews every claim
it holds each `lease / 4`. A process that dies stops renewing; once its leases end, the others
take its claims over, and each delivery is still sent by one process.

The holder must also stop sending when it cannot prove its claims are still its own (the
database stopped answering its heartbeats): `ClaimLease.safe()` is that proof, reckoned on this
process's monotonic clock from the start of the last renewal that succeeded, with a margin of a
quarter of the lease for the message in flight (so the heartbeat may run half a lease late). A sender that loses it stops instead of mailing a
delivery another process may have taken over.
"""

from __future__ import annotations

import logging
import math
import os
import socket
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


def new_holder() -> str:
    """This process's name in claims and leases: role, host, pid and a random tag."""
    from digest.leases import holder_id

    return holder_id("sender")


def holder_alive(holder: str) -> bool:
    """False only when `holder` names a process on this machine that no longer exists.

    A holder on another machine is presumed alive: its lease and claims expire by time.
    """
    host, _, rest = holder.rpartition("@")[2].partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return True
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def describe_holder(holder: str) -> str:
    """`pid 123 on host` for messages."""
    host, _, rest = holder.rpartition("@")[2].partition(":")
    return f"pid {rest.partition(':')[0]} on {host}"


class ClaimLease:
    """This process's lease on its claims, as far as this process can prove it.

    `started()` is called as a claim or a renewal begins, `renewed(at)` when a renewal commits.
    Every row claimed or renewed at monotonic time t is ours until at least t + lease by the
    database's clock, so the oldest renewal start that covers every held claim bounds them all.
    """

    def __init__(self, seconds: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._since: float | None = None  # start of the last renewal covering every claim we hold
        self.lost: str = ""  # why the lease is gone for good (the SQLite sender lease taken over)

    @property
    def interval(self) -> float:
        """Between renewals, and the margin kept for the message in flight."""
        return self.seconds / 4

    def now(self) -> float:
        return self._clock()

    def claimed(self, started: float) -> None:
        """A claim that began at `started` committed; the first one starts the reckoning."""
        if self._since is None:
            self._since = started

    def renewed(self, started: float) -> None:
        self._since = started

    def safe(self) -> bool:
        """True while our claims are ours with a quarter of the lease to spare."""
        if self.lost:
            return False
        return self._since is None or self._clock() < self._since + self.seconds - self.interval

    def due_in(self) -> float:
        """Seconds until the next renewal should start."""
        if self._since is None:
            return self.interval
        return max(0.0, self._since + self.interval - self._clock())


class Heartbeat:
    """A thread that renews this process's claims every `lease / 4` until stopped.

    `renew` does the renewal (one UPDATE of our claims, and the SQLite sender lease) and raises
    on failure; failures are logged and tried again a second later. A failure that means the
    lease is gone for good (`lost_on`) sets `ClaimLease.lost`; the workers then stop.
    """

    def __init__(self, lease: ClaimLease, renew: Callable[[], None], *,
                 lost_on: tuple[type[BaseException], ...] = ()) -> None:
        self.lease = lease
        self._renew = renew
        self._lost_on = lost_on
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="digest-heartbeat", daemon=True)

    def start(self) -> Heartbeat:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)

    def _run(self) -> None:
        wait = self.lease.due_in()
        while not self._stop.wait(wait):
            started = self.lease.now()
            try:
                self._renew()
            except self._lost_on as exc:
                self.lease.lost = str(getattr(exc, "message", exc))
                log.error("heartbeat: %s", self.lease.lost)
                return
            except Exception as exc:  # noqa: BLE001 - the database may come back before the lease ends
                log.warning("heartbeat: renewing the claims failed (%s); trying again", exc)
                wait = min(1.0, self.lease.interval)
                continue
            self.lease.renewed(started)
            wait = self.lease.due_in()


def seconds_between(later, earlier) -> float:  # noqa: ANN001
    """`later - earlier` in seconds, +inf when `later` is None."""
    if later is None:
        return math.inf
    return (later - earlier).total_seconds()
