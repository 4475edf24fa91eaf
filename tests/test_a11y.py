"""Every page a reader can open passes axe-core's WCAG 2.1 A and AA rules, in light and dark mode.

The pages: the issue email and the confirmation email as they arrive, the web version of an
issue, the archive, the sign-up page and the pages after it, the vote pages and the unsubscribe
pages, all from the real app on loopback in Debian's headless Chromium. axe-core comes bundled in
the axe-playwright-python package, so nothing is fetched at test time.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from render_helpers import make_settings, render_data
from webapp import _site, smtp_inbox, wait_until  # noqa: F401

from digest.config import LogoSettings
from digest.demo.sample import sample_issue_data

pytestmark = pytest.mark.browser

LOGO = LogoSettings(url="https://news.example.org/logo.png", width=120, height=30)
WCAG_21_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
              "resultTypes": ["violations"]}


def violations(page) -> list[str]:  # noqa: ANN001
    """One line per failing element: the rule, the element, and axe's summary of what is wrong."""
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(page, options=WCAG_21_AA).response["violations"]
    return [f"{rule['id']} at {node['target']}: {node['failureSummary'].splitlines()[-1].strip()}"
            for rule in found for node in rule["nodes"]]


def _without_script(route) -> None:  # noqa: ANN001
    """The vote page as a reader without JavaScript sees it: the <noscript> button, no script."""
    body = route.fetch().text()
    body = re.sub(r"<script>.*?</script>", "", body, flags=re.S).replace("<noscript>", "").replace("</noscript>", "")
    route.fulfill(status=200, content_type="text/html; charset=utf-8", body=body)


def _confirmation_link(inbox, address: str) -> tuple[str, str]:  # noqa: ANN001
    message = wait_until(lambda: inbox.to(address))[-1]
    html = message.get_body(("html",)).get_content()
    link = re.search(r"http://\S+/confirm/[^\s\"<]+", message.get_body(("plain",)).get_content()).group(0)
    return html, link


def reader_pages(site, inbox, folder: Path) -> Iterator[tuple[str, Callable]]:  # noqa: ANN001, C901
    """(name, step) pairs: each step brings a page to the page a reader would see next."""
    reader, c1 = site.data["readers"][0], site.data["c1"]
    email = folder / "email.html"
    settings = make_settings(folder, logo=site.settings.logo)
    email.write_text(render_data(sample_issue_data(), settings).html, encoding="utf-8")
    yield "issue email", lambda page: page.goto(email.as_uri())
    yield "web version", lambda page: page.goto(site.url + "/issues/1")
    yield "archive", lambda page: page.goto(site.url + "/issues/")
    yield "no such issue", lambda page: page.goto(site.url + "/issues/99")
    yield "sign-up", lambda page: page.goto(site.url + "/")

    def sign_up(page) -> None:  # noqa: ANN001
        page.fill("#email", "new.reader@example.org")
        page.click("button[type=submit]")
        page.wait_for_selector("h1")
    yield "sign-up: check your inbox", sign_up
    html, link = None, None

    def confirmation_email(page) -> None:  # noqa: ANN001
        nonlocal html, link
        html, link = _confirmation_link(inbox, "new.reader@example.org")
        mail = folder / "confirm.html"
        mail.write_text(html, encoding="utf-8")
        page.goto(mail.as_uri())
    yield "confirmation email", confirmation_email
    yield "confirm", lambda page: page.goto(link)

    def confirm(page) -> None:  # noqa: ANN001
        page.click("button[type=submit]")
        page.wait_for_selector("h1")
    yield "confirmed", confirm

    def vote_without_script(page) -> None:  # noqa: ANN001
        page.route("**/vote/**", _without_script)
        page.goto(site.url + site.vote_path(reader, 1, c1, "a"))
        page.unroute("**/vote/**")
    yield "vote: confirm button (no JavaScript)", vote_without_script

    def vote(page) -> None:  # noqa: ANN001
        page.goto(site.url + site.vote_path(reader, 1, c1, "b"))
        page.wait_for_selector("#community-split")
    yield "vote: voted", vote
    yield "unsubscribe", lambda page: page.goto(site.url + site.unsubscribe_path(reader))

    def unsubscribe(page) -> None:  # noqa: ANN001
        page.click("button[type=submit]")
        page.wait_for_selector("h1")
    yield "unsubscribe: done", unsubscribe


@pytest.fixture(params=["no logo", "logo"])
def site(request, home: Path, smtp_inbox):  # noqa: ANN001, ANN201, F811
    """The app with seeded data, its masthead the name alone or the name after a logo."""
    logo = f'[logo]\nurl = "{LOGO.url}"\nwidth = {LOGO.width}\nheight = {LOGO.height}' if request.param == "logo" else ""
    yield from _site(home, smtp_inbox, web=logo)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_reader_page_passes_axe_wcag_21_aa(site, smtp_inbox, browser, tmp_path, scheme) -> None:  # noqa: F811
    context = browser.new_context(color_scheme=scheme, bypass_csp=True, viewport={"width": 640, "height": 900})
    # the logo as a reader with images blocked gets it (nothing leaves the machine)
    context.route("https://**/*", lambda route: route.abort())
    page = context.new_page()
    found, seen = [], []
    try:
        for name, step in reader_pages(site, smtp_inbox[0], tmp_path):
            step(page)
            seen.append(name)
            found += [f"{name}: {line}" for line in violations(page)]
    finally:
        context.close()
    assert len(seen) == 13
    assert not found, f"{len(found)} WCAG 2.1 AA violations in {scheme} mode:\n" + "\n".join(found)
