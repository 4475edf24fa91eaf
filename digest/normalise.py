"""Normalising what feeds say: canonical URLs, clean text, tool names, slugs, identity keys.

Pure functions, no I/O: they run inside the parse workers and in tests. Feed HTML is never
trusted: `clean_text` sanitises it with nh3 (ammonia) and keeps only its text.
"""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata
from urllib.parse import unquote_plus, urlsplit, urlunsplit

# Query parameters that only track a click; they never change what a page shows.
TRACKING_PARAMS = frozenset({
    "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid",
    "igshid", "mc_cid", "mc_eid", "ref", "ref_src", "ref_url", "source", "_hsenc", "_hsmi",
    "mkt_tok", "oly_anon_id", "oly_enc_id", "vero_id", "vero_conv", "spm", "s_cid",
    "trk", "trkcampaign", "sc_campaign", "sc_channel", "wt_mc", "pk_campaign", "pk_kwd",
    "pk_source", "pk_medium", "mtm_campaign", "mtm_source", "mtm_medium", "ck_subscriber_id",
})
TRACKING_PREFIXES = ("utm_", "hsa_", "pk_", "mtm_", "itm_")

PRICE_WORDS = {
    "free": "free", "freemium": "freemium", "paid": "paid", "premium": "paid",
    "open source": "open-source", "open-source": "open-source", "opensource": "open-source",
    "oss": "open-source",
}

_BLOCK_TAGS = re.compile(
    r"<\s*(?:br|/p|p|/div|div|/li|li|/h[1-6]|h[1-6]|/tr|tr|/blockquote|blockquote|/pre|pre|hr|/ul|/ol)\b[^>]*>",
    re.IGNORECASE)
# Control and format characters (bidi overrides, zero-width marks) that text never needs.
_CONTROL = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
_PARAGRAPH_BREAK = re.compile(r"\n[^\S\n]*\n\s*")
_TITLE_PREFIX = re.compile(
    r"^\s*(?:(?:show|launch|ask|tell)\s+hn\s*[:\-–—]\s*|\[?launch\]?\s*[:\-–—]\s*|"
    r"introducing\s+|announcing\s+|meet\s+)", re.IGNORECASE)
_TITLE_SEPARATORS = (" – ", " — ", " - ", ": ", " | ", " · ")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s")
_SLUG_STRIP = re.compile(r"[^a-z0-9]+")

NAME_MAX = 300
TAGLINE_MAX = 300
DESCRIPTION_MAX = 5000
KEY_MAX = 1000


def limit_text(text: str, limit: int) -> str:
    """`text` cut at `limit` characters on a word boundary, with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0] if " " in text[: limit - 1] else text[: limit - 1]
    return cut.rstrip(" ,;:-") + "…"


def clean_text(markup: str | None, *, limit: int | None = None, keep_paragraphs: bool = True) -> str:
    """Plain text from untrusted feed HTML: tags, scripts and styles gone, entities decoded.

    Block elements become paragraph breaks (when `keep_paragraphs`), runs of white space
    collapse, and the result is cut at `limit` characters on a word boundary with an ellipsis.
    """
    if not markup:
        return ""
    text = markup
    if "<" in text or "&" in text:
        import nh3
    if "<" in text:
        text = _BLOCK_TAGS.sub("\n\n", text)
        text = nh3.clean(text, tags=set(), attributes={}, strip_comments=True)
    # nh3 escapes what it keeps; feeds also double-escape. Decode twice at most.
    text = html.unescape(html.unescape(text)) if "&" in text else text
    if "<" in text:  # markup that was escaped in the feed: it is still markup, never trusted
        text = nh3.clean(_BLOCK_TAGS.sub("\n\n", text), tags=set(), attributes={})
        text = html.unescape(text)
    if _CONTROL.search(text):
        text = _CONTROL.sub("", text)
    if keep_paragraphs and "\n" in text:
        # blank lines (block elements) separate paragraphs; any other white space is a space
        paragraphs = (" ".join(part.split()) for part in _PARAGRAPH_BREAK.split(text))
        text = "\n\n".join(part for part in paragraphs if part)
    else:
        text = " ".join(text.split())
    return limit_text(text, limit) if limit is not None else text


def canonical_url(url: str | None) -> str | None:
    """The URL a tool is known by: http(s) only, lowercase scheme and host, no default port,
    no fragment, no tracking parameters (utm_*, fbclid, gclid, ref, mc_cid, ...).

    Returns None for anything that is not an absolute http(s) URL (javascript:, data:, ...).
    """
    if not url:
        return None
    url = url.strip()
    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not host:
        return None
    host = host.lower().rstrip(".")
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host if port is None or (scheme, port) in (("http", 80), ("https", 443)) else f"{host}:{port}"
    # keep the other parameters exactly as written (order and encoding)
    query = "&".join(pair for pair in parts.query.split("&") if pair and not _tracking(pair.split("=", 1)[0]))
    return urlunsplit((scheme, netloc, parts.path or "/", query, ""))


def _tracking(name: str) -> bool:
    name = unquote_plus(name).lower()
    return name in TRACKING_PARAMS or name.startswith(TRACKING_PREFIXES)


def url_key(canonical: str | None) -> str | None:
    """The identity of a canonical URL: scheme, `www.` and a trailing slash do not matter."""
    if not canonical:
        return None
    # a canonical URL is always scheme://netloc/path[?query]: plain string work suffices
    netloc, _, rest = canonical.partition("://")[2].partition("/")
    path, _, query = rest.partition("?")
    host = netloc[4:] if netloc.startswith("www.") else netloc
    key = host + ("/" + path).rstrip("/") + (f"?{query}" if query else "")
    return bounded_key(key)


def bounded_key(value: str) -> str:
    """A key value that fits ToolKey.value: long values keep a prefix and a digest."""
    if len(value) <= KEY_MAX:
        return value
    digest = hashlib.sha256(value.encode("utf-8")).hexdigest()
    return value[: KEY_MAX - 65] + "#" + digest


def name_key(name: str | None) -> str | None:
    """A name reduced to what identifies it: case, accents, spaces and punctuation dropped."""
    if not name:
        return None
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii").lower()
    key = _SLUG_STRIP.sub("", folded)
    if not key:  # a name in a non-Latin script: keep its letters as they are
        key = "".join(ch for ch in unicodedata.normalize("NFKC", name).lower() if ch.isalnum())
    return bounded_key(key) if key else None


def slugify(name: str, *, limit: int = 100) -> str:
    """Lowercase words joined by hyphens (`Patchwise Labs` -> `patchwise-labs`); `tool` if empty."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii").lower()
    slug = _SLUG_STRIP.sub("-", folded).strip("-")
    if len(slug) > limit:
        slug = slug[:limit].rsplit("-", 1)[0] or slug[:limit]
    return slug or "tool"


def split_title(title: str) -> tuple[str, str]:
    """(name, tagline) from an entry title such as `Show HN: Patchwise – reviews PRs`.

    Launch titles put the name first and the pitch after a dash or colon; a title without a
    separator is all name.
    """
    title = _TITLE_PREFIX.sub("", title, count=1).strip()
    for separator in _TITLE_SEPARATORS:
        head, found, tail = title.partition(separator)
        if found and head.strip() and tail.strip() and len(head.strip()) <= 80:
            return head.strip(), tail.strip()
    return title, ""


def first_sentence(text: str, *, limit: int = TAGLINE_MAX) -> str:
    """The first sentence of `text`, for a tagline when the title has none."""
    first = text.split("\n", 1)[0]
    sentence = _SENTENCE_END.split(first, 1)[0].strip()
    return clean_text(sentence, limit=limit, keep_paragraphs=False) if sentence else ""


def price_from_label(label: str) -> str | None:
    """The entry price a tag names (`Freemium`, `Open source`, ...), or None."""
    return PRICE_WORDS.get(" ".join(label.lower().replace("_", " ").split()))
