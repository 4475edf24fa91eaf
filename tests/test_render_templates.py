"""Template overrides, template mistakes, and the guarantees no template can break (no network)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from render_helpers import make_settings, parse, render_data, visible_text

from digest.errors import RenderError
from digest.inline import CSS_INLINE, PREMAILER, inline_css
from digest.demo.sample import sample_issue_data


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "templates" / "parts").mkdir(parents=True)
    (tmp_path / "templates" / "email").mkdir()
    return tmp_path


def write(folder: Path, name: str, text: str) -> None:
    (folder / "templates" / name).write_text(text, encoding="utf-8")


def render(folder: Path, **options):
    return render_data(sample_issue_data(comparisons=1), make_settings(folder), **options)


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list:
    """Every attempt to open a connection or resolve a name is recorded and refused."""
    attempts: list = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("network access during a render")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    return attempts


def test_a_folder_template_overrides_one_partial_only(folder: Path) -> None:
    write(folder, "parts/pricing.html.j2", '<h3 class="h3">What it costs</h3><p>{{ c.pricing_read | join(" ") }}</p>\n')
    rendered = render(folder)
    text = visible_text(rendered.html)
    assert "What it costs" in text and "Pricing read" not in text
    assert "What it costs" in visible_text(rendered.web), "the web page uses the same part"
    assert "Reviewer scorecard" in text, "the other partials are still the packaged ones"


def test_a_folder_template_can_extend_the_default_and_fill_a_block(folder: Path) -> None:
    write(folder, "issue.mjml.j2", '{% extends "default:issue.mjml.j2" %}{% block after_comparisons %}'
          '<mj-section mj-class="sheet"><mj-column><mj-text>A word from {{ view.newsletter }}: '
          'thanks for reading.</mj-text></mj-column></mj-section>{% endblock %}')
    rendered = render(folder)
    assert "A word from Weekly AI Tool Verdicts: thanks for reading." in visible_text(rendered.html)
    assert "Reviewer scorecard" in visible_text(rendered.html)


def test_override_values_are_escaped_too(folder: Path) -> None:
    write(folder, "parts/pricing.html.j2", "<p>{{ '<b>bold</b> & \"quoted\"' }}</p>\n")
    html = render(folder).html
    assert "<b>bold</b> & \"quoted\"" in visible_text(html)
    assert not parse(html).xpath("//p/b[text()='bold']")


@pytest.mark.parametrize("body, expected", [
    ("{% if %}", r"pricing.html.j2:1: "),
    ("{{ c.no_such_field }}", r"pricing.html.j2:1: .*no_such_field"),
    ("{{ nothing_here }}", r"pricing.html.j2:1: 'nothing_here' is undefined"),
    ('{% include "parts/missing.html.j2" %}', r"template 'parts/missing.html.j2' not found"),
])
def test_template_mistakes_are_one_clear_error(folder: Path, body: str, expected: str) -> None:
    write(folder, "parts/pricing.html.j2", body)
    with pytest.raises(RenderError, match=expected):
        render(folder)


def test_invalid_mjml_is_reported(folder: Path) -> None:
    write(folder, "email/tool_card.mjml.j2", "<mj-text>{% include 'parts/tool_card.html.j2' %}\n")
    with pytest.raises(RenderError, match="not valid MJML"):
        render(folder)


@pytest.mark.parametrize("snippet, expected", [
    ("<script>alert(1)</script>", "script"),
    ('<a href="javascript:alert(1)">x</a>', "javascript"),
    ('<p onclick="steal()">x</p>', "event handler"),
    ('<img src="https://t.example/p.gif" width="1" height="1" alt="">', "tracking-pixel"),
    ('<img src="https://cdn.example/logo.png">', "alt text"),
])
def test_no_template_can_add_scripts_or_tracking_pixels(folder: Path, snippet: str, expected: str) -> None:
    write(folder, "parts/pricing.html.j2", snippet)
    with pytest.raises(RenderError, match=expected):
        render(folder)


CANARY = ('<mj-section><mj-column><mj-text><a href="{{ view.links.canary }}" aria-hidden="true" '
          'tabindex="-1"></a></mj-text></mj-column></mj-section>')


def test_no_template_can_drop_the_unsubscribe_link_or_the_canary(folder: Path) -> None:
    write(folder, "email/header.mjml.j2", "<mj-section><mj-column><mj-text>Hi</mj-text></mj-column></mj-section>")
    with pytest.raises(RenderError, match="canary"):
        render(folder)
    write(folder, "email/header.mjml.j2", CANARY)
    write(folder, "email/footer.mjml.j2", "<mj-section><mj-column><mj-text>Bye</mj-text></mj-column></mj-section>")
    with pytest.raises(RenderError, match="unsubscribe"):
        render(folder)


def test_no_template_can_put_the_canary_after_a_vote_link(folder: Path) -> None:
    """A scanner that follows links in order must meet the canary before any vote link."""
    write(folder, "email/header.mjml.j2", "<mj-section><mj-column><mj-text>Hi</mj-text></mj-column></mj-section>")
    footer = (Path(__file__).parents[1] / "digest" / "templates" / "email" / "footer.mjml.j2").read_text(encoding="utf-8")
    write(folder, "email/footer.mjml.j2", footer + CANARY)
    with pytest.raises(RenderError, match="before the first vote link"):
        render(folder)


def test_unknown_placeholder_is_refused_before_the_sender_would_fail(folder: Path) -> None:
    write(folder, "parts/pricing.html.j2", '<p><a href="{{ view.placeholders.vote(999, \'a\') }}">old vote</a></p>')
    with pytest.raises(RenderError, match="vote_999_a"):
        render(folder)


@pytest.mark.parametrize("engine", [CSS_INLINE, PREMAILER])
def test_rendering_never_touches_the_network(folder: Path, no_network: list, engine: str) -> None:
    rendered = render(folder, inliner=engine)
    assert rendered.html and not no_network
    # a remote stylesheet in a template is refused, and nothing is fetched on the way
    write(folder, "parts/pricing.html.j2", '<link rel="stylesheet" href="http://192.0.2.1/remote.css">')
    with pytest.raises(RenderError, match="external stylesheet"):
        render(folder, inliner=engine)
    write(folder, "parts/pricing.html.j2", "")
    write(folder, "email/head.mjml.j2", '<mj-head><mj-style inline="inline">@import url(http://192.0.2.1/a.css);'
          '</mj-style></mj-head>')
    with pytest.raises(RenderError, match="@import"):
        render(folder, inliner=engine)
    write(folder, "email/head.mjml.j2", "<mj-head><mj-style>@import url(http://192.0.2.1/b.css);</mj-style></mj-head>")
    with pytest.raises(RenderError, match="external stylesheet"):
        render(folder, inliner=engine)
    assert not no_network


@pytest.mark.parametrize("engine", [CSS_INLINE, PREMAILER])
def test_inliner_seam_inlines_only_the_given_css(no_network: list, engine: str) -> None:
    html = ('<!doctype html><html><head><style>@media (max-width:400px){.x{color:red!important}}</style>'
            '<link rel="stylesheet" href="http://192.0.2.1/x.css"></head>'
            '<body><p class="x" style="margin:0">Hi</p><p>There</p></body></html>')
    out = inline_css(html, ".x{color:blue;margin:4px}", engine=engine)
    doc = parse(out)
    first, second = doc.xpath("//p")
    style = first.get("style").replace(" ", "")
    assert "color:blue" in style and "margin:0" in style and "margin:4px" not in style, "inline styles win"
    assert second.get("style") is None
    assert "@media (max-width:400px)" in out and out.lower().startswith("<!doctype html>")
    assert not no_network


def test_unknown_inliner_is_an_error() -> None:
    with pytest.raises(RenderError, match="unknown CSS inliner"):
        inline_css("<p>x</p>", "p{}", engine="juice")
