"""The email leads with the verdict: both tools, the panel's pick and the vote buttons near the top.

Measured in headless Chromium (Debian's) on the demo's issue 1, as a reader opens outbox/1/email.html.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_render_browser import ARGS, CHROMIUM

from digest.demo import STAGES, run_demo

pytestmark = pytest.mark.browser

FIRST_STAGES = ("serve_feeds", "init", "poll", "first_issue", "render")
PLACES = """() => {
  const top = (el) => el ? el.getBoundingClientRect().top + window.scrollY : null;
  const btns = [...document.querySelectorAll('a.btn')];
  return {vote: top(btns[0]), voteB: top(btns[1]), verdict: top(document.querySelector('.vh')),
          cardB: top(document.querySelectorAll('.card')[1]),
          scorecard: top(document.querySelector('.q')), height: document.documentElement.scrollHeight};
}"""


@pytest.fixture(scope="module")
def demo_email(tmp_path_factory: pytest.TempPathFactory) -> Path:
    stages = [stage for stage in STAGES if stage.name in FIRST_STAGES]
    run = run_demo(keep=tmp_path_factory.mktemp("verdict") / "newsletter", say=lambda line: None, stages=stages)
    return run.home / "outbox" / "1" / "email.html"


def places(path: Path, width: int) -> dict:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.goto(path.as_uri())
            return page.evaluate(PLACES)
        finally:
            browser.close()


@pytest.mark.parametrize(("width", "limit"), [(640, 1300), (375, 1600)])
def test_the_first_vote_button_is_near_the_top_of_the_demo_issue(demo_email, width, limit) -> None:
    spot = places(demo_email, width)
    assert spot["vote"] is not None and spot["vote"] <= limit, f"first vote button at {spot['vote']} px at {width} px wide"
    assert spot["cardB"] <= limit and spot["voteB"] <= limit + 300, "both tools and both buttons come early"
    assert spot["verdict"] <= limit + 400, "the panel's pick follows the cards at once"
    assert spot["scorecard"] > spot["vote"], "the full scorecard still follows"
