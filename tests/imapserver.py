"""A real Dovecot IMAP server on 127.0.0.1 for the tests: generated config, passwd-file, not a daemon.

Dovecot runs in the foreground (`dovecot -F`) from a temporary folder with its own base_dir,
state and logs, listening on two free loopback ports: plain IMAP (143-style, for STARTTLS and
the loopback-only plain mode) and IMAPS with a self-signed certificate made for the test. Run
as root it drops to the `dovecot`/`dovenull` users and keeps the mail as `nobody`; run as
anyone else it runs entirely as that user. `DOVECOT` is None when Dovecot is not installed.
"""

from __future__ import annotations

import grp
import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import time
from pathlib import Path
from tlscert import make_certificate

DOVECOT = shutil.which("dovecot") or (Path("/usr/sbin/dovecot") if Path("/usr/sbin/dovecot").exists() else None)
USER, PASSWORD = "bounces", "s3cr3t-pass"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Dovecot:
    """One Dovecot process; `append` delivers a message the way an MTA would (IMAP APPEND)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port, self.tls_port = _free_port(), _free_port()
        self.cert, key = make_certificate(folder)
        root = os.geteuid() == 0
        me = pwd.getpwuid(os.geteuid()).pw_name
        internal, login = ("dovecot", "dovenull") if root else (me, me)
        mail_uid, mail_gid = (pwd.getpwnam("nobody").pw_uid, grp.getgrnam("nogroup").gr_gid) if root \
            else (os.geteuid(), os.getegid())
        self.mail = folder / "mail"
        self.mail.mkdir()
        os.chown(self.mail, mail_uid, mail_gid) if root else None
        (folder / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}:{mail_uid}:{mail_gid}::{self.mail}/{USER}::\n")
        for sub in ("run", "state"):
            (folder / sub).mkdir()
        if root:
            os.chmod(folder, 0o755)
            os.chmod(key, 0o644)
        self.config = folder / "dovecot.conf"
        self.config.write_text(f"""
base_dir = {folder}/run
state_dir = {folder}/state
log_path = {folder}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{self.cert}
ssl_key = <{key}
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {internal}
default_internal_group = {grp.getgrgid(pwd.getpwnam(internal).pw_gid).gr_name}
default_login_user = {login}
first_valid_uid = 1
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {folder}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {folder}/passwd
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {self.tls_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
""", encoding="utf-8")
        self.process = subprocess.Popen([str(DOVECOT), "-F", "-c", str(self.config)], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE)
        self._wait()

    def _wait(self) -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"dovecot exited: {self.process.stderr.read().decode()} {self.log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as probe:
                    if probe.recv(100).startswith(b"* OK"):
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"dovecot did not start: {self.log()}")

    def log(self) -> str:
        path = self.folder / "dovecot.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    def client(self) -> imaplib.IMAP4:
        imap = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        imap.login(USER, PASSWORD)
        return imap

    def append(self, raw: bytes, folder: str = "INBOX") -> None:
        imap = self.client()
        try:
            status, data = imap.append(folder, None, None, raw)
            if status != "OK":
                raise RuntimeError(f"APPEND failed: {data}")
        finally:
            imap.logout()

    def flags(self, folder: str = "INBOX") -> list[str]:
        """The flags of every message in `folder`, in UID order."""
        imap = self.client()
        try:
            imap.select(folder, readonly=True)
            _status, data = imap.uid("FETCH", "1:*", "(FLAGS)")
            return [item.decode().split("FLAGS (", 1)[1].split(")", 1)[0] for item in data if item]
        finally:
            imap.logout()

    def count(self, folder: str = "INBOX") -> int:
        imap = self.client()
        try:
            status, data = imap.select(folder, readonly=True)
            return int(data[0]) if status == "OK" else -1
        finally:
            imap.logout()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stderr:
            self.process.stderr.close()
