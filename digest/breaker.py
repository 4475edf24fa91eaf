"""The circuit breaker: telling a relay that refuses everyone from a reader the relay refuses.

A relay answers per recipient, but a relay having a bad day (a quota hit, a spam block on our
IP, a full queue, a broken filter) answers every recipient the same way: `451 4.3.0` to all,
`550` at RCPT for all, `554` after every DATA. Recording each such answer against the reader
would charge every reader a retry, then fail the whole issue, or count a bounce against every
reader and suppress the whole list after `send.bounce_after` runs.

So the sender records no failure at once. Each one is *held* here (its delivery stays claimed
and queued) until the relay proves it is working:

    a later message is accepted      the held failures were about their readers: recorded
                                     (a retry with backoff for 4xx, a bounce for 5xx)
    `threshold` failures in a row    the relay is failing: the breaker trips, the run stops,
    for different readers, nothing   every held delivery goes back to the queue uncharged
    accepted between
    the pass ends with some held     recorded as the readers' if the relay accepted a message
                                     earlier in this run and fewer than `threshold` are held;
                                     otherwise the relay's (the breaker trips)

The last rule means a list too small to reach the threshold, on a relay that accepts nothing,
is never charged: nothing tells its readers' failures apart from the relay's.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any

from digest.wording import count


@dataclass(frozen=True)
class Held:
    """One failure waiting for a verdict: the claimed job and the relay's answer (an exception)."""

    job: Any
    failure: Any
    recipient: str


@dataclass(frozen=True)
class Trip:
    """The breaker opened: the most common answer among the held failures, and how many there were."""

    reply: str
    count: int
    readers: int

    def message(self) -> str:
        return (f"relay refused: {self.reply} ({count(self.count, 'message')} to {count(self.readers, 'reader')} in a row, "
                "none accepted between)")


def signature(reply: str) -> str:
    """What makes two answers "the same": the reply code and its enhanced status code, if any,
    with the free text dropped (it often names the recipient)."""
    words = reply.split()
    keep = words[:1]
    if len(words) > 1 and words[1][:1].isdigit() and words[1].count(".") == 2:
        keep.append(words[1])
    return " ".join(keep) or reply


class Breaker:
    """Thread-safe: every sender thread reports to one breaker per run."""

    def __init__(self, threshold: int) -> None:
        self.threshold = max(1, threshold)
        self._held: list[Held] = []
        self._lock = threading.Lock()
        self.accepted = 0  # messages the relay accepted in this run
        self.tripped: Trip | None = None

    def held(self) -> int:
        with self._lock:
            return len(self._held)

    def failure(self, item: Held) -> Trip | None:
        """Hold one failure; a Trip when this one opens the breaker (the caller then gives back
        every held job with `drain`)."""
        with self._lock:
            self._held.append(item)
            readers = {held.recipient for held in self._held}
            if self.tripped is None and len(readers) >= self.threshold:
                self.tripped = self._trip()
                return self.tripped
            return None

    def success(self) -> list[Held]:
        """The relay accepted a message: every failure held so far was about its own reader."""
        with self._lock:
            self.accepted += 1
            confirmed, self._held = self._held, []
            return confirmed

    def end_of_pass(self) -> tuple[list[Held], Trip | None]:
        """Decide what is still held when a pass ends (see the module docstring): the failures
        to record as the readers', or a Trip (and the caller gives every held job back)."""
        with self._lock:
            if not self._held:
                return [], None
            readers = {held.recipient for held in self._held}
            if self.accepted and len(readers) < self.threshold:
                confirmed, self._held = self._held, []
                return confirmed, None
            self.tripped = self.tripped or self._trip()
            return [], self.tripped

    def drain(self) -> list[Held]:
        """Take every held failure out (their jobs go back to the queue uncharged)."""
        with self._lock:
            held, self._held = self._held, []
            return held

    def _trip(self) -> Trip:
        replies = [getattr(held.failure, "reply", str(held.failure)) for held in self._held]
        common, _count = Counter(signature(reply) for reply in replies).most_common(1)[0]
        reply = next(reply for reply in reversed(replies) if signature(reply) == common)
        return Trip(reply=reply, count=len(self._held), readers=len({held.recipient for held in self._held}))
