"""The vote page in headless Chromium (Debian's, never a downloaded build): its one script casts
the vote at once; with JavaScript off, the <noscript> button does; the CSP lets nothing else run."""

from __future__ import annotations

import pytest
from webapp import site, smtp_inbox, wait_until  # noqa: F401

pytestmark = pytest.mark.browser


def _votes(site) -> list:  # noqa: ANN001
    return site.rows("SELECT subscriber_id, comparison_id, choice FROM vote")


def test_the_page_script_casts_the_vote(site, browser) -> None:  # noqa: F811
    reader, c1 = site.data["readers"][0], site.data["c1"]
    context = browser.new_context(java_script_enabled=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(site.url + site.vote_path(reader, 1, c1, "b"))
    page.wait_for_selector("#community-split", timeout=10_000)
    assert "Your vote for" in page.inner_text("h1") and "Draftwell" in page.inner_text("h1")
    assert _votes(site) == [(reader, c1, "b")]
    assert not [e for e in errors if "Content Security Policy" in e], errors
    context.close()


def test_without_javascript_the_button_casts_the_vote(site, browser) -> None:  # noqa: F811
    reader, c2 = site.data["readers"][1], site.data["c2"]
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(site.url + site.vote_path(reader, 1, c2, "a"))
    assert _votes(site) == []  # the page alone casts nothing
    page.click("button[type=submit]")
    page.wait_for_selector("#community-split", timeout=10_000)
    assert "Lintern" in page.inner_text("h1")
    assert _votes(site) == [(reader, c2, "a")]
    context.close()


def test_a_script_injected_into_the_page_is_blocked_by_the_csp(site, browser) -> None:  # noqa: F811
    context = browser.new_context()
    page = context.new_page()
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text))
    page.goto(site.url + "/issues/")
    # what an injected inline script would try: the policy allows no script on this page
    page.evaluate("""() => { const s = document.createElement('script');
                             s.textContent = 'document.title = "pwned"'; document.body.appendChild(s); }""")
    assert page.title() != "pwned"
    wait_until(lambda: any("Content Security Policy" in v for v in violations), timeout=5)
    context.close()
