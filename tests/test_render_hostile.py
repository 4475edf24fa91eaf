"""Text from feeds and editors is data: it renders literally, never as markup, a template
expression or a link placeholder, in the email's HTML, its plain text and the web page."""

from __future__ import annotations

import dataclasses
import email
import re
from email.policy import default as default_policy

import pytest
from render_helpers import make_settings, parse, render_data, visible_text

from digest.inline import CSS_INLINE, PREMAILER
from digest.render import sample_message
from digest.demo.sample import sample_issue_data

pytestmark = pytest.mark.backend_independent  # renders without a database: the SQLite pass runs it

HOSTILE = [
    'Big buttons, size="large',
    'Say "hi" onmouseover="alert(1)" to it',
    'a "quoted" claim',
    "<script>alert(1)</script>",
    "ends a CDATA ]]> here",
    "{{ 7*7 }} and {% if true %}x{% endif %}",
    "leave: __digest_unsubscribe__ or __digest_vote_1_a__",
    "<img src=x onerror=alert(1)>",
    '<style>p { color: red }</style> and data-premailer="ignore"',
]
_NONCE = re.compile(r"__digest_[0-9a-f]{32}_")
LESS_THAN = "when a < b it still ships"  # any "<" elsewhere in the issue


@pytest.fixture
def settings(tmp_path):
    return make_settings(tmp_path)


def _with_taglines(tagline_a: str, tagline_b: str):
    data = sample_issue_data()
    first = data.comparisons[0]
    first = dataclasses.replace(first, a=dataclasses.replace(first.a, tagline=tagline_a),
                                b=dataclasses.replace(first.b, tagline=tagline_b))
    return dataclasses.replace(data, comparisons=(first, *data.comparisons[1:]))


def _masked(text: str, rendered) -> str:  # noqa: ANN001
    """`text` with the render's placeholder nonce masked (`__digest_<nonce>_web__` -> `__digest_web__`)."""
    return _NONCE.sub("__digest_", text)


def _structure(html: str) -> list[tuple[str, tuple[str, ...]]]:
    """Every element and its attribute names, in order: what a mail client lays out."""
    return [(e.tag, tuple(sorted(e.attrib))) for e in parse(html).iter() if isinstance(e.tag, str)]


@pytest.mark.parametrize("inliner", [CSS_INLINE, PREMAILER])
@pytest.mark.parametrize("hostile", HOSTILE)
def test_feed_text_renders_literally_in_every_part(settings, hostile: str, inliner: str) -> None:
    baseline = render_data(_with_taglines("PLAIN TAGLINE", LESS_THAN), settings, inliner=inliner)
    rendered = render_data(_with_taglines(hostile, LESS_THAN), settings, inliner=inliner)
    # the same document, element for element: the text added no element and no attribute
    assert _structure(rendered.html) == _structure(baseline.html)
    assert _structure(rendered.web) == _structure(baseline.web)
    for part, base in ((rendered.html, baseline.html), (rendered.web, baseline.web)):
        assert _masked(visible_text(part), rendered) == _masked(visible_text(base), baseline).replace("PLAIN TAGLINE", hostile)
        doc = parse(part)
        assert not doc.xpath("//script") and not doc.xpath("//@*[starts-with(name(), 'on')]")
    assert _masked(rendered.text, rendered) == _masked(baseline.text, baseline).replace("PLAIN TAGLINE", hostile)


@pytest.mark.parametrize("hostile", HOSTILE)
def test_the_message_a_reader_gets_shows_the_text_and_fills_only_real_links(settings, hostile: str) -> None:
    rendered = render_data(_with_taglines(hostile, LESS_THAN), settings)
    message = email.message_from_bytes(sample_message(settings=settings, rendered=rendered), policy=default_policy)
    html = message.get_body(("html",)).get_content()
    text = message.get_body(("plain",)).get_content()
    assert hostile in visible_text(html) and LESS_THAN in visible_text(html)
    assert hostile in text and LESS_THAN in text
    unsubscribe = message["List-Unsubscribe"].split("<", 1)[1].split(">", 1)[0]
    assert text.count(unsubscribe) == 1  # the footer's link; the tagline's look-alike stays text


def test_a_placeholder_look_alike_in_feed_text_leaves_the_web_page_working(settings) -> None:
    """Before: `__digest_unsubscribe__` in a tagline made the web page refuse to render (a 500
    on /issues/N for good) and was swapped for the reader's unsubscribe link in the email."""
    rendered = render_data(_with_taglines("__digest_unsubscribe__", "__digest_web__"), settings)
    assert "__digest_unsubscribe__" in visible_text(rendered.web)
    message = sample_message(settings=settings, rendered=rendered).decode("utf-8")
    assert "__digest_unsubscribe__" in message and "__digest_web__" in message
    assert not _NONCE.search(message)  # every real placeholder was filled


def test_each_render_draws_its_own_placeholders(settings) -> None:
    one = render_data(_with_taglines("x", "y"), settings)
    two = render_data(_with_taglines("x", "y"), settings)
    assert one.placeholders != two.placeholders
    assert one.placeholders("unsubscribe") in one.html and one.placeholders("unsubscribe") not in two.html


@pytest.mark.browser
def test_chromium_shows_the_text_and_runs_nothing(settings, browser, tmp_path) -> None:
    """The email and the web page as a browser-based mail client lays them out."""
    data = _with_taglines(HOSTILE[1], HOSTILE[7])
    first = data.comparisons[0]
    data = dataclasses.replace(data, comparisons=(
        dataclasses.replace(first, a=dataclasses.replace(first.a, name=HOSTILE[0]),
                            b=dataclasses.replace(first.b, name=HOSTILE[3])), *data.comparisons[1:]))
    rendered = render_data(data, settings)
    dialogs: list[str] = []
    for name, html in (("email", rendered.html), ("web", rendered.web)):
        path = tmp_path / f"{name}.html"
        path.write_text(html, encoding="utf-8")
        page = browser.new_page()
        try:
            page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
            page.goto(path.as_uri())
            page.mouse.move(200, 400)
            shown = page.evaluate("() => document.body.innerText")
            injected = page.evaluate("() => document.querySelectorAll('script, [onmouseover], [onerror]').length")
        finally:
            page.close()
        assert injected == 0
        for literal in (HOSTILE[0], HOSTILE[1], HOSTILE[3], HOSTILE[7]):
            assert literal in shown, (name, literal)
    assert dialogs == []
