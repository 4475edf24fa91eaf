"""The rendered email, text part and web page, checked as a reader and a mail client see them."""

from __future__ import annotations

import dataclasses
import email
import os
import re
from email.policy import default as default_policy
from email.policy import strict
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from render_helpers import (BASE, SECRET, html_links, make_settings, parse, rename_tool, render_data,
                            text_links, visible_text)

from digest import links
from digest.errors import RenderError
from digest.inline import CSS_INLINE, PREMAILER
from digest.render import HTML_BUDGET, MESSAGE_BUDGET, message_template, sample_message
from digest.demo.sample import sample_issue_data
from digest.tokens import Purpose, Signer
from digest.view import ReviewData


@pytest.fixture
def settings(tmp_path):
    return make_settings(tmp_path)


@pytest.fixture
def data():
    return sample_issue_data()


@pytest.fixture
def rendered(data, settings):
    return render_data(data, settings)


def test_every_name_quote_and_figure_is_in_all_three_parts(data, rendered) -> None:
    html_text, web_text = visible_text(rendered.html), visible_text(rendered.web)
    text = " ".join(rendered.text.split())
    for comparison in data.comparisons:
        for tool in (comparison.a, comparison.b):
            for value in (tool.name, tool.tagline, tool.description, tool.category, tool.vendor):
                for part in (html_text, web_text, text):
                    assert value in part, value
        for review in comparison.reviews:
            for part in (html_text, web_text, text):
                assert review.quote in part
        for part in (html_text, web_text, text):
            assert comparison.title in part and comparison.pricing_read in part
    first = rendered.view.comparisons[0]
    assert (first.a.ship, first.b.ship) == ("100%", "50%")
    assert (first.a.community, first.b.community) == ("64%", "36%")
    for part in (html_text, web_text, text):
        assert "The panel ships Patchwise" in part and "Patchwise wins the panel 100% to 50% over Lintern." in part
        assert "The Skeptic and The Futurist ship one and skip the other." in part
        assert "58 reader votes so far." in part and "Freemium" in part and "Open source" in part
        for reviewer in ("The Builder", "The Skeptic", "The Buyer", "The Futurist"):
            assert reviewer in part


def test_email_is_a_proper_accessible_document(rendered, settings) -> None:
    html = rendered.html
    assert html.startswith("<!DOCTYPE html>") or html.lower().startswith("<!doctype html>")
    assert html.isascii(), "non-ASCII must be character references so the part goes 7bit"
    doc = parse(html)
    assert doc.get("lang") == "en"
    assert doc.findtext(".//title") == rendered.subject
    assert doc.xpath("//meta[@name='color-scheme']/@content") == ["light dark"]
    assert not doc.xpath("//script") and not doc.xpath("//link") and not doc.xpath("//img")
    styles = " ".join(s.text or "" for s in doc.iter("style"))
    assert "prefers-color-scheme:dark" in styles.replace(" ", "")
    assert "mj-column-per-50" in styles, "MJML's responsive columns need their media query"
    assert "@import" not in styles
    # the preheader is the first text in the body, hidden
    first_div = doc.body.xpath(".//div")[0]
    assert "display:none" in first_div.get("style").replace(" ", "")
    assert rendered.view.preheader in first_div.text_content()


def test_component_styles_are_inlined_once_and_classes_kept(rendered) -> None:
    doc = parse(rendered.html)
    buttons = doc.xpath("//a[contains(concat(' ', @class, ' '), ' btn ')]")
    assert len(buttons) == 6
    for button in buttons:
        style = button.get("style").replace(" ", "")
        assert "display:inline-block" in style and "color:#ffffff" in style
        assert style.count("padding:") == 1
    # the component rules live only in style attributes, not in a <style> block too
    head_css = " ".join(s.text or "" for s in doc.iter("style"))
    assert "padding:10px 18px" not in head_css and "background:#f6f8fa" not in head_css


@pytest.mark.parametrize("engine", [CSS_INLINE, PREMAILER])
def test_both_inliners_keep_doctype_media_queries_and_inline_the_cards(data, settings, engine) -> None:
    rendered = render_data(data, settings, inliner=engine)
    assert rendered.html.lower().startswith("<!doctype html>")
    doc = parse(rendered.html)
    cards = doc.xpath("//div[contains(concat(' ', @class, ' '), ' card ')]")
    assert len(cards) == 6
    assert all("border-radius:10px" in c.get("style").replace(" ", "") for c in cards)
    assert "prefers-color-scheme" in rendered.html and "min-width:480px" in rendered.html
    assert 'data-premailer' not in rendered.html
    assert rendered.html_size < HTML_BUDGET


def test_links_of_the_text_part_equal_the_html_links_but_the_canary(rendered, settings) -> None:
    canary = links.canary_url(BASE, rendered.number)
    in_html = html_links(rendered.html)
    assert canary in in_html
    # The canary has no text counterpart: it exists for scanners only, and a visible URL in the
    # text part would be clicked by people, who would then be taken for scanners.
    assert text_links(rendered.text) == in_html - {canary}
    expected = {rendered.placeholders("web"), rendered.placeholders("unsubscribe"), BASE + "/issues/", BASE + "/"}
    for comparison in rendered.view.comparisons:
        expected |= {rendered.placeholders.vote(comparison.id, "a"), rendered.placeholders.vote(comparison.id, "b"),
                     comparison.a.url, comparison.b.url}
    assert in_html - {canary} == expected


def test_text_part_is_wrapped_and_never_breaks_a_link(rendered) -> None:
    for line in rendered.text.splitlines():
        if len(line) > 72:
            assert re.fullmatch(r"\s*(https?://|__digest_)\S+", line), line
    # each link stands alone on its line, so substitution never makes a prose line long
    for line in rendered.text.splitlines():
        if "__digest_" in line:
            assert re.fullmatch(r"\s*__digest_[a-z0-9_]+__\S*", line), line


def test_canary_is_the_first_link_of_the_email_before_every_vote_link(rendered) -> None:
    """Mail scanners follow links in order: the canary marks one before it reaches a vote link."""
    ordered = [a.get("href") for a in parse(rendered.html).iter("a") if a.get("href")]
    assert ordered[0] == links.canary_url(BASE, rendered.number)
    assert sum(rendered.placeholders.is_vote(href) for href in ordered) == 2 * len(rendered.view.comparisons) > 0


def test_canary_is_one_invisible_link_skipped_by_screen_readers(rendered) -> None:
    doc = parse(rendered.html)
    canaries = [a for a in doc.iter("a") if a.get("href") == links.canary_url(BASE, rendered.number)]
    assert len(canaries) == 1
    canary = canaries[0]
    assert canary.get("aria-hidden") == "true" and canary.get("tabindex") == "-1"
    assert canary.text_content().strip() == "" and len(canary) == 0
    assert "display:none" in canary.get("style").replace(" ", "")


def test_placeholders_are_filled_by_substitution_into_signed_links(rendered, settings) -> None:
    raw = sample_message(settings=settings, rendered=rendered)
    assert b"__digest_" not in raw
    assert not any(part.defects for part in email.message_from_bytes(raw, policy=strict).walk())
    message = email.message_from_bytes(raw, policy=default_policy)
    assert message["To"] == "reader@example.org" and message["From"] == settings.sender
    assert message["Subject"] == rendered.subject
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text_part, html_part = message.get_payload()
    assert html_part["Content-Transfer-Encoding"] == "7bit"
    html, text = html_part.get_content(), text_part.get_content()
    signer = Signer(SECRET)
    votes = [h for h in html_links(html) if h.startswith(BASE + "/vote/")]
    assert len(votes) == 6
    seen = set()
    for href in votes:
        claims = signer.verify_vote(href.rsplit("/", 1)[1])
        assert claims.subscriber_id == 0 and claims.issue_number == rendered.number
        seen.add((claims.comparison_id, claims.choice))
        assert href in text
    assert seen == {(c.id, side) for c in rendered.view.comparisons for side in "ab"}
    unsubscribe = [h for h in html_links(html) if h.startswith(BASE + "/unsubscribe/")]
    assert len(unsubscribe) == 1 and unsubscribe[0] in text
    assert signer.verify(unsubscribe[0].rsplit("/", 1)[1], purpose=Purpose.UNSUBSCRIBE).subscriber_id == 0
    assert f"<{unsubscribe[0]}>" in message["List-Unsubscribe"]
    assert "with the address reader@example.org." in visible_text(html)
    web_version = [h for h in html_links(html) if h.startswith(links.issue_url(BASE, rendered.number) + "?t=")]
    assert web_version and web_version[0] in text
    token = web_version[0].split("?t=", 1)[1]
    assert signer.verify(token, purpose=Purpose.WEB).subject_id == rendered.number


def test_web_page_has_no_personal_links_and_points_to_the_email_for_votes(rendered) -> None:
    web = rendered.web
    assert "__digest_" not in web
    assert links.canary_url(BASE, rendered.number) not in web
    doc = parse(web)
    assert doc.get("lang") == "en" and not doc.xpath("//script")
    assert not any("/vote/" in href or "/unsubscribe/" in href for href in html_links(web))
    assert "Readers vote from the email." in visible_text(web)
    for comparison in rendered.view.comparisons:
        assert doc.get_element_by_id(comparison.anchor) is not None


@pytest.mark.parametrize("name", ["<script>alert(1)</script>", 'Tom & Jerry "AI"'])
def test_hostile_names_show_as_text_everywhere(data, settings, name) -> None:
    data = rename_tool(data, 0, "a", name)
    data = dataclasses.replace(data, subject=f"{name} vs Lintern")
    rendered = render_data(data, settings)
    for part in (rendered.html, rendered.web):
        doc = parse(part)
        assert not doc.xpath("//script")
        assert name in visible_text(part)
        assert doc.findtext(".//title").startswith(name)
    assert f"{name} vs Lintern" in rendered.text and "<script>alert(1)</script>" not in rendered.mjml
    message = email.message_from_bytes(sample_message(settings=settings, rendered=rendered), policy=default_policy)
    assert message["Subject"] == f"{name} vs Lintern"


def test_budget_issue_fits_gmail_and_the_message_limit(settings) -> None:
    data = sample_issue_data(comparisons=3)
    words = [len(r.quote.split()) for c in data.comparisons for r in c.reviews]
    assert len(words) == 24 and 100 <= sum(words) / len(words) <= 140, "three comparisons, four reviewers, ~120 words"
    rendered = render_data(data, settings)
    assert not rendered.warnings and not rendered.view.trimmed
    assert rendered.html_size < 102_000
    raw = sample_message(settings=settings, rendered=rendered)
    assert len(raw) < 150_000
    assert len(raw) < MESSAGE_BUDGET


def test_a_huge_issue_moves_later_quotes_to_the_web_page_instead_of_clipping(settings) -> None:
    data = sample_issue_data(comparisons=4, sentences=12)
    rendered = render_data(data, settings)
    assert rendered.html_size <= HTML_BUDGET
    assert len(sample_message(settings=settings, rendered=rendered)) < MESSAGE_BUDGET
    assert any("clipping budget" in w for w in rendered.warnings)
    trimmed = [c for c in rendered.view.comparisons if c.quotes_on_web]
    kept = [c for c in rendered.view.comparisons if not c.quotes_on_web]
    assert trimmed and kept and kept[-1].id < trimmed[0].id, "the later comparisons move first"
    html, text = visible_text(rendered.html), rendered.text
    first_quote = data.comparisons[0].reviews[0].quote
    last_quote = data.comparisons[-1].reviews[0].quote
    assert first_quote in html and last_quote not in html and last_quote not in " ".join(text.split())
    assert last_quote in visible_text(rendered.web), "the web page keeps every quote"
    for comparison in trimmed:
        url = f"{rendered.placeholders('web')}#{comparison.anchor}"
        assert url in html_links(rendered.html) and url in text
    assert "Read the full scorecard with every quote" in html
    # badges stay: who ships what is still in the email
    assert visible_text(rendered.html).count("Ship") >= 4 * 4


def test_an_issue_too_large_even_trimmed_is_refused(settings) -> None:
    data = sample_issue_data(comparisons=40)
    with pytest.raises(RenderError, match="too large for one email"):
        render_data(data, settings)


def test_issue_not_ready_renders_with_visible_placeholders_and_a_warning(settings) -> None:
    data = sample_issue_data(comparisons=2)
    first = data.comparisons[0]
    partial = tuple(r for r in first.reviews if not (r.reviewer == "skeptic" and r.side == "b"))
    data = dataclasses.replace(data, comparisons=(dataclasses.replace(first, reviews=partial), data.comparisons[1]))
    rendered = render_data(data, settings)
    assert not rendered.ready
    assert any("not ready" in w and "The Skeptic has not reviewed Lintern" in w for w in rendered.warnings)
    for part in (visible_text(rendered.html), visible_text(rendered.web), rendered.text):
        assert "Review pending" in part
    assert rendered.view.comparisons[0].verdict == "a"  # 100% vs 67%: still shown, from three reviews


def test_comparison_without_reviews_or_votes_says_pending(settings) -> None:
    data = sample_issue_data(comparisons=1, votes=False)
    data = dataclasses.replace(data, comparisons=(dataclasses.replace(data.comparisons[0], reviews=()),))
    rendered = render_data(data, settings)
    text = visible_text(rendered.html)
    assert "Verdict pending" in text and "No reader votes yet" in text
    assert text.count("Review pending") == 8
    assert "—" in rendered.text and "&#8212;" in rendered.html  # no figure yet, as a dash


def test_reviewer_not_on_the_panel_any_more_is_still_shown(settings) -> None:
    data = sample_issue_data(comparisons=1)
    extra = (ReviewData("guest-critic", "a", "skip", "A guest take on the first tool."),
             ReviewData("guest-critic", "b", "ship", "A guest take on the second tool."))
    comparison = dataclasses.replace(data.comparisons[0], reviews=data.comparisons[0].reviews + extra)
    rendered = render_data(dataclasses.replace(data, comparisons=(comparison,)), settings)
    assert "Guest Critic" in visible_text(rendered.html) and "A guest take on the second tool." in rendered.text


def test_message_template_is_the_one_the_sender_uses(rendered, settings) -> None:
    template = message_template(settings=settings, rendered=rendered)
    assert template.placeholders == rendered.placeholders.names_in(rendered.html) | rendered.placeholders.names_in(rendered.text)
    values = links.Personaliser(base_url=BASE, signer=Signer(SECRET), issue_number=rendered.number,
                                comparison_ids=[c.id for c in rendered.view.comparisons]).values(7, "x@example.org")
    raw = template.personalise(to="x@example.org", values=values, message_id="m@example.org")
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    message = email.message_from_bytes(raw, policy=default_policy)
    assert message["List-Id"] == "Weekly AI Tool Verdicts <verdicts.news.example.org>"


def test_content_filters_read_it_as_a_newsletter(rendered, settings) -> None:
    text = visible_text(rendered.html)
    assert len(text.encode()) / len(rendered.html.encode()) >= 0.25, "text-to-markup ratio"
    shouting = [w for w in re.findall(r"[A-Za-z]{4,}", text) if w.isupper()]
    assert not shouting, shouting
    hosts = {re.sub(r"^https?://([^/]+).*$", r"\1", h) for h in html_links(rendered.html) if h.startswith("http")}
    tool_hosts = {re.sub(r"^https?://([^/]+).*$", r"\1", u) for c in rendered.view.comparisons
                  for u in (c.a.url, c.b.url)}
    assert hosts <= {"news.example.org"} | tool_hosts, "no shorteners or redirectors: every link says where it goes"
    message = email.message_from_bytes(sample_message(settings=settings, rendered=rendered), policy=default_policy)
    assert message["From"].addresses[0].display_name == "Weekly AI Tool Verdicts"
    assert message["List-Id"] and settings.postal_address in visible_text(rendered.html)
    assert "Unsubscribe" in text


@given(st.lists(st.one_of(st.text(alphabet="abcdefghij", min_size=1, max_size=12),
                          st.text(alphabet="abc/:.", min_size=60, max_size=120)), max_size=60),
       st.sampled_from(["", "   ", "      "]))
def test_wrap_fills_like_textwrap_and_never_breaks_a_word(words, indent) -> None:
    import textwrap

    from digest.render import wrap

    text = " ".join(words)
    assert wrap(text, indent=indent) == textwrap.fill(text, width=72, initial_indent=indent, subsequent_indent=indent,
                                                      break_long_words=False, break_on_hyphens=False)


GOLDEN = Path(__file__).with_name("golden") / "sample-issue.txt"


def test_text_part_matches_the_golden_file(rendered) -> None:
    """The plain text of the sample issue, reviewed by eye once; UPDATE_GOLDEN=1 rewrites it on purpose.

    The render's random placeholder nonce is masked: `__digest_<nonce>_web__` reads `__digest_web__`."""
    text = rendered.text.replace(rendered.placeholders.prefix, "__digest_")
    if os.environ.get("UPDATE_GOLDEN") == "1":
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8")


def test_last_weeks_community_verdict_is_in_all_three_parts_before_the_comparisons(settings) -> None:
    from digest.view import PreviousIssueData

    previous = sample_issue_data()
    data = dataclasses.replace(sample_issue_data(number=2, votes=False), last_week=PreviousIssueData(
        number=1, subject="Last week's subject", comparisons=previous.comparisons))
    rendered = render_data(data, settings)
    verdict = "Patchwise won 64% of 58 reader votes, Lintern 36%. The panel agreed: it shipped Patchwise 100% to 50%."
    for part in (visible_text(rendered.html), visible_text(rendered.web), " ".join(rendered.text.split())):
        heading = part.index("Last week the community said")
        assert part.index("Issue 1: Last week's subject") > heading
        assert heading < part.index(verdict) < part.index("Comparison 1 of 3")
        assert "Readers picked Recapture" in part and "Nobody voted on Tessellate vs Quarry." in part
    last_week = {links.issue_url(BASE, 1)} | {links.issue_url(BASE, 1) + f"#c{n}" for n in (1, 2, 3)}
    assert last_week <= html_links(rendered.html) and last_week <= text_links(rendered.text)
    assert last_week <= html_links(rendered.web)
    assert "Last week the community said" not in render_data(previous, settings).text


def test_compiled_templates_are_kept_outside_the_folder_and_an_edited_template_still_counts(tmp_path, monkeypatch) -> None:
    """Compiling the templates cost a tenth of `digest issue render`, so the compiled code is
    kept between processes (Jinja's per-user temp folder); an editor's change to a template
    must still show on the next render, and nothing is written into the newsletter folder."""
    import tempfile

    from digest.render import template_environment

    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    templates = tmp_path / "news" / "templates"
    templates.mkdir(parents=True)
    (templates / "hello.txt.j2").write_text("Hello {{ name }}\n")
    assert template_environment(templates).get_template("hello.txt.j2").render(name="Ann") == "Hello Ann\n"
    assert list((tmp_path / "tmp").glob("_jinja2-cache-*/digest-*.cache"))
    assert template_environment(templates).get_template("hello.txt.j2").render(name="Ann") == "Hello Ann\n"
    (templates / "hello.txt.j2").write_text("Bye {{ name }}\n")
    assert template_environment(templates).get_template("hello.txt.j2").render(name="Ann") == "Bye Ann\n"
    assert [p.name for p in (tmp_path / "news").rglob("*")] == ["templates", "hello.txt.j2"]
