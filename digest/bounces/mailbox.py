"""The return mailbox: a local Maildir or an IMAP folder, read without losing or repeating.

A `Mailbox` yields new messages and is then told what became of each one:

    acted   a bounce or complaint that was recorded: marked seen (`after = "seen"`), moved
            to `move_to`, or deleted (`after = "delete"`, the only way anything is deleted)
    left    anything else (a reply, an auto-reply, an unmatched bounce): stays for the editor,
            unread, but is not offered again (Maildir: new/ to cur/ without the Seen flag;
            IMAP: the keyword `$DigestRead`)

The caller records a message in the database *before* telling the mailbox, so a crash in
between makes the next run offer it again, where its recorded key makes it a no-op.
"""

from __future__ import annotations

import contextlib
import imaplib
import os
import re
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from digest.errors import ConfigError, MailboxError

if TYPE_CHECKING:
    from digest.config import BounceSettings, Settings

MAX_MESSAGE = 10_000_000  # a larger message is left for the editor unread
KEYWORD = "$DigestRead"


@dataclass(frozen=True)
class Stored:
    """One message as the mailbox holds it: where it is and its bytes."""

    location: str
    raw: bytes


class Mailbox(Protocol):
    def messages(self, limit: int) -> Iterator[Stored]: ...

    def done(self, message: Stored, *, acted: bool) -> None: ...

    def close(self) -> None: ...


def open_mailbox(settings: Settings) -> Mailbox:
    """The configured mailbox; ConfigError when none is set, MailboxError when it cannot be opened."""
    bounces = settings.bounces
    if bounces.maildir:
        return MaildirBox(settings.home / bounces.maildir, after=bounces.after, move_to=bounces.move_to)
    if bounces.imap_host:
        return ImapBox(bounces, ca_file=settings.home / bounces.imap_ca_file if bounces.imap_ca_file else None)
    raise ConfigError("no bounce mailbox is configured", key="bounces.maildir",
                      hint="set [bounces] maildir or imap_host in digest.toml (see docs/operating.md)")


# --- Maildir ----------------------------------------------------------------------------------

class MaildirBox:
    """A Maildir (what Postfix, Exim or a relay's local delivery writes): new/ is what is new."""

    def __init__(self, path: Path, *, after: str = "seen", move_to: str = "digest-processed") -> None:
        if not (path / "new").is_dir() or not (path / "cur").is_dir():
            raise MailboxError(f"{path} is not a Maildir (no new/ and cur/ in it)",
                               hint="point [bounces] maildir at the folder the relay delivers to")
        self.path = path
        self.after = after
        self.move_to = move_to

    def messages(self, limit: int) -> Iterator[Stored]:
        names = sorted(name for name in os.listdir(self.path / "new") if not name.startswith("."))
        for name in names[:limit]:
            file = self.path / "new" / name
            try:
                if file.stat().st_size > MAX_MESSAGE:
                    self.done(Stored(name, b""), acted=False)
                    continue
                raw = file.read_bytes()
            except FileNotFoundError:  # another reader took it
                continue
            yield Stored(name, raw)

    def done(self, message: Stored, *, acted: bool) -> None:
        """File the message away. A message already gone from new/ was filed by another reader
        (two `digest bounces` runs at once); its event row is keyed, so nothing is counted twice."""
        source = self.path / "new" / message.location
        base = message.location.split(":", 1)[0]
        with contextlib.suppress(FileNotFoundError):
            if not acted:
                os.replace(source, self.path / "cur" / f"{base}:2,")
            elif self.after == "delete":
                source.unlink()
            elif self.after == "move":
                folder = self.path / f".{self.move_to}"
                for sub in ("tmp", "new", "cur"):
                    (folder / sub).mkdir(parents=True, exist_ok=True)
                os.replace(source, folder / "cur" / f"{base}:2,S")
            else:
                os.replace(source, self.path / "cur" / f"{base}:2,S")

    def close(self) -> None:
        return None


# --- IMAP -------------------------------------------------------------------------------------

_UIDVALIDITY = re.compile(rb"UIDVALIDITY (\d+)")


class ImapBox:
    """An IMAP folder (imaplib): TLS, STARTTLS or, for loopback only, plain; LOGIN auth.

    Messages are fetched with BODY.PEEK so reading never marks anything seen by itself.
    """

    def __init__(self, bounces: BounceSettings, *, ca_file: Path | None = None, timeout: float = 30.0) -> None:
        self.settings = bounces
        self.after = bounces.after
        security = bounces.imap_security
        port = bounces.imap_port or (993 if security == "tls" else 143)
        host = bounces.imap_host
        if security == "plain" and not _is_loopback(host):
            raise ConfigError("plain IMAP would send the password in the clear; it is allowed on loopback only",
                              key="bounces.imap_security", hint='use "tls" or "starttls"')
        context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
        try:
            if security == "tls":
                self.imap: imaplib.IMAP4 = imaplib.IMAP4_SSL(host, port, ssl_context=context, timeout=timeout)
            else:
                self.imap = imaplib.IMAP4(host, port, timeout=timeout)
                if security == "starttls":
                    self.imap.starttls(ssl_context=context)
            self.imap.login(bounces.imap_user, bounces.imap_password)
            status, data = self.imap.select(_quote(bounces.imap_folder))
            if status != "OK":
                raise MailboxError(f"IMAP folder {bounces.imap_folder!r} cannot be opened: {_text(data)}")
        except imaplib.IMAP4.error as exc:
            self._abandon()
            raise MailboxError(f"IMAP {host}:{port}: {_short(exc)}",
                               hint="check [bounces] imap_user and DIGEST_BOUNCES_IMAP_PASSWORD") from None
        except (OSError, ssl.SSLError) as exc:
            self._abandon()
            raise MailboxError(f"IMAP {host}:{port} is unreachable: {_short(exc)}") from None
        except MailboxError:
            self._abandon()
            raise
        self.capabilities = {c.upper() for c in self.imap.capabilities}

    def _abandon(self) -> None:
        try:
            self.imap.shutdown()
        except Exception:  # noqa: S110 - best effort on a connection that already failed
            pass

    def _call(self, *args: str) -> list:
        try:
            status, data = self.imap.uid(*args)
        except (imaplib.IMAP4.error, OSError) as exc:
            raise MailboxError(f"IMAP {args[0]} failed: {_short(exc)}") from None
        if status != "OK":
            raise MailboxError(f"IMAP {args[0]} failed: {_text(data)}")
        return data

    def messages(self, limit: int) -> Iterator[Stored]:
        data = self._call("SEARCH", "UNKEYWORD", KEYWORD, "UNDELETED")
        uids = [uid.decode("ascii") for uid in (data[0] or b"").split()]
        for uid in uids[:limit]:
            fetched = self._call("FETCH", uid, "(RFC822.SIZE BODY.PEEK[])")
            raw = next((item[1] for item in fetched if isinstance(item, tuple)), None)
            if raw is None:  # expunged meanwhile
                continue
            if len(raw) > MAX_MESSAGE:
                self.done(Stored(uid, b""), acted=False)
                continue
            yield Stored(uid, raw)

    def done(self, message: Stored, *, acted: bool) -> None:
        uid = message.location
        if not acted:
            self._call("STORE", uid, "+FLAGS.SILENT", f"({KEYWORD})")
        elif self.after == "move":
            self._move(uid)
        elif self.after == "delete":
            self._call("STORE", uid, "+FLAGS.SILENT", "(\\Deleted)")
            if "UIDPLUS" in self.capabilities:
                self._call("EXPUNGE", uid)
            else:
                self.imap.expunge()
        else:
            self._call("STORE", uid, "+FLAGS.SILENT", f"(\\Seen {KEYWORD})")

    def _move(self, uid: str) -> None:
        folder = _quote(self.settings.move_to)
        self.imap.create(folder)  # fails harmlessly when it exists
        self._call("STORE", uid, "+FLAGS.SILENT", f"(\\Seen {KEYWORD})")
        if "MOVE" in self.capabilities:
            self._call("MOVE", uid, folder)
            return
        self._call("COPY", uid, folder)
        self._call("STORE", uid, "+FLAGS.SILENT", "(\\Deleted)")
        if "UIDPLUS" in self.capabilities:
            self._call("EXPUNGE", uid)
        else:
            self.imap.expunge()

    def close(self) -> None:
        try:
            self.imap.close()
            self.imap.logout()
        except (imaplib.IMAP4.error, OSError):
            pass


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        try:
            return all(ipaddress.ip_address(info[4][0]).is_loopback for info in socket.getaddrinfo(host, None))
        except OSError:
            return False


def _text(data: object) -> str:
    if isinstance(data, list) and data and isinstance(data[0], bytes):
        return data[0].decode("utf-8", "replace")
    return str(data)


def _short(exc: BaseException) -> str:
    text = str(exc)
    if text.startswith("b'") or text.startswith('b"'):
        text = text[2:-1]
    return " ".join(text.split())[:300] or type(exc).__name__
