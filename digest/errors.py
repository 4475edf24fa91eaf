"""The one error tree of digest.

Library code raises these; only the CLI turns them into a one-line message on stderr and an
exit code, and `--verbose` adds the traceback. Each error carries enough context to be read
on its own, and a hint for the fix where there is one::

    DigestError                 exit 1: the operation failed
    ├── UsageError              exit 2: bad input from the user (arguments, files)
    │   ├── ConfigError         a settings or feeds file is missing or invalid
    │   ├── NotFoundError       an id, slug, number or address that does not exist
    │   ├── ValidationError     a value the user gave is not acceptable
    │   ├── TokenError          a signed link that is forged, altered, expired or misused
    │   └── NotReadyError       `digest check` finds a problem, so queueing or sending to
    │                           readers is refused (the folder needs fixing, not a retry)
    ├── DatabaseError           the database is unreachable, missing or on an old schema
    │   └── MissingDatabaseError  exit 2: the settings name a database file that does not exist
    ├── FeedError               a feed could not be fetched or parsed
    ├── RenderError             an issue could not be rendered
    ├── DeliveryError           a message could not be queued or delivered
    │   └── RelayError          the relay is failing, not a reader: the send pauses, all stays queued
    ├── MailboxError            the bounce mailbox (IMAP or Maildir) could not be read
    └── StateError              the operation does not fit the current state (e.g. queueing
                                an issue that is not ready)
"""

from __future__ import annotations


class DigestError(Exception):
    """Root of every error digest reports to a user."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def one_line(self) -> str:
        """The message as the CLI prints it: one line, hint appended."""
        text = " ".join(self.message.split())
        if self.hint:
            text += f" (hint: {' '.join(self.hint.split())})"
        return text

    def details(self) -> list[str]:
        """Further lines the CLI prints under the one line, one per item (empty for most
        errors; a file with several mistakes lists each, with its line)."""
        return []


class UsageError(DigestError):
    """The user asked for something malformed; fixing the input fixes it."""

    exit_code = 2


class ConfigError(UsageError):
    """A settings or feeds file is missing or invalid; names the file and the key."""

    def __init__(self, message: str, *, path: str | None = None, key: str | None = None,
                 hint: str | None = None) -> None:
        where = ": ".join(part for part in (path, key) if part)
        super().__init__(f"{where}: {message}" if where else message, hint=hint)
        self.path = path
        self.key = key


class NotFoundError(UsageError):
    """A tool, comparison, issue or subscriber named on the command line does not exist."""


class ValidationError(UsageError):
    """A value given by the user breaks a rule (too long, unknown reviewer, bad address)."""


class TokenError(UsageError):
    """A signed token failed verification; `reason` is invalid, expired or wrong-purpose."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class NotReadyError(UsageError):
    """The folder is not ready for real readers; `problems` are the lines `digest check` shows."""

    def __init__(self, message: str, *, problems: list[str], hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.problems = problems


class DatabaseError(DigestError):
    """The database cannot be used as it is (missing, unreachable, schema too old)."""


class MissingDatabaseError(DatabaseError):
    """The settings point at a database file that is not there (a wrong path, or a folder never
    initialised): input to fix, not a failure of the operation, so it exits 2."""

    exit_code = 2


class FeedError(DigestError):
    """A feed could not be fetched or parsed; carries the feed's name."""

    def __init__(self, message: str, *, feed: str | None = None, hint: str | None = None) -> None:
        super().__init__(f"feed {feed}: {message}" if feed else message, hint=hint)
        self.feed = feed


class RenderError(DigestError):
    """An issue could not be turned into email parts."""


class DeliveryError(DigestError):
    """Queueing or SMTP delivery failed as a whole (single deliveries record their own errors)."""


class RelayError(DeliveryError):
    """The relay, not a reader, is failing: it cannot be reached, refuses the session, the login,
    TLS or our sender address, or refuses reader after reader with nothing accepted between.

    The run stops; every delivery not accepted stays queued with no attempt or bounce charged,
    and the next `digest send` (or the scheduler, with backoff) resumes. `report` is what the
    run did before it stopped, when the sender raised it.
    """

    report: object | None = None


class MailboxError(DigestError):
    """The bounce mailbox could not be opened, logged into or read."""


class StateError(DigestError):
    """The operation does not fit the record's current state (e.g. queueing a draft)."""
