"""The circuit breaker's rules, on their own (the faults suite shows them through a real relay)."""

from __future__ import annotations

import threading

from digest.breaker import Breaker, Held, signature
from digest.transport import PermanentFailure, TransientFailure


def held(n: int, reply: str = "451 4.3.0 Try again later") -> Held:
    return Held(job=n, failure=TransientFailure(reply, int(reply[:3])), recipient=f"r{n}@example.com")


def test_signature_keeps_the_codes_and_drops_the_free_text() -> None:
    assert signature("550 5.1.1 <a@example.com>: no such user") == signature("550 5.1.1 <b@example.com>: unknown")
    assert signature("550 5.1.1 x") != signature("550 5.7.1 x")
    assert signature("451 Try later") == "451"
    assert signature("connection lost during DATA: timed out") == "connection"


def test_a_success_confirms_every_failure_held_before_it() -> None:
    breaker = Breaker(3)
    assert breaker.failure(held(1)) is None and breaker.failure(held(2, "550 5.1.1 No such user")) is None
    assert [h.job for h in breaker.success()] == [1, 2]
    assert breaker.held() == 0 and breaker.end_of_pass() == ([], None)


def test_threshold_failures_for_different_readers_trip_with_the_commonest_answer() -> None:
    breaker = Breaker(3)
    breaker.failure(held(1, "554 5.7.0 Rejected"))
    breaker.failure(held(2))
    trip = breaker.failure(held(3))
    assert trip is not None and trip.reply == "451 4.3.0 Try again later" and (trip.count, trip.readers) == (3, 3)
    assert trip.message().startswith("relay refused: 451 4.3.0 Try again later")
    assert [h.job for h in breaker.drain()] == [1, 2, 3]


def test_the_same_reader_failing_again_is_not_a_run_of_readers() -> None:
    breaker = Breaker(2)
    one = Held(job=1, failure=PermanentFailure("550 5.1.1 x", 550), recipient="same@example.com")
    assert breaker.failure(one) is None and breaker.failure(one) is None


def test_end_of_pass_charges_readers_only_when_the_relay_accepted_something() -> None:
    nothing_accepted = Breaker(10)
    nothing_accepted.failure(held(1))
    confirmed, trip = nothing_accepted.end_of_pass()
    assert confirmed == [] and trip is not None and nothing_accepted.held() == 1  # the caller gives it back
    worked_before = Breaker(10)
    worked_before.success()
    worked_before.failure(held(1))
    confirmed, trip = worked_before.end_of_pass()
    assert [h.job for h in confirmed] == [1] and trip is None


def test_concurrent_workers_hand_each_failure_to_exactly_one_decision() -> None:
    breaker = Breaker(10_000)
    decided: list[int] = []
    lock = threading.Lock()

    def work(offset: int) -> None:
        for n in range(offset, offset + 500):
            breaker.failure(held(n))
            if n % 7 == 0:
                confirmed = breaker.success()
                with lock:
                    decided.extend(h.job for h in confirmed)

    threads = [threading.Thread(target=work, args=(k * 1000,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    decided.extend(h.job for h in breaker.drain())
    assert sorted(decided) == sorted(n for k in range(4) for n in range(k * 1000, k * 1000 + 500))
