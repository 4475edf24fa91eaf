"""`digest check` offline, and the refusals it drives: queue, send and the scheduler's sends.

Each folder is a real one with its own SQLite file (or PostgreSQL database). The fixture folder
of the suite is a sandbox (`sandbox = true`); the tests here take that line out to see what a
fresh `digest init` folder meant for real readers gets.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime

import pytest

from delivery_helpers import add_subscribers, make_ready_issue, write_parts
from digest.config import load_settings
from digest.db import session_scope
from digest.models import Delivery, Issue
from digest.smtpsink import start_sink

REAL = ('sender = "Weekly AI Tool Verdicts <verdicts@aiverdicts.net>"\n'
        'reply_to = "editor@aiverdicts.net"\n'
        'editor = "editor@aiverdicts.net"\n'
        'postal_address = "AI Verdicts Ltd, 12 Rue des Lilas, 75011 Paris"\n'
        'base_url = "https://verdicts.aiverdicts.net"\n')
RELAY = "smtp+starttls://apikey:pw-Zq81@relay.aiverdicts.net:587"


def settle(home, top: str = "", *, sandbox: bool = False) -> None:
    """digest.toml without the suite's `sandbox = true` (unless `sandbox`), `top` keys first."""
    path = home / "digest.toml"
    text = path.read_text(encoding="utf-8").replace("sandbox = true\n", "", 1)
    path.write_text(("sandbox = true\n" if sandbox else "") + top + text, encoding="utf-8")


def lines(result) -> dict[str, str]:
    """check name -> 'level: message' of each finding line."""
    found = {}
    for line in result.stdout.splitlines():
        level, _, rest = line.partition(" ")
        if level in ("ok", "warning", "problem"):
            name, _, message = rest.strip().partition(": ")
            found[name] = f"{level}: {message}"
    return found


@pytest.fixture
def real(home, monkeypatch):
    """A folder filled in for real readers (offline checks pass)."""
    settle(home, REAL)
    monkeypatch.setenv("DIGEST_SMTP_URL", RELAY)
    return home


def test_a_fresh_init_folder_has_problems_and_says_which(cli, home) -> None:
    settle(home)
    result = cli("check", "--offline")
    assert result.exit_code == 1, result.output
    found = lines(result)
    assert found["sender"].startswith("problem: 'Weekly AI Tool Verdicts <verdicts@digest.invalid>' is on digest.invalid")
    assert found["postal_address"].startswith("problem: 'Digest Newsletter, 1 Example Street, 00000 Exampletown' "
                                              "is the placeholder")
    assert found["smtp"].startswith("problem: smtp.url is the default")
    assert found["base_url"].startswith("warning: http://127.0.0.1:8000 is not https")  # no real readers yet
    assert found["secret_key"].startswith("ok: set (.digest-secret)")
    assert result.stdout.splitlines()[-1] == ("3 problems, 2 warnings: not ready for real readers "
                                              "(offline: SMTP and DNS not checked)")


def test_a_filled_in_folder_passes(cli, real) -> None:
    result = cli("check", "--offline")
    assert result.exit_code == 0, result.output
    found = lines(result)
    assert found["sender"] == "ok: Weekly AI Tool Verdicts <verdicts@aiverdicts.net>"
    assert found["postal_address"] == "ok: AI Verdicts Ltd, 12 Rue des Lilas, 75011 Paris"
    assert found["base_url"] == "ok: https://verdicts.aiverdicts.net (public, https)"
    assert found["smtp"] == "ok: smtp+starttls://apikey:***@relay.aiverdicts.net:587"
    assert "pw-Zq81" not in result.output  # the SMTP password is never shown
    assert result.stdout.splitlines()[-1].startswith("0 problems, 0 warnings: ready for real readers")


def real_with(key: str, value: str) -> str:
    """REAL with one key's value replaced."""
    kept = [line for line in REAL.splitlines() if not line.startswith(key + " =")]
    return "\n".join(kept) + f'\n{key} = "{value}"\n'


@pytest.mark.parametrize(("key", "value", "expected"), [
    ("reply_to", "replies@example.com", "problem: 'replies@example.com' is on example.com"),
    ("sender", "Verdicts <verdicts@news.test>", "problem: 'Verdicts <verdicts@news.test>' is on news.test"),
    ("sender", "Verdicts <verdicts@localhost>", "problem: 'Verdicts <verdicts@localhost>' is on localhost"),
    ("sender", "Verdicts", "problem: 'Verdicts' has no usable address"),
    ("postal_address", "", "problem: not set"),
    ("postal_address", "Verdicts, 3 Example Street, Exampletown", "problem: 'Verdicts, 3 Example Street, Exampletown' is"),
])
def test_placeholders_are_problems(cli, home, monkeypatch, key, value, expected) -> None:
    settle(home, real_with(key, value))
    monkeypatch.setenv("DIGEST_SMTP_URL", RELAY)
    result = cli("check", "--offline")
    assert result.exit_code == 1, result.output
    assert lines(result)[key].startswith(expected), result.stdout


@pytest.mark.parametrize(("url", "readers", "expected"), [
    ("https://verdicts.aiverdicts.net", ["ann@gmail.com"], "ok: https://verdicts.aiverdicts.net (public, https)"),
    ("http://verdicts.aiverdicts.net", ["ann@gmail.com"], "problem: http://verdicts.aiverdicts.net is not https, and 1 real"),
    ("https://127.0.0.1:8443", ["ann@gmail.com"], "problem: https://127.0.0.1:8443 points at 127.0.0.1, which readers"),
    ("https://10.1.2.3", ["ann@gmail.com"], "problem: https://10.1.2.3 points at 10.1.2.3"),
    ("https://localhost", ["ann@gmail.com"], "problem: https://localhost points at localhost"),
    ("http://127.0.0.1:8000", ["ann@example.com", "bob@team.test"], "warning: http://127.0.0.1:8000 is not https and points"),
])
def test_base_url_must_be_public_https_once_real_readers_exist(cli, engine, home, monkeypatch, url, readers,
                                                               expected) -> None:
    settle(home, REAL.replace("https://verdicts.aiverdicts.net", url))
    monkeypatch.setenv("DIGEST_SMTP_URL", RELAY)
    add_subscribers(engine, readers)
    add_subscribers(engine, ["gone@gmail.com"], status="unsubscribed")  # not a reader any more
    result = cli("check", "--offline")
    assert lines(result)["base_url"].startswith(expected), result.stdout
    assert result.exit_code == (1 if expected.startswith("problem") else 0)


def test_the_secret_key_must_be_there_and_not_the_demos(cli, real, monkeypatch) -> None:
    (real / ".digest-secret").unlink()
    result = cli("check", "--offline")
    assert result.exit_code == 1 and lines(result)["secret_key"].startswith("problem: no secret key"), result.stdout
    monkeypatch.setenv("DIGEST_SECRET_KEY", "demo-" + "x" * 43)
    result = cli("check", "--offline")
    assert result.exit_code == 1 and lines(result)["secret_key"].startswith("problem: the key is the demo's")
    monkeypatch.setenv("DIGEST_SECRET_KEY", "short")
    result = cli("check", "--offline")
    assert result.exit_code == 0 and lines(result)["secret_key"].startswith("warning: the key has 5 characters")


def test_sandbox_takes_placeholders_as_warnings_but_not_real_readers(cli, engine, home) -> None:
    settle(home, sandbox=True)
    (home / ".digest-secret").write_text("demo-" + "k" * 43 + "\n", encoding="utf-8")
    add_subscribers(engine, ["ada@example.com", "grace@example.org", "linus@sub.example.net", "x@box.invalid"])
    result = cli("check", "--offline")
    assert result.exit_code == 0, result.output
    found = lines(result)
    assert found["sandbox"].startswith("ok: sandbox = true: 4 active reader(s), all sample addresses")
    for check in ("sender", "postal_address", "secret_key", "smtp"):
        assert found[check].startswith("warning: "), (check, found[check])
    assert result.stdout.splitlines()[-1] == ("0 problems, 6 warnings: ready as a sandbox (sample readers only) "
                                              "(offline: SMTP and DNS not checked)")
    add_subscribers(engine, ["Real.Person@Gmail.com"])
    result = cli("check", "--offline")
    assert result.exit_code == 1
    assert lines(result)["sandbox"] == ("problem: sandbox = true, but 1 active reader(s) are real addresses (such as "
                                        "Real.Person@Gmail.com); a sandbox mails sample readers only: remove "
                                        "`sandbox` and fill in the settings below")


def test_json_lists_every_finding(cli, home) -> None:
    settle(home)
    result = cli("check", "--offline", "--json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["ready"] is False and data["sandbox"] is False and data["offline"] is True
    assert data["problems"] == 3
    problems = {f["check"]: f["setting"] for f in data["findings"] if f["level"] == "problem"}
    assert problems == {"sender": "sender", "postal_address": "postal_address", "smtp": "smtp.url"}


def test_bad_nameservers_setting_is_a_usage_error(cli, home) -> None:
    settle(home, "")
    with (home / "digest.toml").open("a", encoding="utf-8") as handle:
        handle.write('\n[check]\nnameservers = "dns.google"\n')
    result = cli("check")
    assert result.exit_code == 2
    assert result.stderr == ("error: digest.toml: check.nameservers: 'dns.google' is not an IP address "
                             "(optionally with :port)\n")


# --- refusals ----------------------------------------------------------------------------------

def _ready_issue(engine, home) -> None:
    settings = load_settings(home)
    write_parts(settings, 1, make_ready_issue(engine, settings))


def _deliveries(engine) -> int:
    with session_scope(engine) as session:
        return len(session.exec(__import__("sqlmodel").select(Delivery)).all())


def test_queue_refuses_a_placeholder_folder_naming_each_problem(cli, engine, home) -> None:
    settle(home)
    _ready_issue(engine, home)
    add_subscribers(engine, ["ann@example.com"])
    result = cli("issue", "queue", "1", "--no-render")
    assert result.exit_code == 2
    error = result.stderr.strip()
    assert error.startswith("error: digest issue queue 1 refused: this folder is not ready for real readers "
                            "(3 problems: sender: 'Weekly AI Tool Verdicts <verdicts@digest.invalid>' is on digest.invalid")
    assert "; postal_address: 'Digest Newsletter, 1 Example Street, 00000 Exampletown' is the placeholder" in error
    assert "; smtp: smtp.url is the default" in error
    assert error.endswith("(hint: fix them (`digest check` lists every finding), or pass --skip-check to go ahead anyway)")
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.output
    assert _deliveries(engine) == 0
    with session_scope(engine) as session:
        assert session.get(Issue, 1).status == "draft"


def test_skip_check_queues_and_says_what_it_skipped(cli, engine, home) -> None:
    settle(home)
    _ready_issue(engine, home)
    add_subscribers(engine, ["ann@example.com"])
    result = cli("issue", "queue", "1", "--no-render", "--skip-check")
    assert result.exit_code == 0, result.output
    assert "warning: digest issue queue 1 despite a problem (--skip-check): sender: " in result.stderr
    assert result.stderr.count("despite a problem") == 3
    assert _deliveries(engine) == 1


def test_send_refuses_and_nothing_reaches_the_relay(cli, engine, home) -> None:
    settle(home)
    _ready_issue(engine, home)
    add_subscribers(engine, ["ann@example.com", "bob@example.org"])
    assert cli("issue", "queue", "1", "--no-render", "--skip-check").exit_code == 0
    with start_sink() as sink:
        env = {"DIGEST_SMTP_URL": sink.url()}
        result = cli("send", env=env)
        assert result.exit_code == 2
        assert result.stderr.startswith("error: digest send refused: this folder is not ready for real readers "
                                         "(2 problems: sender: ")  # the sink's URL is not the default
        assert "postal_address" in result.stderr and sink.messages == []
        dry = cli("send", "--dry-run", env=env)  # sends nothing, so it is not refused
        assert dry.exit_code == 0, dry.output
        assert sink.messages == []
        result = cli("send", "--skip-check", env=env)
        assert result.exit_code == 0, result.output
        assert sorted(m.recipients[0] for m in sink.messages) == ["ann@example.com", "bob@example.org"]


def test_a_filled_in_folder_queues_and_sends_without_being_told(cli, engine, real) -> None:
    _ready_issue(engine, real)
    add_subscribers(engine, ["ann@gmail.com"])
    assert cli("issue", "queue", "1", "--no-render").exit_code == 0
    assert _deliveries(engine) == 1


def test_the_suite_fixture_folder_is_a_sandbox_and_passes(cli) -> None:
    result = cli("check", "--offline")
    assert result.exit_code == 0, result.output
    assert lines(result)["sandbox"].startswith("ok: sandbox = true")


def test_the_scheduler_refuses_to_start(cli, home) -> None:
    settle(home)
    result = cli("scheduler")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: digest scheduler refused: this folder is not ready for real readers "
                                    "(3 problems: sender: ")


def test_the_scheduler_send_refuses_and_tells_the_editor(home, monkeypatch) -> None:
    from digest.db import open_database
    from digest.scheduler.jobs import Runtime, dispatch_job, weekly_send_job
    from digest.scheduler.timing import Schedule

    settle(home)
    with start_sink() as sink:
        monkeypatch.setenv("DIGEST_SMTP_URL", sink.url())
        monkeypatch.setenv("DIGEST_EDITOR", "editor@example.org")
        settings = load_settings(home)
        engine = open_database(settings)
        try:
            write_parts(settings, 1, make_ready_issue(engine, settings))
            write_parts(settings, 2, make_ready_issue(engine, settings, number=2))
            add_subscribers(engine, ["ann@example.com"])
            with session_scope(engine, write=True) as session:
                session.get(Issue, 1).status = "scheduled"
                second = session.get(Issue, 2)
                second.status, second.scheduled_at = "scheduled", datetime(2025, 1, 7, 9, 0, tzinfo=UTC)
            runtime = Runtime(settings=settings, engine=engine, schedule=Schedule.from_settings(settings))
            weekly = weekly_send_job(runtime, now=datetime(2025, 1, 7, 9, 0, 30, tzinfo=UTC))
            assert weekly.outcome == "failed"
            assert weekly.detail.startswith("the scheduler's send refused: this folder is not ready for real readers")
            one_off = [r for r in dispatch_job(runtime, now=datetime(2025, 1, 7, 9, 1, tzinfo=UTC))
                       if r.job == "one-off"]
            assert [r.outcome for r in one_off] == ["nothing"]
            assert _deliveries(engine) == 0
            with session_scope(engine) as session:
                assert session.get(Issue, 1).status == "scheduled"  # the next weekly slot tries again
                assert session.get(Issue, 2).status == "draft"  # a one-off goes back to the editor
            subjects = [m.data.split(b"Subject: ", 1)[1].split(b"\r\n", 1)[0].decode() for m in sink.messages]
            assert [list(m.recipients) for m in sink.messages] == [["editor@example.org"]] * 2
            assert subjects == ["[Weekly AI Tool Verdicts] The weekly send of 2025-01-07 09:00 UTC failed",
                                "[Weekly AI Tool Verdicts] Issue 2 was not sent: the folder is not ready"]
            import email
            import email.policy

            weekly_notice = email.message_from_bytes(sink.messages[0].data, policy=email.policy.default).get_content()
            assert "Nothing was sent: `digest check` finds the folder not ready for real readers" in weekly_notice
            assert "- postal_address: " in weekly_notice and "stays scheduled for the next weekly send" in weekly_notice
            notice = email.message_from_bytes(sink.messages[1].data, policy=email.policy.default).get_content()
            assert "- sender: 'Weekly AI Tool Verdicts <verdicts@digest.invalid>' is on digest.invalid" in notice
            assert "- postal_address: " in notice
        finally:
            engine.dispose()


# --- init ---------------------------------------------------------------------------------------

def test_init_ends_with_what_to_fill_in_and_what_to_run(make_cli, tmp_path) -> None:
    folder = tmp_path / "verdicts"
    result = make_cli(folder)("init")
    assert result.exit_code == 0, result.output
    out = result.stdout
    tail = out[out.index("still to fill in"):]
    settings = [line.split()[0] for line in tail.splitlines()[1:] if line.startswith("  ") and ":" in line][:5]
    assert settings == ["sender", "editor", "postal_address", "base_url", "smtp.url"]
    assert "  sender          problem: 'Weekly AI Tool Verdicts <verdicts@digest.invalid>' is on digest.invalid" in tail
    assert f"  digest --home {folder} check " in tail and f"  digest --home {folder} poll " in tail
    assert "sandbox" not in (folder / "digest.toml").read_text(encoding="utf-8").split("# sandbox")[0]
    assert not load_settings(folder).sandbox  # init never makes a sandbox
    again = make_cli(folder)("--quiet", "init")
    assert again.exit_code == 0 and again.stdout == ""
