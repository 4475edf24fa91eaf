"""Parsing feed bytes into entries: every feed format, ill-formed and hostile documents."""

from __future__ import annotations

import io
import xml.sax
from pathlib import Path

import pytest
from feedserver import item, rss

from digest.errors import FeedError
from digest.feeds import defuse, parse_feed

RSS091 = b"""<?xml version="1.0"?>
<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" "http://my.netscape.com/publish/formats/rss-0.91.dtd">
<rss version="0.91"><channel><title>Old</title><link>https://old.example/</link><description>d</description>
<language>en</language>
<item><title>Oldtool - a tool from 0.91 days</title><link>https://oldtool.example/</link><description>Classic.</description></item>
</channel></rss>"""

RSS092 = b"""<?xml version="1.0"?><rss version="0.92"><channel><title>T</title><link>https://t.example/</link>
<description>d</description><item><title>Ninetytwo: tagline here</title><link>https://92.example/</link>
<description>It &lt;b&gt;works&lt;/b&gt;.</description><category>agents</category></item></channel></rss>"""

RSS10 = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
 xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="https://rdf.example/"><title>RDF</title><link>https://rdf.example/</link><description>d</description>
<items><rdf:Seq><rdf:li resource="https://rdftool.example/"/></rdf:Seq></items></channel>
<item rdf:about="https://rdftool.example/"><title>Rdftool - RSS 1.0 lives</title><link>https://rdftool.example/</link>
<description>From RDF.</description><dc:date>2026-11-20T10:00:00Z</dc:date><dc:publisher>RDF Corp</dc:publisher></item>
</rdf:RDF>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">
<title>A</title><id>tag:a.example,2026:feed</id><updated>2026-11-27T12:00:00Z</updated>
<entry><title type="html">&lt;b&gt;Atomtool&lt;/b&gt;: bold &amp;amp; brave</title><link href="https://atomtool.example/?utm_source=a"/>
<id>tag:a.example,2026:1</id><updated>2026-11-24T10:00:00Z</updated><category term="Open source"/>
<category term="design"/><content type="html">&lt;p&gt;One.&lt;/p&gt;&lt;p&gt;Two.&lt;/p&gt;</content></entry></feed>"""


def test_rss_091_with_netscape_doctype() -> None:
    [entry] = parse_feed(RSS091).entries
    assert (entry.name, entry.tagline, entry.url) == ("Oldtool", "a tool from 0.91 days", "https://oldtool.example/")


def test_rss_092_category_and_escaped_html() -> None:
    [entry] = parse_feed(RSS092).entries
    assert (entry.name, entry.description, entry.category) == ("Ninetytwo", "It works.", "agents")


def test_rss_10_rdf_with_dublin_core() -> None:
    parsed = parse_feed(RSS10)
    [entry] = parsed.entries
    assert parsed.version == "rss10"
    assert (entry.name, entry.vendor, entry.published_at.isoformat()) == (
        "Rdftool", "RDF Corp", "2026-11-20T10:00:00+00:00")


def test_rss_20_and_feed_hints() -> None:
    body = rss(item("Hinted – uses the hints", "https://hinted.example/", "g1"))
    [entry] = parse_feed(body, category_hint="voice", vendor_hint="Hint Co").entries
    assert (entry.category, entry.vendor, entry.price, entry.guid) == ("voice", "Hint Co", "unknown", "g1")


def test_atom_with_html_title_price_tag_and_content() -> None:
    [entry] = parse_feed(ATOM).entries
    assert entry.name == "Atomtool"
    assert entry.tagline == "bold & brave"
    assert entry.url == "https://atomtool.example/"
    assert (entry.category, entry.price) == ("design", "open-source")
    assert entry.description == "One.\n\nTwo."


def test_titles_with_html_and_script_are_reduced_to_text() -> None:
    body = rss(item("&lt;script&gt;alert(1)&lt;/script&gt;&lt;i&gt;Sly&lt;/i&gt; – &lt;b&gt;bold&lt;/b&gt; claims",
                    "https://sly.example/", "s1",
                    description="&lt;p onclick='x()'&gt;Text&lt;/p&gt;&lt;script&gt;document.cookie&lt;/script&gt;"))
    [entry] = parse_feed(body).entries
    assert (entry.name, entry.tagline, entry.description) == ("Sly", "bold claims", "Text")
    for value in (entry.name, entry.tagline, entry.description):
        assert "<" not in value and "alert" not in value and "cookie" not in value


def test_entries_without_guid_or_link_are_kept_when_they_have_a_title() -> None:
    body = rss(item("Linkless – no link, no guid"), item("", "https://titleless.example/path-name", None),
               "<item><description>neither title nor link</description></item>")
    parsed = parse_feed(body)
    assert [(e.name, e.url, e.guid) for e in parsed.entries] == [
        ("Linkless", None, None), ("path name", "https://titleless.example/path-name", None)]
    assert parsed.warnings == ["skipped 1 entries without a title or link"]


def test_ill_formed_feed_gives_what_parses_and_a_warning() -> None:
    body = rss(item("Broken – but readable", "https://broken.example/", "b1")).replace(b"</channel>", b"<oops></channel>")
    parsed = parse_feed(body)
    assert [e.name for e in parsed.entries] == ["Broken"]
    assert any("ill-formed" in w for w in parsed.warnings)


@pytest.mark.parametrize("body", [b"", b"<html><body>Not a feed</body></html>", b"\x00\xff garbage",
                                  b'{"json": true}'])
def test_a_body_that_is_not_a_feed_raises(body: bytes) -> None:
    with pytest.raises(FeedError, match="not a feed"):
        parse_feed(body)


def test_a_body_naming_a_feed_file_is_text_not_that_file(tmp_path: Path) -> None:
    """feedparser.parse opens bytes that name a file; parse_feed never lets it."""
    on_disk = tmp_path / "other.xml"
    on_disk.write_bytes(rss(item("Ondisk - read from the server", "https://ondisk.example/", "d1")))
    with pytest.raises(FeedError, match="not a feed"):
        parse_feed(str(on_disk).encode())


@pytest.mark.parametrize("body", [b"<!DOCTYPE a [" * 80_000, b"<!ENTITY " * 120_000, b"<!DOCTYPE a " * 90_000 + b">"])
def test_defusing_is_linear_in_the_body(body: bytes) -> None:
    """1 MB of unclosed declarations: a lazy regular expression rescanned to the end from each
    (about 20 minutes for this one); one pass takes milliseconds."""
    cleaned, _ = defuse(body)
    assert b"ENTITY" not in cleaned and b"[" not in cleaned


BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE rss [
 <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
 <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
 <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
 <!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
 <!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">
]>
<rss version="2.0"><channel><title>Bomb &f;</title><link>https://bomb.example/</link><description>&f;</description>
<item><title>Boom &f; - tagline &e;</title><link>https://boom.example/</link><guid>boom</guid><description>&f;&f;</description></item>
</channel></rss>"""


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-16-le"])
def test_entity_expansion_bomb_is_never_expanded(encoding: str) -> None:
    body = BOMB if encoding == "utf-8" else BOMB.decode().replace('version="1.0"?>', f'version="1.0" encoding="{encoding}"?>').encode(encoding)
    parsed = parse_feed(body)
    [entry] = parsed.entries
    assert entry.name.startswith("Boom")
    assert "aaaaaaaa" not in entry.name + entry.tagline + entry.description + parsed.title
    assert len(entry.description) < 100
    assert any("entities" in w for w in parsed.warnings)


def xxe(path: Path, system_id: str | None = None) -> bytes:
    target = system_id or path.as_uri()
    return f"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY leak SYSTEM "{target}"><!ENTITY % param SYSTEM "{target}"> %param;]>
<rss version="2.0"><channel><title>XXE &leak;</title><link>https://x.example/</link><description>&leak;</description>
<item><title>Leaky &leak; – tagline &leak;</title><link>https://leaky.example/</link><guid>leak</guid>
<description>&leak;</description></item></channel></rss>""".encode()


def test_external_entity_pointing_at_a_local_file_is_never_resolved(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT", encoding="utf-8")
    for body in (xxe(secret), xxe(secret, system_id=str(secret))):
        parsed = parse_feed(body)
        seen = repr(parsed)
        assert "TOP-SECRET-CONTENT" not in seen
        assert parsed.entries[0].name.startswith("Leaky")


def test_defuse_removes_internal_subsets_but_keeps_plain_doctypes() -> None:
    cleaned, changed = defuse(BOMB)
    assert changed and b"<!ENTITY" not in cleaned and b"<!DOCTYPE rss [" not in cleaned
    assert defuse(RSS091) == (RSS091, False)


def test_the_sax_driver_itself_refuses_entity_declarations(tmp_path: Path) -> None:
    """Second layer: even a document that skipped `defuse` cannot declare entities."""
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT", encoding="utf-8")
    parser = xml.sax.make_parser(["digest.saxdriver"])
    texts: list[str] = []

    class Collect(xml.sax.ContentHandler):
        def characters(self, content: str) -> None:
            texts.append(content)

    parser.setContentHandler(Collect())
    for body in (BOMB, xxe(secret)):
        with pytest.raises(xml.sax.SAXParseException, match="not allowed"):
            parser.parse(io.BytesIO(body))
    assert "TOP-SECRET-CONTENT" not in "".join(texts)


def test_bundled_samples_parse_cleanly() -> None:
    from digest.demo.feeds import sample_feeds_dir

    names = set()
    for path in sorted(sample_feeds_dir().glob("*.xml")):
        parsed = parse_feed(path.read_bytes())
        assert parsed.warnings == [], path.name
        names |= {entry.name for entry in parsed.entries}
    assert {"Patchwise", "Lintern", "Minutely", "Recapper"} <= names
    assert 12 <= len(names) <= 16


@pytest.mark.parametrize("content_type", [None, "application/rss+xml; charset=utf-8"])
def test_invalid_utf8_becomes_replacement_characters_not_mojibake(content_type: str | None) -> None:
    """One stray byte used to make feedparser re-read the whole document as windows-1252."""
    body = rss(item("Café – caf\xe9 au lait", "https://cafe.example/", "c1")).replace(b"caf\xc3\xa9 au", b"caf\xe9 au")
    parsed = parse_feed(body, content_type=content_type)
    [entry] = parsed.entries
    assert (entry.name, entry.tagline) == ("Café", "caf\ufffd au lait")
    assert "Ã" not in entry.name + entry.tagline
    assert any("U+FFFD" in warning for warning in parsed.warnings)


def test_a_feed_declaring_another_encoding_is_read_in_it() -> None:
    body = ('<?xml version="1.0" encoding="iso-8859-1"?><rss version="2.0"><channel><title>L</title>'
            '<item><title>Caf\xe9 - latin-1</title><link>https://latin.example/</link></item></channel></rss>').encode("latin-1")
    [entry] = parse_feed(body).entries
    assert entry.name == "Café"
