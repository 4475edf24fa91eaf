"""CSS inlining: the one seam behind which the inliner sits.

Email clients ignore or strip `<style>` blocks in places, so the render moves the templates'
component styles into `style` attributes. Only the CSS handed in is inlined: the `<style>`
blocks already in the document (MJML's resets, media queries for phones and dark mode) stay
in the head untouched, so nothing is inlined twice and the responsive layout keeps working.

Inlining never touches the network: remote stylesheets are not loaded, and CSS that would
import one is refused with a RenderError before any inliner sees it.
"""

from __future__ import annotations

import logging
import re

from digest.errors import RenderError

PREMAILER = "premailer"
CSS_INLINE = "css-inline"
ENGINES = (PREMAILER, CSS_INLINE)

_IMPORT = re.compile(r"@import\b", re.IGNORECASE)
_DOCTYPE = re.compile(r"^\s*<!doctype[^>]*>", re.IGNORECASE)

def inline_css(html: str, css: str, *, engine: str = PREMAILER) -> str:
    """`html` with the rules of `css` written into the matching elements' style attributes.

    Existing inline styles win over the rules (as in a browser); existing `<style>` blocks
    and the doctype are kept. Raises RenderError for CSS that imports other stylesheets and
    for an unknown engine.
    """
    if _IMPORT.search(css):
        raise RenderError("the email's inline CSS uses @import; stylesheets are never fetched",
                          hint="put the rules in the template's <mj-style inline=\"inline\"> block")
    if engine == PREMAILER:
        return _premailer(html, css)
    if engine == CSS_INLINE:
        return _css_inline(html, css)
    raise RenderError(f"unknown CSS inliner {engine!r}; choose one of {', '.join(ENGINES)}")


def _premailer(html: str, css: str) -> str:
    import lxml.html
    from lxml import etree
    from premailer import Premailer

    doctype = _DOCTYPE.match(html)
    document = lxml.html.document_fromstring(html)
    # Premailer inlines every <style> block it finds: mark the document's own as off limits, on
    # the parsed tree (a text substitution could not tell a tag from text that looks like one).
    styles = list(document.iter("style"))
    for style in styles:
        style.set("data-premailer", "ignore")
    inliner = Premailer(
        css_text=[css] if css.strip() else None,
        allow_network=False,  # never load <link rel=stylesheet> or external_styles
        disable_leftover_css=True,  # rules that cannot be inlined are not copied to the head
        remove_classes=False,  # dark-mode and phone media queries select by class
        keep_style_tags=True,
        cssutils_logging_level=logging.CRITICAL,  # vendor properties (mso-*) are not errors
    )
    tree = inliner.transform(document)  # given a tree, premailer changes it in place and returns it
    for style in styles:
        style.attrib.pop("data-premailer", None)
    out = etree.tostring(tree, method="html", encoding="unicode")
    if doctype and not _DOCTYPE.match(out):
        out = doctype.group(0) + out
    return out


def _css_inline(html: str, css: str) -> str:
    import css_inline

    inliner = css_inline.CSSInliner(
        inline_style_tags=False,  # the document's own <style> blocks are media queries: kept as they are
        keep_style_tags=True, keep_link_tags=True,
        load_remote_stylesheets=False,  # never fetch a <link rel=stylesheet>
        extra_css=css or None, minify_css=True,
        apply_width_attributes=True, apply_height_attributes=True,  # for Outlook's Word engine
    )
    try:
        out = inliner.inline(html)
    except ValueError as exc:  # css_inline.InlineError subclasses ValueError
        raise RenderError(f"CSS could not be inlined: {exc}") from None
    # html5ever serialises as the HTML standard says: in attribute values only & and " are
    # escaped, so a "<" of a tool's name stays a plain character inside the quoted value, and
    # text keeps & < > escaped. Nothing is patched afterwards: a pattern over finished HTML
    # cannot tell text from markup (see digest.checks, which parses instead).
    return out
