"""A relay having a bad day: it delays an issue, never loses it, never costs a reader.

Each test scripts a relay fault (tests/faults/relay.py), runs `digest send` through it the way
an editor or cron would, several times and past the retry window, then lets the relay recover
and checks what readers and the editor would see.
"""

from __future__ import annotations

import json

import pytest

from delivery_helpers import add_subscribers, make_ready_issue, write_parts
from digest.outbox import queue_issue
from faults.relay import Phase, outcome, server_tls, start_relay

READERS = [f"reader{i:02d}@example.com" for i in range(14)]  # more than the breaker's 10
SHORT_RETRIES = '[send]\nretries = 1\nretry_delay = "0.01s"\n'  # a retry window of milliseconds


def configure(home, text: str = SHORT_RETRIES) -> None:
    with (home / "digest.toml").open("a", encoding="utf-8") as handle:
        handle.write("\n" + text + "\n")


def queued(engine, settings, emails: list[str] = READERS) -> None:
    write_parts(settings, 1, make_ready_issue(engine, settings), filler=1)
    add_subscribers(engine, emails)
    queue_issue(engine=engine, settings=settings, number=1, render=False)


def served_once(engine, relay, emails: list[str] = READERS, *, extra: int = 0) -> None:
    """Every reader got the issue, `extra` duplicates in all; nobody was charged a bounce; sent."""
    seen = outcome(engine, relay)
    assert set(seen.copies) == set(emails) and min(seen.copies.values()) == 1
    assert sum(seen.copies.values()) - len(emails) == extra, seen.copies
    assert set(seen.bounces.values()) == {0} and set(seen.statuses.values()) == {"active"}
    assert {status for status, _attempts in seen.deliveries.values()} == {"sent"}
    assert seen.issue == "sent"


def refused(result, answer: str, *, delivered: int, waiting: int) -> None:
    """The editor's view of a run the relay stopped: exit 1, one error line naming the relay's
    answer, and how far the issue got."""
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and answer in lines[0] and "Traceback" not in result.output, result.stderr
    assert f"issue 1: {delivered} delivered, {waiting} waiting for the relay" in result.stdout
    assert "is sent" not in result.stdout


def untouched(engine, relay) -> None:
    """Nothing charged: every delivery queued with no attempt, every reader active, no bounce."""
    seen = outcome(engine, relay)
    assert set(seen.deliveries.values()) == {("queued", 0)}
    assert set(seen.bounces.values()) == {0} and set(seen.statuses.values()) == {"active"}
    assert seen.issue == "sending"


def test_a_4xx_storm_longer_than_the_retry_window_then_recovery_serves_everyone_once(cli, home, engine,
                                                                                     settings) -> None:
    configure(home)
    queued(engine, settings)
    with start_relay() as relay:
        relay.handler.phase = Phase(rcpt="451 4.3.0 Mail server temporarily rejected message")
        for _ in range(4):  # four runs: twice the retry budget of any one delivery
            result = cli("send", env={"DIGEST_SMTP_URL": relay.url()})
            refused(result, "relay refused: 451 4.3.0 Mail server temporarily rejected message",
                    delivered=0, waiting=len(READERS))
            untouched(engine, relay)
        assert relay.handler.events["rcpt refused"] == 4 * 10  # each run stopped at the breaker
        as_json = cli("send", "--json", env={"DIGEST_SMTP_URL": relay.url()})
        assert as_json.exit_code == 1 and "relay refused: 451 4.3.0" in as_json.stderr
        report = json.loads(as_json.stdout)
        assert report["relay"].startswith("relay refused: 451 4.3.0") and report["sent"] == 0
        assert report["standing"] == [{"issue": 1, "delivered": 0, "waiting": len(READERS)}]
        relay.handler.phase = Phase()
        result = cli("send", env={"DIGEST_SMTP_URL": relay.url()})
        assert result.exit_code == 0 and "issue 1 is sent" in result.stdout, result.output
        served_once(engine, relay)


def test_a_4xx_storm_after_half_the_list_keeps_the_rest_queued(cli, home, engine, settings) -> None:
    configure(home, SHORT_RETRIES + "breaker = 3\n")
    queued(engine, settings)
    with start_relay() as relay:
        handler = relay.handler
        # 6 accepted, then the relay's queue fills up: 452 for everyone
        original = handler.handle_RCPT

        async def filling(server, session, envelope, address, options):  # noqa: ANN001
            if handler.count >= 6:
                handler.events["rcpt refused"] += 1
                return "452 4.3.1 Insufficient system storage"
            return await original(server, session, envelope, address, options)

        handler.handle_RCPT = filling
        result = cli("send", env={"DIGEST_SMTP_URL": relay.url()})
        refused(result, "relay refused: 452 4.3.1 Insufficient system storage", delivered=6, waiting=8)
        seen = outcome(engine, relay)
        assert sorted(seen.deliveries.values()).count(("queued", 0)) == 8  # none of the rest charged
        handler.handle_RCPT = original
        assert cli("send", env={"DIGEST_SMTP_URL": relay.url()}).exit_code == 0
        served_once(engine, relay)


EVERYONE_REFUSED = {
    "550 at RCPT for all": (Phase(rcpt="550 5.7.1 Relaying denied for your IP"), "550 5.7.1 Relaying denied"),
    "554 after DATA for all": (Phase(data="554 5.7.0 Message rejected: policy violation"), "554 5.7.0"),
    "MAIL FROM refused": (Phase(mail="451 4.7.1 Sending rate exceeded, try later"), "451 4.7.1"),
    "login refused": (Phase(auth_ok=False), "535"),
    "STARTTLS refused": (Phase(starttls="454 4.7.0 TLS not available due to temporary reason"), "454 4.7.0"),
}


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
@pytest.mark.parametrize("fault", list(EVERYONE_REFUSED))
def test_a_relay_refusing_everyone_never_bounces_a_reader(cli, home, engine, settings, tmp_path, fault) -> None:
    configure(home)
    queued(engine, settings)
    phase, answer = EVERYONE_REFUSED[fault]
    tls = server_tls(tmp_path) if fault == "STARTTLS refused" else None
    auth = fault == "login refused"
    with start_relay(tls=tls, auth=auth) as relay:
        url = relay.url("smtp+starttls", query="verify=no") if tls else relay.url(userinfo="editor:pw" if auth else "")
        relay.handler.phase = phase
        for _ in range(4):  # more runs than send.bounce_after (3): the whole list would be suppressed
            result = cli("send", env={"DIGEST_SMTP_URL": url})
            refused(result, answer, delivered=0, waiting=len(READERS))
            untouched(engine, relay)
        assert sum(relay.handler.events.values()) >= 4
        relay.handler.phase = Phase()
        result = cli("send", env={"DIGEST_SMTP_URL": url})
        assert result.exit_code == 0, result.output
        served_once(engine, relay)


def test_only_a_recipient_specific_refusal_is_a_bounce(cli, home, engine, settings) -> None:
    """Two unknown readers among working ones bounce, even when they come first on the list."""
    configure(home, SHORT_RETRIES + "bounce_after = 1\n")
    bad = {READERS[0], READERS[1]}
    queued(engine, settings)
    with start_relay() as relay:
        relay.handler.phase = Phase(refuse=frozenset(bad))
        result = cli("send", env={"DIGEST_SMTP_URL": relay.url()})
        assert result.exit_code == 0 and "issue 1 is sent" in result.stdout, result.output
        seen = outcome(engine, relay)
    assert set(seen.copies) == set(READERS) - bad and set(seen.copies.values()) == {1}
    assert {email: seen.deliveries[email][0] for email in bad} == dict.fromkeys(bad, "failed")
    assert {email: seen.statuses[email] for email in bad} == dict.fromkeys(bad, "bounced")
    assert {email: seen.bounces[email] for email in READERS if email not in bad} == \
        dict.fromkeys(set(READERS) - bad, 0)


def test_a_small_list_on_a_relay_refusing_everyone_is_not_charged(cli, home, engine, settings) -> None:
    """Three readers never reach the breaker; with nothing accepted, their 550s are the relay's."""
    configure(home)
    emails = READERS[:3]
    queued(engine, settings, emails)
    with start_relay() as relay:
        relay.handler.phase = Phase(rcpt="550 5.7.1 Service unavailable; client host blocked")
        for _ in range(4):
            refused(cli("send", env={"DIGEST_SMTP_URL": relay.url()}), "550 5.7.1 Service unavailable",
                    delivered=0, waiting=3)
            untouched(engine, relay)
        relay.handler.phase = Phase()
        assert cli("send", env={"DIGEST_SMTP_URL": relay.url()}).exit_code == 0
        served_once(engine, relay, emails)


def test_connections_dropped_mid_data_are_the_relays_and_resend_nothing_twice(cli, home, engine, settings) -> None:
    configure(home)
    queued(engine, settings)
    with start_relay() as relay:
        relay.handler.phase = Phase(drop_mid_data=True)
        for _ in range(3):
            refused(cli("send", env={"DIGEST_SMTP_URL": relay.url()}), "connection lost during DATA",
                    delivered=0, waiting=len(READERS))
            untouched(engine, relay)
        relay.handler.phase = Phase(drop_mid_data=True, every=3)  # a flaky relay: one in three dropped
        result = cli("send", env={"DIGEST_SMTP_URL": relay.url()})
        assert result.exit_code == 0, result.output
        assert relay.handler.events["dropped mid-DATA"] > 30
        served_once(engine, relay)  # a message cut off mid-DATA was never kept: no duplicate


def test_a_lost_final_reply_duplicates_at_most_the_messages_whose_reply_was_lost(cli, home, engine,
                                                                                 settings) -> None:
    configure(home)
    queued(engine, settings)
    with start_relay() as relay:
        relay.handler.phase = Phase(lose_reply=True)  # keeps every message, answers none
        refused(cli("send", env={"DIGEST_SMTP_URL": relay.url()}), "connection lost during DATA",
                delivered=0, waiting=len(READERS))
        untouched(engine, relay)
        relay.handler.phase = Phase(lose_reply=True, every=4)
        assert cli("send", env={"DIGEST_SMTP_URL": relay.url()}).exit_code == 0
        lost = sum(relay.handler.lost.values())
        assert lost >= 10 + 3
        served_once(engine, relay, extra=lost)  # one duplicate per lost reply, never more
