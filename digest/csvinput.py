"""A CSV file handed to the CLI, read as a stream with bounds, whatever the file really is.

A list of addresses is a small text file, but the path given may name anything: `/dev/zero`,
a multi-gigabyte dump, a file of one endless line, a binary. So the file is never read whole:
lines come one at a time, each capped at `Limits.line_bytes`; the whole is capped at
`Limits.file_bytes` (up front from the size of a regular file, while reading for a device or a
pipe); and the caller stops at `Limits.rows` rows (after a header), which bounds what it keeps
in memory. Every breach is a ValidationError naming the file and the line, raised before the
caller writes.

Each line is decoded on its own: UTF-8 (a leading BOM dropped), else cp1252, which spreadsheets
on Windows write. Control characters other than tab and line breaks do not occur in a CSV
text file, so a line holding one (or, in cp1252, a byte that cp1252 leaves undefined) is
refused as binary.
"""

from __future__ import annotations

import csv
import io
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from digest.errors import NotFoundError, ValidationError

_BINARY = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
_BINARY_CP1252 = re.compile(r"[\x00-\x08\x0e-\x1f\x7f\ufffd]")
_SNIFF_CHARS = 8192
_HINT = "export the list as CSV with an email column"
SPLIT_HINT = "split a larger list into parts and import each"


@dataclass(frozen=True)
class Limits:
    """Bounds on one file. The defaults take a million-reader export with room to spare."""

    line_bytes: int = 64 * 1024  # an exported row is ~150 bytes; a name or attribute column adds a little
    file_bytes: int = 1024 ** 3  # 1 GiB
    rows: int = 1_000_000  # enforced by the caller, which knows whether the first row is a header


class CsvInput:
    """One CSV file: `rows()` streams its non-blank rows; `encoding` says how its lines read
    ("cp1252" once any line needed it)."""

    def __init__(self, path: Path, limits: Limits = Limits()) -> None:
        self.path = path
        self.limits = limits
        self.encoding = "utf-8"

    def fail(self, message: str, *, hint: str | None = _HINT) -> ValidationError:
        return ValidationError(f"{self.path}: {message}", hint=hint)

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """(line number where the row starts, cells) for each row with a non-blank cell.

        Separator `,` `;` or tab, sniffed from the first lines. Raises NotFoundError for a
        missing file and ValidationError for an unreadable, binary, oversized or malformed one.
        """
        with self._open() as handle:
            lines = self._lines(handle)
            sample: list[str] = []
            for line in lines:
                sample.append(line)
                if sum(map(len, sample)) >= _SNIFF_CHARS:
                    break
            yield from self._parse(sample, lines)

    def _open(self) -> BinaryIO:
        try:
            handle = self.path.open("rb")
        except FileNotFoundError:
            raise NotFoundError(f"{self.path}: no such file") from None
        except OSError as exc:
            raise ValidationError(f"{self.path}: cannot read: {exc.strerror}") from None
        info = os.fstat(handle.fileno())
        if stat.S_ISREG(info.st_mode) and info.st_size > self.limits.file_bytes:
            handle.close()
            raise self.fail(f"larger than {_size(self.limits.file_bytes)}; this is not a list of addresses",
                            hint=SPLIT_HINT)
        return handle

    def _lines(self, handle: BinaryIO) -> Iterator[str]:
        """Decoded lines with their endings, a lone CR counting as a line break as well."""
        limits, total, number = self.limits, 0, 0
        while True:
            try:
                raw = handle.readline(limits.line_bytes + 1)
            except OSError as exc:
                raise ValidationError(f"{self.path}: cannot read: {exc.strerror}") from None
            if not raw:
                return
            number += 1
            total += len(raw)
            if len(raw) > limits.line_bytes and not raw.endswith(b"\n"):
                raise self.fail(f"line {number} is longer than {_size(limits.line_bytes)}; "
                                "this is not a CSV text file")
            if total > limits.file_bytes:
                raise self.fail(f"larger than {_size(limits.file_bytes)} by line {number}; "
                                "this is not a list of addresses", hint=SPLIT_HINT)
            text = self._decode(raw, first=number == 1, number=number)
            if "\r" in text.rstrip("\r\n"):
                yield from io.StringIO(text, newline="")
            else:
                yield text

    def _decode(self, raw: bytes, *, first: bool, number: int) -> str:
        try:
            text, binary = raw.decode("utf-8-sig" if first else "utf-8"), _BINARY
        except UnicodeDecodeError:
            text, binary = raw.decode("cp1252", errors="replace"), _BINARY_CP1252
            self.encoding = "cp1252"
        if binary.search(text):
            raise self.fail(f"line {number} holds binary data; this is not a CSV text file")
        return text

    def _parse(self, sample: list[str], rest: Iterator[str]) -> Iterator[tuple[int, list[str]]]:
        import itertools

        try:
            dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff("".join(sample), delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        reader = csv.reader(itertools.chain(sample, rest), dialect)
        line = 1
        try:
            for row in reader:
                start, line = line, reader.line_num + 1
                if any(cell.strip() for cell in row):
                    yield start, row
        except csv.Error as exc:
            raise ValidationError(f"{self.path}: not a readable CSV file: {exc}") from None


def _size(count: int) -> str:
    for unit, scale in (("GiB", 1024 ** 3), ("MiB", 1024 ** 2), ("KiB", 1024)):
        if count >= scale and count % scale == 0:
            return f"{count // scale} {unit}"
    return f"{count:,} bytes"
