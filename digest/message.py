"""Email messages built from an issue's rendered parts: encoded once, personalised by substitution.

Building a 100 KB multipart message with the standard library's EmailMessage for every
subscriber re-encodes the whole HTML each time (about 100 messages/s). Instead a
`MessageTemplate` encodes the parts once, splits them at the link placeholders of
`digest.links`, and `personalise` only joins bytes around the subscriber's values: tens of
thousands of messages per second. The preview (`sample.eml`), proofs and the sender all call
this same code, so what the editor checks is what readers get.

Wire format: CRLF line endings, every line under SMTP's 998-octet limit after substitution,
the HTML part 7bit when it is ASCII (render emits entities) and 8bit otherwise, the text part
UTF-8 8bit. A part that cannot be folded safely falls back to base64 (placeholders are then
substituted before encoding, on the slow path). For a server without 8BITMIME,
`personalise(seven_bit=True)` re-encodes the 8bit parts as quoted-printable, also on the slow
path. DKIM signing, when configured, wraps the result (after any such re-encoding).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import html
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, parseaddr

from digest.errors import DeliveryError
from digest.links import MAX_LINK_LENGTH, UNSUBSCRIBE, Placeholders

DELIVERY_HEADER = "X-Digest-Delivery"
_FOLD_AT = 780  # octets; leaves room for placeholders to grow within the 998 limit
_CRLF = b"\r\n"


def _crlf(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n")


def _fold_line(line: str, pattern: re.Pattern[str]) -> list[str] | None:
    """Split an over-long line at a space or after a tag's '>'; None if it cannot be done.

    Replacing a space by a line break, or breaking between tags, changes nothing a reader
    sees in HTML or text; a placeholder is never split.
    """
    pieces: list[str] = []
    while _weight(line, pattern) > _FOLD_AT:
        cut = _cut_point(line, pattern)
        if cut is None:
            return None
        pieces.append(line[:cut])
        line = line[cut + 1:] if line[cut] == " " else line[cut:]
    pieces.append(line)
    return pieces


def _weight(line: str, pattern: re.Pattern[str]) -> int:
    """Length the line may reach once its placeholders are replaced by links."""
    extra = sum(MAX_LINK_LENGTH - len(m.group(0)) for m in pattern.finditer(line))
    return len(line.encode("utf-8")) + extra


def _cut_point(line: str, pattern: re.Pattern[str]) -> int | None:
    """The largest cut index whose head fits: at a space (dropped) or just after a '>'."""
    spans = [(m.start(), m.end()) for m in pattern.finditer(line)]
    for cut in range(min(len(line) - 1, _FOLD_AT), 0, -1):
        if not (line[cut] == " " or line[cut - 1] == ">"):
            continue
        if any(start < cut < end for start, end in spans):
            continue
        if _weight(line[:cut], pattern) <= _FOLD_AT:
            return cut
    return None


def _fold(text: str, pattern: re.Pattern[str]) -> str | None:
    out: list[str] = []
    for line in _crlf(text).split("\r\n"):
        folded = _fold_line(line, pattern)
        if folded is None:
            return None
        out.extend(folded)
    return "\r\n".join(out)


@dataclass(frozen=True)
class _Part:
    content_type: str
    text: str
    escape: bool  # values are HTML-escaped when substituted into this part


class MessageTemplate:
    """One issue's message, encoded once; `personalise` makes each subscriber's bytes."""

    def __init__(self, *, subject: str, sender: str, html_body: str, text_body: str, list_id: str,
                 placeholders: Placeholders, reply_to: str = "", unsubscribe_mailto: str = "",
                 extra_headers: Iterable[tuple[str, str]] = ()) -> None:
        """`placeholders` are the parts' own (their render's nonce): only those are filled."""
        self.subject = subject
        self._pattern = placeholders.pattern
        self.sender = sender
        self.unsubscribe_mailto = unsubscribe_mailto
        parts = [_Part("text/plain", text_body, escape=False), _Part("text/html", html_body, escape=True)]
        digest = hashlib.sha256((text_body + "\x00" + html_body).encode("utf-8")).hexdigest()[:24]
        self.boundary = f"=_digest_{digest}"
        self.placeholders: set[str] = set()
        for part in parts:
            self.placeholders.update(self._pattern.findall(part.text))
        self._static_headers = self._encode_static_headers(subject=subject, sender=sender, list_id=list_id,
                                                           reply_to=reply_to, extra=tuple(extra_headers))
        self._parts = parts
        segments, self.eight_bit = self._encode_body(parts, seven_bit=False)
        self._plan = _plan(segments)
        self._plan_7bit: tuple[list[bytes | int], list[tuple[str, bool]]] | None = None
        self.dot_safe, self._line_start_names = _dot_safety(segments)

    # --- build time ---------------------------------------------------------------------

    def _encode_static_headers(self, *, subject: str, sender: str, list_id: str, reply_to: str,
                               extra: tuple[tuple[str, str], ...]) -> bytes:
        message = EmailMessage(policy=SMTP)
        message["From"] = sender
        if reply_to:
            message["Reply-To"] = reply_to
        message["Subject"] = subject
        message["MIME-Version"] = "1.0"
        message["List-Id"] = list_id
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        for name, value in extra:
            message[name] = value
        message["Content-Type"] = f'multipart/alternative; boundary="{self.boundary}"'
        head = message.as_bytes()
        return head[: head.index(b"\r\n\r\n") + 2]

    def _encode_body(self, parts: list[_Part], *, seven_bit: bool) -> tuple[list[bytes | tuple[str, bool]], bool]:
        """Body as literal byte runs and (placeholder, escape) slots, in order; and whether any
        part is 8bit. With `seven_bit`, 8bit parts become quoted-printable slow-path slots."""
        segments: list[bytes | tuple[str, bool]] = []
        eight_bit = False
        for index, part in enumerate(parts):
            folded = _fold(part.text, self._pattern)
            head = f"--{self.boundary}\r\nContent-Type: {part.content_type}; charset=\"utf-8\"\r\n"
            if folded is None or (seven_bit and not folded.isascii()):
                encoding = "base64" if folded is None else "quoted-printable"
                segments.append(head.encode("ascii"))
                segments.append((f"\x00slow:{encoding}:{index}", False))
                continue
            cte = "7bit" if folded.isascii() else "8bit"
            eight_bit = eight_bit or cte == "8bit"
            segments.append(f"{head}Content-Transfer-Encoding: {cte}\r\n\r\n".encode("ascii"))
            position = 0
            for match in self._pattern.finditer(folded):
                segments.append(folded[position:match.start()].encode("utf-8"))
                segments.append((match.group(1), part.escape))
                position = match.end()
            segments.append(folded[position:].encode("utf-8") + _CRLF)
        segments.append(f"--{self.boundary}--\r\n".encode("ascii"))
        merged: list[bytes | tuple[str, bool]] = []
        for segment in segments:
            if isinstance(segment, bytes) and merged and isinstance(merged[-1], bytes):
                merged[-1] = merged[-1] + segment
            else:
                merged.append(segment)
        return merged, eight_bit

    # --- per message ----------------------------------------------------------------------

    def personalise(self, *, to: str, values: Mapping[str, str], message_id: str,
                    date: str | None = None, seven_bit: bool = False, delivery_tag: str = "") -> bytes:
        """The complete message for one subscriber, as bytes with CRLF line endings.

        `values` must hold every placeholder the parts use; `message_id` is without brackets
        and should be stable per delivery so a retried send carries the same id.
        `delivery_tag` (see `Signer.delivery_tag`) goes in `X-Digest-Delivery`, which comes
        back inside bounces and complaints and says, signed, which delivery they are about.
        `seven_bit=True` is for servers without 8BITMIME: 8bit parts go quoted-printable
        (slower). Raises DeliveryError when a placeholder has no value.
        """
        missing = self.placeholders - values.keys()
        if missing:
            raise DeliveryError(f"no value for link placeholder(s): {', '.join(sorted(missing))}")
        for name in self._line_start_names:  # keeps `dot_safe` true: see _dot_safety
            if values[name].startswith("."):
                raise DeliveryError(f"the value of {name} would start a line with a dot")
        unsubscribe = values.get(UNSUBSCRIBE, "")
        head = [
            b"Date: ", (date or formatdate()).encode("ascii"), _CRLF,
            _to_header(to),
            b"Message-ID: <", message_id.encode("ascii"), b">", _CRLF,
        ]
        if delivery_tag:
            head += [DELIVERY_HEADER.encode("ascii"), b": ", delivery_tag.encode("ascii"), _CRLF]
        if unsubscribe:
            head += [b"List-Unsubscribe: <", unsubscribe.encode("ascii"), b">"]
            if self.unsubscribe_mailto:
                head += [b",", _CRLF, b" <mailto:", self.unsubscribe_mailto.encode("ascii"), b">"]
            head.append(_CRLF)
        head.append(self._static_headers)
        head.append(_CRLF)
        plan = self._plan
        if seven_bit and self.eight_bit:
            if self._plan_7bit is None:
                self._plan_7bit = _plan(self._encode_body(self._parts, seven_bit=True)[0])
            plan = self._plan_7bit
        segments, slots = plan
        chunks: list[bytes] = []  # each (value, escaping) encoded once per message
        for name, escape in slots:
            if name.startswith("\x00slow:"):
                chunks.append(self._slow_part(name[6:], values))
                continue
            value = values[name]
            if escape and ("&" in value or "<" in value or ">" in value or '"' in value or "'" in value):
                value = html.escape(value, quote=True)  # links rarely need it: checking is cheaper
            chunks.append(value.encode("utf-8"))
        head.extend([segment if segment.__class__ is bytes else chunks[segment] for segment in segments])
        return b"".join(head)

    def _slow_part(self, slot: str, values: Mapping[str, str]) -> bytes:
        encoding, _, index = slot.partition(":")
        part = self._parts[int(index)]
        quote = html.escape if part.escape else (lambda v: v)
        text = self._pattern.sub(lambda m: quote(values[m.group(1)]), part.text)
        if encoding == "quoted-printable":
            text = text.replace("\r\n", "\n").replace("\r", "\n")
            encoded = binascii.b2a_qp(text.encode("utf-8"), istext=True).replace(b"\n", _CRLF)
            if not encoded.endswith(_CRLF):
                encoded += _CRLF
        else:
            encoded = base64.encodebytes(text.encode("utf-8")).replace(b"\n", _CRLF)
        return f"Content-Transfer-Encoding: {encoding}\r\n\r\n".encode("ascii") + encoded


def _dot_safety(segments: list[bytes | tuple[str, bool]]) -> tuple[bool, tuple[str, ...]]:
    """Whether no line of the body can start with "." (so SMTP needs no dot-stuffing), and the
    placeholders that start a line (`personalise` refuses a value there that starts with ".").

    Headers never start a line with a dot; base64 and quoted-printable parts (the slow path)
    are left to the transport to stuff.
    """
    line_start = True
    names: list[str] = []
    for segment in segments:
        if isinstance(segment, bytes):
            if (line_start and segment.startswith(b".")) or b"\n." in segment:
                return False, ()
            line_start = segment.endswith(b"\n")
        else:
            if segment[0].startswith("\x00slow:"):
                return False, ()
            if line_start:
                names.append(segment[0])
            line_start = False
    return True, tuple(dict.fromkeys(names))


def _plan(segments: list[bytes | tuple[str, bool]]) -> tuple[list[bytes | int], list[tuple[str, bool]]]:
    """Segments with each slot replaced by the index of its (name, escape) in the slot list."""
    slots: list[tuple[str, bool]] = []
    index: dict[tuple[str, bool], int] = {}
    planned: list[bytes | int] = []
    for segment in segments:
        if isinstance(segment, bytes):
            planned.append(segment)
        else:
            planned.append(index.setdefault(segment, len(slots)))
            if len(slots) < len(index):
                slots.append(segment)
    return planned, slots


def _to_header(address: str) -> bytes:
    if address.isascii() and "\r" not in address and "\n" not in address:
        return b"To: " + address.encode("ascii") + _CRLF
    message = EmailMessage(policy=SMTP)
    message["To"] = address
    head = message.as_bytes()
    return head[: head.index(b"\r\n\r\n") + 2]


def message_id_for(*, issue_number: int, delivery_id: int, domain: str, salt: str = "") -> str:
    """A Message-ID stable for one delivery, so a retry after a crash carries the same id."""
    tag = hashlib.sha256(f"{salt}:{issue_number}:{delivery_id}".encode()).hexdigest()[:12]
    return f"digest.{issue_number}.{delivery_id}.{tag}@{domain}"


def verp_address(return_path: str, tag: str) -> str:
    """The VERP return path of one delivery: `bounces@example.org` becomes
    `bounces+<tag>@example.org`, so the bounce is addressed to the delivery it is about."""
    local, _, domain = return_path.partition("@")
    return f"{local}+{tag}@{domain}"


def sender_domain(sender: str) -> str:
    """The domain of the From address, for Message-IDs and List-Id."""
    address = parseaddr(sender)[1]
    return address.rpartition("@")[2] or "localhost"


class DkimSigner:
    """Signs finished messages with DKIM (dkimpy, relaxed/relaxed, rsa-sha256)."""

    HEADERS = (b"From", b"To", b"Subject", b"Date", b"Message-ID", b"MIME-Version", b"Content-Type",
               b"List-Id", b"List-Unsubscribe", b"List-Unsubscribe-Post", b"Reply-To")

    def __init__(self, *, domain: str, selector: str, private_key: bytes) -> None:
        import dkim

        self._sign = dkim.sign
        self.domain = domain.encode("ascii")
        self.selector = selector.encode("ascii")
        self.private_key = private_key

    def sign(self, message: bytes) -> bytes:
        try:
            header = self._sign(message, self.selector, self.domain, self.private_key,
                                canonicalize=(b"relaxed", b"relaxed"), include_headers=list(self.HEADERS))
        except Exception as exc:  # dkimpy raises its own DKIMException and key errors
            raise DeliveryError(f"DKIM signing failed: {exc}") from None
        return header.replace(b"\n", b"\r\n").replace(b"\r\r\n", b"\r\n") + message



def list_id_for(name: str, sender: str) -> str:
    """The List-Id (RFC 2919): the newsletter's name and `<sender local part>.<sender domain>`."""
    local = parseaddr(sender)[1].partition("@")[0] or "digest"
    label = name.replace('"', "").replace("<", "").replace(">", "").strip()
    return f"{label} <{local}.{sender_domain(sender)}>"


def issue_template(settings, *, subject: str, html_body: str, text_body: str,  # noqa: ANN001
                   placeholders: Placeholders) -> MessageTemplate:
    """The MessageTemplate of an issue as readers get it, from the newsletter's settings.

    The sender, proofs and the preview (`sample.eml`) all build messages through this, so
    From, Reply-To, List-Id and the mailto unsubscribe address are the same everywhere.
    """
    address = parseaddr(settings.sender)[1] or "newsletter@localhost"
    return MessageTemplate(subject=subject, sender=settings.sender, html_body=html_body, text_body=text_body,
                           placeholders=placeholders,
                           list_id=list_id_for(settings.name, settings.sender), reply_to=settings.reply_to,
                           unsubscribe_mailto=f"{address}?subject=unsubscribe")
