"""The rendered email and web page in headless Chromium (Debian's), at phone and desktop widths.

Screenshots are kept in test-artifacts/render/ for a person to look at.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from render_helpers import make_settings, render_data

from digest.demo.sample import sample_issue_data

pytestmark = [pytest.mark.browser, pytest.mark.backend_independent]  # no database: the SQLite pass runs it

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "render"

LAYOUT = """() => {
  const box = (el) => { const r = el.getBoundingClientRect(); return {top: r.top, bottom: r.bottom, left: r.left, right: r.right}; };
  const cards = [...document.querySelectorAll('.card')].slice(0, 2).map(box);
  const quotes = [...document.querySelectorAll('.q')].slice(0, 2).map(box);
  return {scroll: document.documentElement.scrollWidth, inner: window.innerWidth, cards, quotes,
          cardBackground: getComputedStyle(document.querySelector('.card')).backgroundColor};
}"""


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("browser")
    rendered = render_data(sample_issue_data(), make_settings(folder))
    paths = {"email": folder / "email.html", "web": folder / "web.html"}
    paths["email"].write_text(rendered.html, encoding="utf-8")
    paths["web"].write_text(rendered.web, encoding="utf-8")
    return paths


def layout(browser, path: Path, width: int, scheme: str = "light", shot: str | None = None) -> dict:
    page = browser.new_page(viewport={"width": width, "height": 900}, color_scheme=scheme)
    try:
        page.goto(path.as_uri())
        result = page.evaluate(LAYOUT)
        if shot:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / shot), full_page=True)
        return result
    finally:
        page.close()


@pytest.mark.parametrize("name", ["email", "web"])
def test_cards_side_by_side_at_640_and_stacked_at_375_without_scrolling(browser, pages, name) -> None:
    wide = layout(browser, pages[name], 640, shot=f"{name}-640.png")
    narrow = layout(browser, pages[name], 375, shot=f"{name}-375.png")
    for result in (wide, narrow):
        assert result["scroll"] <= result["inner"], f"horizontal scrolling at {result['inner']} px"
    a, b = wide["cards"]
    assert abs(a["top"] - b["top"]) < 2 and b["left"] >= a["right"] - 1, "cards side by side at 640 px"
    qa, qb = wide["quotes"]
    assert abs(qa["top"] - qb["top"]) < 2 and qb["left"] >= qa["right"] - 1, "quotes side by side at 640 px"
    a, b = narrow["cards"]
    assert b["top"] >= a["bottom"] - 1 and abs(a["left"] - b["left"]) < 2, "cards stacked at 375 px"
    qa, qb = narrow["quotes"]
    assert qb["top"] >= qa["bottom"] - 1, "quotes stacked at 375 px"


@pytest.mark.parametrize("name", ["email", "web"])
def test_dark_mode_turns_the_cards_dark(browser, pages, name) -> None:
    light = layout(browser, pages[name], 640)
    dark = layout(browser, pages[name], 640, scheme="dark", shot=f"{name}-640-dark.png")
    assert light["cardBackground"] == "rgb(246, 248, 250)"
    assert dark["cardBackground"] == "rgb(13, 17, 23)"


BAR_COLOURS = """() => [...document.querySelectorAll('.bars .bl, .bars .bf')].map((el) => {
  let back = 'rgba(0, 0, 0, 0)';
  for (let node = el; node && (back === 'rgba(0, 0, 0, 0)' || back === 'transparent'); node = node.parentElement) {
    back = getComputedStyle(node).backgroundColor;
  }
  return {text: el.textContent.trim(), color: getComputedStyle(el).color, back};
})"""


def _luminance(rgb: str) -> float:
    channels = [int(part) / 255 for part in rgb[rgb.index("(") + 1:rgb.index(")")].split(",")[:3]]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


@pytest.mark.parametrize("name", ["email", "web"])
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_ship_rate_labels_and_figures_read_in_light_and_dark_mode(browser, pages, name, scheme) -> None:
    """The bars' tool names and percentages keep WCAG AA contrast (4.5:1) against what is behind them."""
    page = browser.new_page(viewport={"width": 640, "height": 900}, color_scheme=scheme)
    try:
        page.goto(pages[name].as_uri())
        cells = page.evaluate(BAR_COLOURS)
    finally:
        page.close()
    assert cells
    for cell in cells:
        light, dark = sorted((_luminance(cell["color"]), _luminance(cell["back"])), reverse=True)
        ratio = (light + 0.05) / (dark + 0.05)
        assert ratio >= 4.5, f"{cell['text']!r}: {cell['color']} on {cell['back']} is {ratio:.1f}:1 in {scheme} mode"
