"""The email leads with the verdict: both tools, the panel's pick and the vote buttons near the top.

Measured in headless Chromium (Debian's) on the demo's issue 1, as a reader opens outbox/1/email.html,
and again with the largest masthead logo the settings allow (600 x 120 px).
"""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from digest.config import LogoSettings
from digest.demo import STAGES, Stage, run_demo

pytestmark = [pytest.mark.browser, pytest.mark.backend_independent]  # no database: the SQLite pass runs it

LOGO = LogoSettings(url="https://news.example.org/logo.svg", width=600, height=120)
LOGO_SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="600" height="120"><rect width="600" height="120" fill="#3b5bdb"/></svg>'
FIRST_STAGES = ("serve_feeds", "init", "poll", "first_issue", "render")
PLACES = """() => {
  const top = (el) => el ? el.getBoundingClientRect().top + window.scrollY : null;
  const btns = [...document.querySelectorAll('a.btn')];
  return {logo: (document.querySelector(".brand img") || {}).naturalWidth || 0, vote: top(btns[0]), voteB: top(btns[1]), verdict: top(document.querySelector('.vh')),
          cardB: top(document.querySelectorAll('.card')[1]),
          scorecard: top(document.querySelector('.q')), height: document.documentElement.scrollHeight};
}"""


def _demo_email(folder: Path, *, logo: LogoSettings | None = None) -> Path:
    def set_logo(ctx) -> None:  # noqa: ANN001
        ctx.settings = dataclasses.replace(ctx.need_settings(), logo=logo)

    stages = [stage for stage in STAGES if stage.name in FIRST_STAGES]
    if logo is not None:
        stages.insert(len(stages) - 1, Stage("logo", set_logo))
    # In a thread of its own: the session's browser may already be running an event loop on this
    # one, and the demo's poll calls asyncio.run() (see the `browser` fixture in conftest.py).
    with ThreadPoolExecutor(max_workers=1) as thread:
        run = thread.submit(run_demo, keep=folder / "newsletter", say=lambda line: None, stages=stages).result()
    return run.home / "outbox" / "1" / "email.html"


@pytest.fixture(scope="module")
def demo_email(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _demo_email(tmp_path_factory.mktemp("verdict"))


@pytest.fixture(scope="module")
def demo_email_with_logo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _demo_email(tmp_path_factory.mktemp("verdict-logo"), logo=LOGO)


def places(browser, path: Path, width: int) -> dict:  # noqa: ANN001
    page = browser.new_page(viewport={"width": width, "height": 900})
    try:
        page.route(LOGO.url, lambda route: route.fulfill(content_type="image/svg+xml", body=LOGO_SVG))
        page.goto(path.as_uri())
        return page.evaluate(PLACES)
    finally:
        page.close()


@pytest.mark.parametrize("email", ["demo_email", "demo_email_with_logo"])
@pytest.mark.parametrize(("width", "limit"), [(640, 1300), (375, 1600)])
def test_the_first_vote_button_is_near_the_top_of_the_demo_issue(request, browser, email, width, limit) -> None:
    path = request.getfixturevalue(email)
    if email == "demo_email_with_logo":
        assert "logo.svg" in path.read_text(encoding="utf-8")
    spot = places(browser, path, width)
    assert spot["logo"] == (600 if email == "demo_email_with_logo" else 0), "the logo is drawn at its full size"
    assert spot["vote"] is not None and spot["vote"] <= limit, f"first vote button at {spot['vote']} px at {width} px wide"
    assert spot["cardB"] <= limit and spot["voteB"] <= limit + 300, "both tools and both buttons come early"
    assert spot["verdict"] <= limit + 400, "the panel's pick follows the cards at once"
    assert spot["scorecard"] > spot["vote"], "the full scorecard still follows"
