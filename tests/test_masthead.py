"""The masthead: the newsletter's name, and its logo when `[logo]` sets one, at the top of the
email, its text part, the web version and every reader page; the name is there as text, so an
email read with images blocked still says whose it is."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from render_helpers import make_settings, parse, render_data
from webapp import _site, csrf_of, smtp_inbox, wait_until  # noqa: F401

from digest.config import LogoSettings
from digest.demo.sample import sample_issue_data

LOGO_URL = "https://news.example.org/static/logo.png"
NAME = "Weekly AI Tool Verdicts"


def masthead(html: str):  # noqa: ANN201 - an lxml element
    (brand,) = parse(html).xpath('//*[contains(concat(" ", @class, " "), " brand ")]')
    return brand


def name_with_images_blocked(brand) -> str:  # noqa: ANN001
    for image in brand.xpath(".//img"):
        image.drop_tree()
    return " ".join(brand.text_content().split())


def test_without_a_logo_the_masthead_is_the_name_as_text_and_nothing_is_fetched(tmp_path: Path) -> None:
    rendered = render_data(sample_issue_data(), make_settings(tmp_path))
    for html in (rendered.html, rendered.web):
        assert " ".join(masthead(html).text_content().split()) == NAME
        assert parse(html).xpath("//img") == []
    assert rendered.text.splitlines()[0] == NAME


def test_a_logo_has_alt_width_and_height_and_the_name_stays_as_text(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, logo=LogoSettings(url=LOGO_URL, width=160, height=40))
    rendered = render_data(sample_issue_data(), settings)
    for html in (rendered.html, rendered.web):
        brand = masthead(html)
        (image,) = brand.xpath(".//img")
        assert (image.get("src"), image.get("alt"), image.get("width"), image.get("height")) == (LOGO_URL, NAME, "160", "40")
        # the alt already says the name: screen readers hear it once, eyes see it with images blocked
        assert brand.xpath(".//span/@aria-hidden") == ["true"]
        assert name_with_images_blocked(brand) == NAME
    assert rendered.text.splitlines()[0] == NAME
    assert "logo" not in rendered.text


def test_a_logo_with_its_own_alt_text_leaves_the_name_to_screen_readers(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, logo=LogoSettings(url=LOGO_URL, width=40, height=40, alt="A ticked box"))
    brand = masthead(render_data(sample_issue_data(), settings).html)
    assert brand.xpath(".//img/@alt") == ["A ticked box"]
    assert brand.xpath(".//@aria-hidden") == []
    assert name_with_images_blocked(brand) == NAME


@pytest.fixture
def logo_site(home: Path, smtp_inbox):  # noqa: ANN001, ANN201, F811
    yield from _site(home, smtp_inbox, web=f'[logo]\nurl = "{LOGO_URL}"\nwidth = 120\nheight = 30\nalt = ""')


def test_every_reader_page_carries_the_logo_and_the_name(logo_site) -> None:
    reader, c1 = logo_site.data["readers"][0], logo_site.data["c1"]
    paths = ["/", "/issues/", "/issues/1", "/issues/99", logo_site.vote_path(reader, 1, c1, "a"),
             logo_site.unsubscribe_path(reader)]
    with httpx.Client(base_url=logo_site.url, timeout=10) as client:
        for path in paths:
            brand = masthead(client.get(path).text)
            (image,) = brand.xpath(".//img")
            assert (image.get("src"), image.get("alt"), image.get("width"), image.get("height")) == \
                (LOGO_URL, NAME, "120", "30"), path
            assert name_with_images_blocked(brand) == NAME, path


def test_the_confirmation_email_carries_the_logo_and_the_name(logo_site, smtp_inbox) -> None:  # noqa: F811
    with httpx.Client(base_url=logo_site.url, timeout=10) as client:
        csrf = csrf_of(client.get("/").text)
        assert client.post("/subscribe", data={"email": "new@example.org", "csrf": csrf}).status_code == 200
    message = wait_until(lambda: smtp_inbox[0].to("new@example.org"))[-1]
    html = message.get_body(("html",)).get_content()
    (image,) = parse(html).xpath("//img")
    assert (image.get("src"), image.get("alt"), image.get("width"), image.get("height")) == (LOGO_URL, NAME, "120", "30")
    image.drop_tree()
    assert NAME in " ".join(parse(html).xpath("//p")[0].text_content().split())
    assert message.get_body(("plain",)).get_content().splitlines()[0] == NAME
