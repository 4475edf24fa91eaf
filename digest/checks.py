"""The guarantees every rendered email and web page keeps, checked on the parsed document.

The checks read the HTML the way a mail client does, through a parser (lxml), never with
patterns over the text: feed text such as `onmouseover="x"`, `size="large` or `<script>` is
text once the template layer has escaped it, and a parser sees it as text, while a pattern
cannot tell it from markup. The bodies of Outlook's conditional comments (`<!--[if mso]>`),
which Outlook renders as HTML, are parsed and checked too.
"""

from __future__ import annotations

from collections.abc import Iterator

from digest.errors import RenderError
from digest.links import Placeholders

_URL_ATTRIBUTES = ("href", "src", "action", "formaction", "background", "xlink:href", "poster")
_PIXEL_SIZES = {"0", "1", "0px", "1px"}


def _parse(html: str):  # noqa: ANN202 - an lxml element
    import lxml.html

    try:
        return lxml.html.document_fromstring(html)
    except Exception as exc:  # lxml raises ParserError or ValueError on an empty or broken document
        raise RenderError(f"the rendered HTML cannot be parsed: {exc}") from None


def _conditional_bodies(root) -> Iterator[object]:  # noqa: ANN001
    """The parsed content of each `<!--[if ...]>...<![endif]-->` comment."""
    import lxml.html
    from lxml import etree

    for comment in root.iter(etree.Comment):
        text = comment.text or ""
        if text.lstrip().startswith("[if") and "]>" in text:
            body = text.split("]>", 1)[1].rsplit("<![endif]", 1)[0]
            if body.strip():
                yield lxml.html.fragment_fromstring(body, create_parent="div")


def _elements(root) -> Iterator[object]:  # noqa: ANN001
    for tree in (root, *_conditional_bodies(root)):
        for element in tree.iter():
            if isinstance(element.tag, str):  # not a comment or a processing instruction
                yield element


def _is_javascript(url: str) -> bool:
    squeezed = "".join(ch for ch in url if ch > " ").lower()
    return squeezed.startswith(("javascript:", "vbscript:"))


def hrefs(html: str) -> list[str]:
    """Every link target (`<a href>`, `<area href>`) of a document, decoded, in document order."""
    return [element.get("href") for element in _parse(html).iter("a", "area") if element.get("href") is not None]


def check_email_html(html: str, *, canary: str | None, placeholders: Placeholders | None = None) -> None:
    """The guarantees every email keeps, whatever the templates say; RenderError otherwise.

    No scripts or event handlers, no javascript: URLs, no external stylesheets, alt text on
    every image and no tracking pixel, and, when `canary` is given, exactly one canary link,
    before any vote link of `placeholders`: mail scanners follow links in document order, and
    one that has fetched the canary is marked before it reaches a vote link.
    """
    root = _parse(html)
    for element in _elements(root):
        tag = element.tag.lower()
        if tag == "script" or any(name.lower().startswith("on") for name in element.attrib):
            raise RenderError("the email contains a script or an event handler",
                              hint="email templates must not carry scripts")
        if any(_is_javascript(element.get(name, "")) for name in _URL_ATTRIBUTES):
            raise RenderError("the email contains a javascript: link", hint="email templates must not carry scripts")
        if tag == "link" and "stylesheet" in (element.get("rel") or "").lower():
            raise RenderError("the email loads an external stylesheet; put the CSS in the template's <mj-style>")
        if tag == "style" and "@import" in (element.text or "").lower():
            raise RenderError("the email loads an external stylesheet; put the CSS in the template's <mj-style>")
        if tag == "img":
            described = _describe(element)
            if element.get("alt") is None:
                raise RenderError(f"an image has no alt text: {described}")
            if {(element.get("width") or "").strip().lower(), (element.get("height") or "").strip().lower()} & _PIXEL_SIZES:
                raise RenderError(f"the email contains a tracking-pixel-sized image: {described}")
    if canary is not None:
        _check_canary(hrefs(html), canary=canary, placeholders=placeholders)


def _describe(element) -> str:  # noqa: ANN001
    return "<img " + " ".join(f'{k}="{v}"' for k, v in element.attrib.items())[:80] + ">"


def _check_canary(targets: list[str], *, canary: str, placeholders: Placeholders | None) -> None:
    count = targets.count(canary)
    if count != 1:
        raise RenderError(f"the email must hold exactly one canary link ({canary}); it holds {count}",
                          hint="keep the canary link of email/header.mjml.j2")
    if placeholders is None:
        return
    first_vote = next((i for i, target in enumerate(targets) if placeholders.is_vote(target)), None)
    if first_vote is not None and first_vote < targets.index(canary):
        raise RenderError("the canary link must come before the first vote link",
                          hint="mail scanners follow links in order; keep the canary at the top "
                               "(email/header.mjml.j2)")
