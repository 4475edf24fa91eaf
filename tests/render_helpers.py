"""Helpers for the render tests: settings without a database, parsing, link extraction."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import lxml.html

from digest.config import Settings
from digest.render import Renderer, RenderedIssue
from digest.view import EMAIL, WEB, IssueData, ToolData, view_from_data

BASE = "https://news.example.org"
SECRET = "render-test-secret"
_TEXT_LINK = re.compile(r"(?:https?://|__digest_)\S+")


def make_settings(home: Path, **changes) -> Settings:
    return Settings(home=home, base_url=BASE, secret_key=SECRET,
                    sender="Weekly AI Tool Verdicts <verdicts@news.example.org>", **changes)


def render_data(data: IssueData, settings: Settings, **renderer_options) -> RenderedIssue:
    renderer = Renderer(settings, **renderer_options)
    return renderer.render(view_from_data(data, settings=settings, medium=EMAIL),
                           view_from_data(data, settings=settings, medium=WEB))


def parse(html: str):
    return lxml.html.document_fromstring(html)


def visible_text(html: str) -> str:
    """What a reader sees: body text without styles, whitespace collapsed."""
    doc = parse(html)
    for element in doc.xpath("//style|//head"):
        element.drop_tree()
    return " ".join(doc.text_content().split())


def html_links(html: str) -> set[str]:
    return {a.get("href") for a in parse(html).iter("a") if a.get("href")}


def text_links(text: str) -> set[str]:
    """URLs and link placeholders of a text part (the reader's address is not a link)."""
    return {link for link in _TEXT_LINK.findall(text) if not (link.startswith("__digest_") and link.endswith("_email__"))}


def rename_tool(data: IssueData, index: int, side: str, name: str) -> IssueData:
    """The issue with one tool of one comparison renamed (the same tool elsewhere is left)."""
    comparisons = list(data.comparisons)
    comparison = comparisons[index]
    tool: ToolData = getattr(comparison, side)
    comparisons[index] = dataclasses.replace(comparison, **{side: dataclasses.replace(tool, name=name)})
    return dataclasses.replace(data, comparisons=tuple(comparisons))
