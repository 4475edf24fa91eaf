"""`digest bounces` against a real Dovecot IMAP server on 127.0.0.1 (TLS, STARTTLS, plain on
loopback): bounces marked seen or moved, replies left unread, each message counted once."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest

import bounce_corpus as corpus
from bounce_helpers import RETURN_PATH, configure, send_issue, statuses
from digest.bounces import read_bounces
from digest.bounces.mailbox import ImapBox
from digest.config import load_settings
from imapserver import DOVECOT, PASSWORD, USER, Dovecot

pytestmark = pytest.mark.skipif(DOVECOT is None, reason="Dovecot is not installed (apt-get install dovecot-imapd)")

READERS = [f"reader{i}@reader.example" for i in range(1, 7)]
ENV = {"DIGEST_BOUNCES_IMAP_PASSWORD": PASSWORD}


@pytest.fixture
def dovecot():
    # not under pytest's tmp_path: run as root, Dovecot's own users must reach the folder
    folder = Path(tempfile.mkdtemp(prefix="digest-dovecot-"))
    server = Dovecot(folder)
    yield server
    server.stop()
    shutil.rmtree(folder, ignore_errors=True)


def use_imap(home: Path, server: Dovecot, *, security: str = "tls", extra: str = "") -> None:
    port = server.tls_port if security == "tls" else server.port
    (home / "cert.pem").write_bytes(server.cert.read_bytes())
    configure(home, f'[bounces]\nreturn_path = "{RETURN_PATH}"\nimap_host = "127.0.0.1"\nimap_port = {port}\n'
                    f'imap_security = "{security}"\nimap_user = "{USER}"\nimap_ca_file = "cert.pem"\n{extra}')


def test_tls_mailbox_bounces_seen_replies_left_and_a_second_read_finds_nothing(cli, home, engine, dovecot) -> None:
    use_imap(home, dovecot)
    sent = send_issue(home, engine, READERS)
    for build, reader in zip((corpus.postfix_dsn, corpus.yahoo_arf, corpus.human_reply, corpus.auto_reply,
                              corpus.exchange_ndr), READERS):
        dovecot.append(build(sent[reader]))
    result = cli("bounces", "--json", env=ENV)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["read"], report["hard"], report["complaint"], report["reply"], report["auto-reply"]) == \
        (5, 2, 1, 1, 1)
    rows = statuses(cli)
    assert [rows[r]["status"] for r in READERS] == ["bounced", "complained", "active", "active", "bounced", "active"]
    assert rows[READERS[1]]["issue"] == 1
    flags = dovecot.flags()
    assert ["\\Seen" in f for f in flags] == [True, True, False, False, True]
    assert all("$DigestRead" in f for f in flags)
    assert dovecot.count() == 5  # nothing deleted
    again = json.loads(cli("bounces", "--json", env=ENV).stdout)
    assert again["read"] == 0


def test_starttls_and_move_to_a_folder(cli, home, engine, dovecot) -> None:
    use_imap(home, dovecot, security="starttls", extra='after = "move"')
    sent = send_issue(home, engine, READERS)
    dovecot.append(corpus.ses_dsn(sent[READERS[0]]))
    dovecot.append(corpus.human_reply(sent[READERS[1]]))
    assert cli("bounces", env=ENV).exit_code == 0
    assert dovecot.count("INBOX") == 1  # the reply stays for the editor
    assert dovecot.count("digest-processed") == 1
    assert statuses(cli)[READERS[0]]["status"] == "bounced"


class _DiesAfterRecording(ImapBox):
    def done(self, message, *, acted: bool) -> None:
        raise KeyboardInterrupt  # the process is killed after the commit, before the IMAP STORE


def test_a_crash_after_recording_counts_once_and_the_next_run_marks_it(cli, home, engine, dovecot) -> None:
    use_imap(home, dovecot, security="plain")
    sent = send_issue(home, engine, READERS)
    dovecot.append(corpus.gmail_dsn(sent[READERS[0]]))
    settings = load_settings(home, ENV)
    with pytest.raises(KeyboardInterrupt):
        read_bounces(settings=settings, engine=engine, mailbox=_DiesAfterRecording(settings.bounces))
    assert "$DigestRead" not in dovecot.flags()[0]
    report = json.loads(cli("bounces", "--json", env=ENV).stdout)
    assert (report["read"], report["soft"], report["seen_before"]) == (1, 0, 1)
    assert statuses(cli)[READERS[0]]["bounce_count"] == 1
    assert "\\Seen" in dovecot.flags()[0]


def test_login_and_connection_failures_are_one_line(cli, home, dovecot) -> None:
    use_imap(home, dovecot)
    result = cli("bounces", env={"DIGEST_BOUNCES_IMAP_PASSWORD": "wrong"})
    assert result.exit_code == 1 and "IMAP 127.0.0.1" in result.stderr and "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1
    (home / "digest.toml").write_text((home / "digest.toml").read_text().replace(str(dovecot.tls_port),
                                                                               str(dovecot.port)))
    result = cli("bounces", env=ENV)  # TLS spoken to a plain port
    assert result.exit_code == 1 and "IMAP 127.0.0.1" in result.stderr
    settings_file = home / "digest.toml"
    kept = settings_file.read_text().split("[bounces]")[0]  # the database section of a PostgreSQL run stays
    settings_file.write_text(kept + '[bounces]\nimap_host = "imap.example.org"\nimap_security = "plain"\n')
    result = cli("bounces", env=ENV)
    assert result.exit_code == 2 and "loopback only" in result.stderr
