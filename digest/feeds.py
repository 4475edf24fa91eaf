"""Parse: feed bytes -> normalised entries, one per tool launch.

`parse_feed` is the CPU-heavy step of a poll and runs in worker processes, so it takes and
returns plain picklable values. It never trusts the document:

* Bytes are data: feedparser gets them as a file object (`io.BytesIO`), never as bytes or
  str, which `feedparser.parse` would first try to open as a local path or fetch as a URL (a
  body reading `/etc/passwd`, `/dev/zero` or the path of a FIFO would be read from this
  machine's disk). docs/guarantees.md lists every such call in digest and why it is safe.
* Hostile XML: before feedparser sees the bytes, any DOCTYPE internal subset is removed, so
  entity declarations (billion laughs, external entities pointing at local files or URLs)
  are never expanded or resolved; expat is also told not to fetch external entities.
* Text is UTF-8 unless the document says otherwise: invalid bytes become U+FFFD, never
  mojibake (`as_valid_utf8`).
* Feed HTML: titles and descriptions are sanitised with nh3 and reduced to text.
* Ill-formed ("bozo") feeds give what parses, plus a warning; a body that is not a feed at
  all raises FeedError.
"""

from __future__ import annotations

import calendar
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from digest.errors import FeedError
from digest.normalise import (
    DESCRIPTION_MAX,
    NAME_MAX,
    TAGLINE_MAX,
    canonical_url,
    clean_text,
    limit_text,
    name_key,
    price_from_label,
    url_key,
)

_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_ENTITY = re.compile(rb"<!ENTITY", re.IGNORECASE)
_SUBSET_END = re.compile(rb"\]\s*>")
_BRACKET_OR_CLOSE = re.compile(rb"[\[>]")
_DRIVER = "digest.saxdriver"  # hardened expat with buffered text, see digest/saxdriver.py


@dataclass
class Entry:
    """One feed entry, normalised; what `digest.dedupe` stores as (or matches to) a tool."""

    name: str
    guid: str | None = None
    url: str | None = None
    tagline: str = ""
    description: str = ""
    published_at: datetime | None = None
    category: str | None = None
    vendor: str | None = None
    price: str = "unknown"
    url_key: str | None = None  # identity keys, computed here so workers do that work too
    name_key: str | None = None
    launch: bool = True  # an AI tool launch (digest.launches): shown in the editor's views
    reason: str = ""  # why, in a few words


@dataclass
class ParsedFeed:
    title: str = ""
    version: str = ""
    entries: list[Entry] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: str | None = None  # set instead of raising when parsed in a worker
    ill_formed: bool = False  # bozo or defused: its entries may add tools, never overwrite them


def defuse(body: bytes) -> tuple[bytes, bool]:
    """The document without DOCTYPE internal subsets or ENTITY declarations, as UTF-8 if it
    was UTF-16/32; returns (bytes, changed).

    Nothing declared in a DTD is ever expanded after this, whichever parser feedparser falls
    back to; undefined entity references stay literal text.
    """
    body = _as_utf8(body)
    if b"<!" not in body:
        return body, False
    cleaned = _cut(body, _DOCTYPE, _internal_subset_end)
    # Declarations outside a well-formed subset (a broken DOCTYPE) go too.
    cleaned = _cut(cleaned, _ENTITY, _entity_end)
    return cleaned, cleaned != body


def _internal_subset_end(body: bytes, start: int) -> tuple[int, bool]:
    """(where the DOCTYPE opened at `start` ends, whether it has an internal subset to remove);
    a DOCTYPE or subset that never closes runs to the end of the body."""
    first = _BRACKET_OR_CLOSE.search(body, start)
    if first is None:
        return len(body), True
    if first.group() == b">":
        return first.end(), False
    end = _SUBSET_END.search(body, first.end())
    return (end.end() if end else len(body)), True


def _entity_end(body: bytes, start: int) -> tuple[int, bool]:
    return (body.find(b">", start) + 1 or len(body)), True


def _cut(body: bytes, opening: re.Pattern[bytes], end_of: Callable[[bytes, int], tuple[int, bool]]) -> bytes:
    """`body` without the spans from a match of `opening` to where `end_of` says it ends (when
    `end_of` says to remove it).

    One pass from left to right that never looks at a byte twice: a regular expression with a
    lazy `.*?` rescans to the end of the body from every opening, and took hours on a 5 MB
    body of unclosed `<!DOCTYPE a [`.
    """
    kept: list[bytes] = []
    position = 0
    while (found := opening.search(body, position)) is not None:
        end, remove = end_of(body, found.start())
        kept.append(body[position:found.start() if remove else end])
        position = end
    if not kept:
        return body
    kept.append(body[position:])
    return b"".join(kept)


_BOMS = ((b"\x00\x00\xfe\xff", "utf-32"), (b"\xff\xfe\x00\x00", "utf-32"),
         (b"\xfe\xff", "utf-16"), (b"\xff\xfe", "utf-16"))
_NUL_PATTERNS = ((b"\x00\x00\x00<", "utf-32-be"), (b"<\x00\x00\x00", "utf-32-le"),
                 (b"\x00<\x00?", "utf-16-be"), (b"<\x00?\x00", "utf-16-le"))
_ENCODING_DECL = re.compile(r"""(<\?xml[^>]*?encoding\s*=\s*)(["'])[^"']*\2""")


def _as_utf8(body: bytes) -> bytes:
    """UTF-16/32 documents re-encoded as UTF-8 (declaration updated), so that the byte-level
    defusing above sees their declarations; any other document unchanged."""
    codec = next((name for bom, name in _BOMS if body.startswith(bom)), None)
    codec = codec or next((name for start, name in _NUL_PATTERNS if body.startswith(start)), None)
    if codec is None:
        return body
    try:
        text = body.decode(codec)
    except UnicodeDecodeError:
        return body
    text = _ENCODING_DECL.sub(r"\1\2utf-8\2", text.lstrip("\ufeff"), count=1)
    return text.encode("utf-8")


_CHARSET = re.compile(r"""charset\s*=\s*["']?([^"';\s]+)""", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""\A(?:\xef\xbb\xbf)?\s*<\?xml[^>]*?encoding\s*=\s*["']([^"']*)["']""")
_UTF8_NAMES = ("utf-8", "utf8")


def as_valid_utf8(body: bytes, content_type: str | None) -> tuple[bytes, bool]:
    """(the body, whether it changed): a document in UTF-8 (declared so, or declaring nothing,
    as XML defaults to UTF-8) with every invalid byte sequence replaced by U+FFFD.

    feedparser, given one stray byte, re-reads the whole document as windows-1252 and turns
    every "é" into "Ã©"; a document that declares another encoding is left to it.
    """
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return body, False
    declared = _CHARSET.search(content_type or "")
    in_xml = _XML_ENCODING.match(body)
    names = [m.group(1).decode("ascii", "replace") if isinstance(m.group(1), bytes) else m.group(1)
             for m in (declared, in_xml) if m]
    if any(name.strip().lower() not in _UTF8_NAMES for name in names):
        return body, False
    return body.decode("utf-8", "replace").encode("utf-8"), True


def install_driver() -> None:
    """Make feedparser use digest.saxdriver (hardened expat) first; idempotent."""
    import feedparser.api

    if feedparser.api.PREFERRED_XML_PARSERS[:1] != [_DRIVER]:
        feedparser.api.PREFERRED_XML_PARSERS.insert(0, _DRIVER)


def parse_feed(body: bytes, *, url: str = "", content_type: str | None = None,
               category_hint: str | None = None, vendor_hint: str | None = None,
               kind: str = "mixed") -> ParsedFeed:
    """Entries of an RSS (0.9x, 1.0, 2.0) or Atom document, normalised and judged (launch or
    not, see digest.launches; `kind` is the feed's kind).

    Raises FeedError when the body is not a feed at all. An ill-formed feed that still yields
    entries returns them with a warning in `warnings`.
    """
    import feedparser

    install_driver()
    defused, changed = defuse(body)
    defused, repaired = as_valid_utf8(defused, content_type)
    headers = {"content-type": content_type} if content_type else {}
    # A file object, never bytes: feedparser.parse opens bytes or str that name a file.
    parsed = feedparser.parse(io.BytesIO(defused), response_headers=headers, sanitize_html=False,
                              resolve_relative_uris=False)
    result = ParsedFeed(version=parsed.get("version") or "")
    result.ill_formed = changed or bool(parsed.get("bozo"))
    if changed:
        result.warnings.append("the document declared entities in a DOCTYPE; they were removed unexpanded")
    if repaired:
        result.warnings.append("bytes that are not UTF-8 were read as U+FFFD (�)")
    channel = parsed.get("feed", {})
    result.title = clean_text(channel.get("title"), limit=NAME_MAX, keep_paragraphs=False)
    if parsed.get("bozo"):
        problem = _describe(parsed.get("bozo_exception"))
        if not parsed.entries and not result.version:
            raise FeedError(f"not a feed: {problem}" if problem else "not a feed")
        result.warnings.append(f"ill-formed feed ({problem}); kept the {len(parsed.entries)} entries that parsed")
    elif not parsed.entries and not result.version:
        raise FeedError("not a feed: no RSS or Atom document found")
    skipped = 0
    for raw in parsed.entries:
        entry = normalise_entry(raw, base_url=url, category_hint=category_hint, vendor_hint=vendor_hint,
                                kind=kind)
        if entry is None:
            skipped += 1
        else:
            result.entries.append(entry)
    if skipped:
        result.warnings.append(f"skipped {skipped} entries without a title or link")
    return result


def _describe(exc: object) -> str:
    if exc is None:
        return ""
    text = " ".join(str(exc).split())
    return text[:200]


def normalise_entry(raw: dict, *, base_url: str = "", category_hint: str | None = None,
                    vendor_hint: str | None = None, kind: str = "mixed") -> Entry | None:
    """One feedparser entry as an Entry, judged; None when it has neither a title nor a link.

    Name, tagline, decision and reason come from digest.launches.judge; a category or price
    tag on the entry wins over what the judge reads from the text, the feed's category hint
    comes last.
    """
    from digest.launches import judge

    get = dict.get  # the stored keys directly: FeedParserDict's alias lookup costs per call
    link = (get(raw, "link") or "").strip()
    if link and base_url and not link.startswith(("http://", "https://")):
        from urllib.parse import urljoin

        link = urljoin(base_url, link)
    url = canonical_url(link)
    guid = (get(raw, "id") or "").strip() or None
    title = clean_text(get(raw, "title"), limit=600, keep_paragraphs=False)
    content = _content(raw)
    description = clean_text(content, limit=DESCRIPTION_MAX)
    if not title:
        if url is None:
            return None
        title = _name_from_url(url)
    raw_summary = get(raw, "subtitle") or get(raw, "summary") or ""
    summary = description if not raw_summary or raw_summary == content else clean_text(raw_summary)
    publisher = clean_text(get(raw, "publisher") or "", limit=200, keep_paragraphs=False)
    category, price = _category_and_price(get(raw, "tags") or [])
    judged = judge(title, summary[:_JUDGED_TEXT], kind=kind, vendor_hint=vendor_hint, publisher=publisher or None,
                   find_category=category is None, find_price=price is None)
    name = limit_text(judged.name, NAME_MAX)
    if not name:
        return None
    tagline = judged.tagline
    if tagline == description:
        tagline = ""
    return Entry(name=name, guid=guid[:900] if guid else None, url=url, url_key=url_key(url),
                 name_key=name_key(name), tagline=limit_text(tagline, TAGLINE_MAX),
                 description=description, published_at=_published(raw),
                 category=category or judged.category or category_hint, vendor=judged.vendor or None,
                 price=price or judged.price, launch=judged.launch, reason=judged.reason)


_JUDGED_TEXT = 600  # the summary's first characters are what launch detection reads


def _content(raw: dict) -> str:
    """The richest body an entry has: full content, else the summary/description."""
    for item in dict.get(raw, "content") or []:
        value = item.get("value")
        if value:
            return value
    return dict.get(raw, "summary") or dict.get(raw, "description") or ""


def _category_and_price(tags: list) -> tuple[str | None, str | None]:
    category = price = None
    for tag in tags:
        label = clean_text(tag.get("term") or tag.get("label") or "", limit=100, keep_paragraphs=False)
        if not label:
            continue
        as_price = price_from_label(label)
        if as_price:
            price = price or as_price
        elif category is None:
            category = label
    return category, price


def _published(raw: dict) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = dict.get(raw, key)
        if value:
            try:
                return datetime.fromtimestamp(calendar.timegm(value), UTC)
            except (OverflowError, ValueError, TypeError):
                continue
    return None


def _name_from_url(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    last = [p for p in parts.path.split("/") if p]
    return (last[-1] if last else parts.hostname or url).replace("-", " ").replace("_", " ")
