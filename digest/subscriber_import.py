"""`subscribers import`: a CSV file of addresses in, without reversing anyone's consent.

The file is streamed and bounded (`digest.csvinput`). A `status` column, as `subscribers export`
writes it, is honoured: an address the file says left (unsubscribed, bounced, complained) is
recorded with that status and suppressed in this folder, a pending one stays pending, an active
one (or one without a status) is added active, or pending with `pending=True`. Nothing the
import does mails anyone who has not agreed:

* an address suppressed in this folder is never brought back, whatever the file says;
* a subscriber here that the file says left is suppressed now (leaving wins over staying);
* a subscriber here is otherwise left as it is: a pending one is not activated.

All or nothing: an invalid address or status refuses the whole file unless `skip_invalid`, and
the caller's transaction holds every write.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlmodel import Session

from digest.csvinput import SPLIT_HINT, CsvInput, Limits
from digest.errors import ValidationError
from digest.wording import count
from digest.models import Subscriber, SubscriberStatus, Suppression, utcnow
from digest.audience import SUPPRESSED_STATUSES, check_address
from digest.subscribers import check_status

_EMAIL_HEADERS = {"email", "e-mail", "email address", "e-mail address", "mail", "address", "emailaddress"}
_STATUS_HEADERS = {"status", "subscriber status"}
_ORDER = ("active", "pending", "unsubscribed", "bounced", "complained")  # how reports list the statuses
_CHUNK = 500  # keys per IN (...) lookup, rows per INSERT: well under SQLite's variable limit


@dataclass
class ImportReport:
    """What an import did. `imported` holds the new subscribers per status; `left`, those already
    here that the file says left (now suppressed); `suppressed`, the addresses skipped because
    they are suppressed here; `invalid`, (line number, text, reason)."""

    imported: dict[str, list[str]] = field(default_factory=lambda: {status: [] for status in _ORDER})
    left: list[str] = field(default_factory=list)
    suppressed: list[str] = field(default_factory=list)
    already_present: list[str] = field(default_factory=list)
    invalid: list[tuple[int, str, str]] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    header: bool = False
    status_column: str | None = None
    encoding: str = "utf-8"
    committed: bool = False

    @property
    def added(self) -> list[str]:
        return [email for emails in self.imported.values() for email in emails]

    def summary(self) -> str:
        """One line: "imported 3: 1 active, 1 pending, 1 unsubscribed; skipped 2 suppressed; …"."""
        counts = ", ".join(f"{len(emails)} {status}" for status, emails in self.imported.items() if emails)
        parts = [f"imported {len(self.added)}" + (f": {counts}" if counts else "")]
        if self.left:
            parts.append(f"suppressed {len(self.left)} already here that the file says left")
        parts += [f"skipped {len(self.suppressed)} suppressed", f"{len(self.already_present)} already present",
                  f"{len(self.invalid)} invalid"]
        return "; ".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {"committed": self.committed, "added": self.added, "imported": self.imported, "left": self.left,
                "suppressed": self.suppressed, "already_present": self.already_present,
                "invalid": [{"line": line, "text": text, "reason": reason} for line, text, reason in self.invalid],
                "header": self.header, "status_column": self.status_column,
                "ignored_columns": self.ignored_columns, "encoding": self.encoding}


# What the file asks for one address, by its key: (the address as stored, the status or None
# when the file gives none). A plain tuple, the address sharing the key's string when they are
# equal: a million of them is what the import holds in memory between reading and writing.
_Wanted = tuple[str, "str | None"]


def _columns(first: list[str], second: list[str] | None) -> tuple[bool, int | None, int | None]:
    """(has a header row, index of the address column, index of the status column)."""
    names = [cell.strip().lower() for cell in first]
    status = next((i for i, name in enumerate(names) if name in _STATUS_HEADERS), None)
    for index, name in enumerate(names):
        if name in _EMAIL_HEADERS:
            return True, index, status
    header = not any("@" in cell for cell in first)
    probe = second if header and second is not None else first
    column = next((i for i, cell in enumerate(probe) if "@" in cell), None)
    return header, column, status if header else None


def _read(source: CsvInput, report: ImportReport) -> dict[str, _Wanted]:
    """The file's addresses by key, checked; bad rows go to `report.invalid`."""
    import itertools

    rows = source.rows()
    first, second = next(rows, None), next(rows, None)
    if first is None:
        raise ValidationError(f"{source.path}: the file is empty; there is nothing to import")
    report.header, column, status_column = _columns(first[1], second[1] if second else None)
    if column is None:
        raise ValidationError(f"{source.path}: no email column: none is headed email and none holds an address "
                              f"on line {first[0]} or the next", hint="the file needs a column of addresses, headed email")
    if report.header:
        report.status_column = first[1][status_column].strip() if status_column is not None else None
        report.ignored_columns = [cell.strip() for i, cell in enumerate(first[1])
                                  if i not in (column, status_column) and cell.strip()]
    elif len(first[1]) > 1:
        report.ignored_columns = [f"column {i + 1}" for i in range(len(first[1])) if i != column]
    wanted: dict[str, _Wanted] = {}
    held = ([] if report.header else [first]) + ([second] if second else [])
    for count, (line, row) in enumerate(itertools.chain(held, rows), start=1):
        if count > source.limits.rows:
            raise source.fail(f"more than {source.limits.rows:,} addresses by line {line}",
                              hint=SPLIT_HINT)
        _take(wanted, report, line, row, column, status_column)
    report.encoding = source.encoding
    return wanted


def _take(wanted: dict[str, _Wanted], report: ImportReport, line: int, row: list[str], column: int,
          status_column: int | None) -> None:
    text = row[column] if column < len(row) else ""
    cell = row[status_column].strip() if status_column is not None and status_column < len(row) else ""
    try:
        address = check_address(text)
        status = check_status(cell) if cell else None
    except ValidationError as exc:
        report.invalid.append((line, text.strip(), exc.message))
        return
    seen = wanted.get(address.key)
    if seen is None:
        wanted[address.key] = (address.key if address.email == address.key else address.email, status)
        return
    report.already_present.append(address.email)
    if status in SUPPRESSED_STATUSES and seen[1] not in SUPPRESSED_STATUSES:
        wanted[address.key] = (seen[0], status)  # listed twice: leaving wins


def import_subscribers(*, session: Session, path: Path, pending: bool = False, skip_invalid: bool = False,
                       source: str = "import", limits: Limits = Limits()) -> ImportReport:
    """Import a CSV file of addresses, honouring its status column: all or nothing.

    Raises NotFoundError for a missing file, ValidationError for a file that is not a bounded
    CSV text with an address column, or (unless `skip_invalid`) for invalid rows, naming the
    lines; nothing is written then. The caller commits; `report.committed` says whether rows
    were meant to be written.
    """
    report = ImportReport()
    wanted = _read(CsvInput(path, limits), report)
    if report.invalid and not skip_invalid:
        shown = "; ".join(f"line {line}: {reason}" for line, _text, reason in report.invalid[:3])
        more = f" (and {len(report.invalid) - 3} more)" if len(report.invalid) > 3 else ""
        raise ValidationError(f"{path.name}: {count(len(report.invalid), 'invalid row')}, nothing imported: {shown}{more}",
                              hint="fix the rows, or add --skip-invalid to import the valid ones")
    keys = list(wanted)
    for start in range(0, len(keys), _CHUNK):
        _apply(session, {key: wanted[key] for key in keys[start:start + _CHUNK]}, report,
               pending=pending, source=source)
    report.committed = True
    return report


def _apply(session: Session, chunk: dict[str, _Wanted], report: ImportReport, *, pending: bool,
           source: str) -> None:
    """Decide and write one chunk of addresses (see the module docstring for the rules)."""
    from digest.db import insert_ignore

    connection = session.connection()
    keys = list(chunk)
    existing = {key: (email, status) for key, email, status in connection.execute(
        select(Subscriber.email_key, Subscriber.email, Subscriber.status).where(Subscriber.email_key.in_(keys)))}
    suppressed = set(connection.execute(select(Suppression.email_key).where(Suppression.email_key.in_(keys))).scalars())
    default = SubscriberStatus.PENDING.value if pending else SubscriberStatus.ACTIVE.value
    now = utcnow()
    new_rows: list[dict[str, Any]] = []
    suppressions: list[dict[str, Any]] = []
    leaving: dict[str, list[str]] = {}
    for key, (email, asked) in chunk.items():
        status = asked or default
        if pending and status == SubscriberStatus.ACTIVE:
            status = SubscriberStatus.PENDING.value
        here = existing.get(key)
        blocked = key in suppressed or (here is not None and here[1] in SUPPRESSED_STATUSES)
        leaves = status in SUPPRESSED_STATUSES
        if leaves:
            suppressions.append({"email_key": key, "reason": status, "created_at": now})
        elif blocked:
            if key not in suppressed:  # left before suppressions were kept: keep one now
                suppressions.append({"email_key": key, "reason": here[1], "created_at": now})
            report.suppressed.append(here[0] if here else email)
            continue
        if here is None:
            new_rows.append({"email": email, "email_key": key, "status": status, "source": source,
                             "created_at": now, "confirmed_at": now if status == SubscriberStatus.ACTIVE else None,
                             "unsubscribed_at": now if leaves else None, "bounce_count": 0})
            report.imported[status].append(email)
        elif leaves and not blocked:
            leaving.setdefault(status, []).append(key)
            report.left.append(here[0])
        else:
            report.already_present.append(here[0])
    if suppressions:
        insert_ignore(connection, Suppression, suppressions, conflict=["email_key"])
    if new_rows:
        # A row that appeared meanwhile (a concurrent sign-up) is left alone.
        insert_ignore(connection, Subscriber, new_rows, conflict=["email_key"])
    for status, leaving_keys in leaving.items():
        connection.execute(update(Subscriber).where(Subscriber.email_key.in_(leaving_keys))
                           .values(status=status, unsubscribed_at=now))
