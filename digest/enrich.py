"""Landing-page enrichment: a tool's own page read once for its title, meta description and a
pricing link, to fill what the feed entry left out (tagline, entry price).

Off by default (`[poll] enrich = false`); `digest tools enrich` runs it on demand, and with
`enrich = true` every poll runs it after its feeds are stored, so it never holds a poll up.
The pages are fetched with digest.fetch, with the feeds' politeness and caps (requests in
flight, per host, whole-request timeout, body cap, user agent), and the whole step is bounded
by `[poll] enrich_seconds`: whatever is not fetched by then waits for the next run.

Outside text is data: the page's HTML is read by the standard library's HTMLParser for three
values only, each reduced to clean text (digest.normalise.clean_text); the pricing link is
kept only as a canonical http(s) URL and never fetched. Pages on loopback and private
addresses (by IP literal or `localhost`) are skipped unless `[poll] enrich_private = true`.
What is learnt only fills a tool's empty tagline and unknown price, never a field the editor
owns, and the page's values are kept on the tool (`page`) for `digest tools show`.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from digest.launches import price_of
from digest.normalise import TAGLINE_MAX, canonical_url, clean_text
from digest.data import tools as data
from digest.data.codec import as_json
from digest.data.engine import Database

if TYPE_CHECKING:
    from digest.config import Settings
    from digest.fetch import FetchResult

_PRICING = re.compile(r"\b(?:pricing|prices|plans)\b", re.IGNORECASE)
_CHARSET = re.compile(r"charset=([\w\-]+)", re.IGNORECASE)
_READ_MAX = 300_000  # the head of a page is at its start: read no further


@dataclass
class PageFacts:
    """What a landing page says about its tool."""

    title: str = ""
    description: str = ""
    pricing_url: str | None = None


@dataclass
class EnrichReport:
    considered: int = 0
    fetched: int = 0
    updated: list[str] = field(default_factory=list)  # slugs whose tagline or price changed
    failed: int = 0
    skipped: int = 0  # private addresses, no URL
    timed_out: bool = False

    def summary(self) -> str:
        from digest.wording import count

        line = (f"enrichment: {self.fetched} of {count(self.considered, 'page')} read, "
                f"{count(len(self.updated), 'tool')} updated, {self.failed} failed")
        if self.skipped:
            line += f", {self.skipped} skipped (no URL, or a private address)"
        if self.timed_out:
            line += "; stopped at the time limit (the rest waits for the next run)"
        return line


class _PageParser(HTMLParser):
    def __init__(self, base_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base_url = base_url
        self.facts = PageFacts()
        self._in_title = False
        self._title: list[str] = []
        self._link: str | None = None
        self._link_text: list[str] = []
        self._og_description = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name.lower(): value or "" for name, value in attrs}
        if tag == "title":
            self._in_title = True
        elif tag == "meta":
            key = (values.get("name") or values.get("property") or "").lower()
            if key == "description" and not self.facts.description:
                self.facts.description = values.get("content", "")
            elif key == "og:description":
                self._og_description = values.get("content", "")
        elif tag == "a" and self.facts.pricing_url is None:
            self._link = values.get("href", "")
            self._link_text = []
            if _PRICING.search(self._link):
                self._take_link()

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag == "a" and self._link is not None:
            if self.facts.pricing_url is None and _PRICING.search(" ".join(self._link_text)):
                self._take_link()
            self._link = None

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self._title.append(data)
        if self._link is not None:
            self._link_text.append(data)

    def _take_link(self) -> None:
        url = canonical_url(urljoin(self.base_url, self._link or ""))
        if url:
            self.facts.pricing_url = url
        self._link = None

    def result(self) -> PageFacts:
        self.facts.title = clean_text("".join(self._title), limit=300, keep_paragraphs=False)
        self.facts.description = clean_text(self.facts.description or self._og_description, limit=1000,
                                            keep_paragraphs=False)
        return self.facts


def read_page(body: bytes, *, url: str, content_type: str | None = None) -> PageFacts:
    """Title, meta description and pricing link of an HTML page; empty facts for anything else."""
    if content_type and "html" not in content_type.lower():
        return PageFacts()
    found = _CHARSET.search(content_type or "")
    try:
        text = body[:_READ_MAX].decode(found.group(1) if found else "utf-8", errors="replace")
    except LookupError:
        text = body[:_READ_MAX].decode("utf-8", errors="replace")
    parser = _PageParser(url)
    try:
        parser.feed(text)
        parser.close()
    except Exception:  # noqa: BLE001 - a page HTMLParser cannot read gives no facts, never an error
        return PageFacts()
    return parser.result()


def private_address(url: str) -> bool:
    """Whether the URL names loopback, a private network or link-local by IP literal or name."""
    host = (urlsplit(url).hostname or "").lower()
    if host in ("localhost", "") or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_private or address.is_loopback or address.is_link_local or address.is_reserved


def enrich_tools(settings: Settings, db: Database, *, slugs: list[str] | None = None, limit: int = 50,
                 transport: Any = None) -> EnrichReport:
    """Read the landing pages of shown tools not enriched yet (or of `slugs`), newest first, at
    most `limit`, within `[poll] enrich_seconds`; store what they say. Never raises for a
    page's trouble (each counts as failed); DatabaseError if the database fails."""
    from digest.fetch import FetchRequest, fetch_all

    options = settings.poll
    report = EnrichReport()
    rows = data.tools_by_slugs(db, slugs) if slugs else data.tools_to_enrich(db, limit=limit)
    report.considered = len(rows)
    by_name: dict[str, dict[str, Any]] = {}
    for row in rows:
        if not row["url"] or (private_address(row["url"]) and not options.enrich_private):
            report.skipped += 1
            continue
        by_name[str(row["id"])] = row
    results: list[FetchResult] = []

    async def collect(result: FetchResult) -> None:
        results.append(result)

    async def run() -> None:
        requests = [FetchRequest(name=key, url=row["url"]) for key, row in by_name.items()]
        try:
            await asyncio.wait_for(
                fetch_all(requests, concurrency=options.concurrency, per_host=options.per_host,
                          timeout=options.timeout, max_bytes=options.max_bytes, user_agent=options.user_agent,
                          on_result=collect, transport=transport),
                timeout=options.enrich_seconds)
        except TimeoutError:
            report.timed_out = True

    if by_name:
        asyncio.run(run())
    now = datetime.now(UTC)
    with db.transaction(write=True):
        for result in results:
            row = by_name[result.name]
            if not result.ok or result.not_modified:
                report.failed += 1
                continue
            report.fetched += 1
            facts = read_page(result.body, url=result.final_url or row["url"], content_type=result.content_type)
            if _store(db, row, facts, now=now):
                report.updated.append(row["slug"])
    return report


def _store(db: Database, row: dict[str, Any], facts: PageFacts, *, now: datetime) -> bool:
    """Keep the page's facts on the tool; fill an empty tagline and an unknown price. Returns
    whether the tagline or the price changed."""
    edited = set(as_json(row["edited"]) or [])
    changes: dict[str, Any] = {}
    if not row["tagline"] and "tagline" not in edited and facts.description:
        changes["tagline"] = clean_text(facts.description, limit=TAGLINE_MAX, keep_paragraphs=False)
    price = price_of(f"{facts.title} {facts.description}")
    if row["price"] == "unknown" and "price" not in edited and price != "unknown":
        changes["price"] = price
    page = {"title": facts.title, "description": facts.description, "pricing_url": facts.pricing_url}
    data.store_page(db, row["id"], page=page, now=now, changes=changes)
    return bool(changes)
