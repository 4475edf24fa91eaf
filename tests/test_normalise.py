"""Normalising feed values: canonical URLs, clean text, names, slugs and identity keys."""

from __future__ import annotations

import pytest

from digest.normalise import (
    canonical_url,
    clean_text,
    name_key,
    price_from_label,
    slugify,
    split_title,
    url_key,
)


@pytest.mark.parametrize(("raw", "canonical"), [
    ("https://Patchwise.EXAMPLE/?utm_source=x&utm_medium=feed&utm_campaign=y#pricing", "https://patchwise.example/"),
    ("https://a.example/p?id=3&fbclid=F&gclid=G&ref=hn&mc_cid=1&mc_eid=2", "https://a.example/p?id=3"),
    ("HTTP://a.example:80/x", "http://a.example/x"),
    ("https://a.example:443", "https://a.example/"),
    ("https://a.example:8443/x?b=2&a=1", "https://a.example:8443/x?b=2&a=1"),
    ("  https://a.example/x  ", "https://a.example/x"),
])
def test_canonical_url_drops_tracking_and_fragment(raw: str, canonical: str) -> None:
    assert canonical_url(raw) == canonical


@pytest.mark.parametrize("raw", ["javascript:alert(1)", "data:text/html,hi", "/relative/path", "", None,
                                 "https://[::1/broken", "mailto:a@b.example"])
def test_canonical_url_refuses_what_is_not_a_web_address(raw: str | None) -> None:
    assert canonical_url(raw) is None


def test_url_key_ignores_scheme_www_and_trailing_slash() -> None:
    keys = {url_key(canonical_url(u)) for u in ("https://www.lintern.example/", "http://lintern.example",
                                               "https://lintern.example/?utm_source=x")}
    assert keys == {"lintern.example"}


def test_clean_text_keeps_text_and_drops_markup_scripts_and_styles() -> None:
    html = ('<p>Hi <b>there</b> &amp; welcome</p><script>alert("x")</script><style>p{}</style>'
            '<p>Second <a href="javascript:evil()">link</a>.</p><img src=x onerror=alert(2)>')
    assert clean_text(html) == "Hi there & welcome\n\nSecond link."


def test_clean_text_treats_escaped_markup_as_markup() -> None:
    assert clean_text("&lt;script&gt;steal()&lt;/script&gt;&lt;em&gt;flash&lt;/em&gt; cards") == "flash cards"


def test_clean_text_removes_control_and_bidi_characters_and_limits_length() -> None:
    assert clean_text("a\x00b\u202ec\u200bd\u00a0e") == "abcd e"
    text = clean_text("word " * 100, limit=30)
    assert len(text) <= 30 and text.endswith("…")


@pytest.mark.parametrize(("title", "name", "tagline"), [
    ("Show HN: Recapper – turn calls into a log", "Recapper", "turn calls into a log"),
    ("Lintern: a code-review agent", "Lintern", "a code-review agent"),
    ("Introducing Palettero - palettes from photos", "Palettero", "palettes from photos"),
    ("Just a name", "Just a name", ""),
])
def test_split_title(title: str, name: str, tagline: str) -> None:
    assert split_title(title) == (name, tagline)


def test_slugs_and_name_keys() -> None:
    assert slugify("Patchwise Labs") == "patchwise-labs"
    assert slugify("Café Crème!") == "cafe-creme"
    assert slugify("!!!") == "tool"
    assert name_key("Query-Quill") == name_key("queryquill") == "queryquill"
    assert name_key("  ") is None


@pytest.mark.parametrize(("label", "price"), [("Freemium", "freemium"), ("Open source", "open-source"),
                                              ("open-source", "open-source"), ("PAID", "paid"),
                                              ("code review", None)])
def test_price_labels(label: str, price: str | None) -> None:
    assert price_from_label(label) == price
