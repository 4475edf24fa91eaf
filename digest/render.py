"""Rendering an issue: view model -> Jinja -> MJML -> HTML -> inlined CSS, plus text and web page.

An issue is rendered once; the per-subscriber links in the email are placeholders that the
sender fills by plain substitution (`digest.links`, `digest.message`). The pipeline:

1. the view model (`digest.view`), built once and handed to every template;
2. Jinja renders `issue.mjml.j2` (autoescaped, StrictUndefined) to MJML;
3. mjml-python turns MJML into table-based, responsive HTML;
4. whitespace is collapsed where that cannot change the rendering (while every "<" and quote
   of outside text is still an entity: Jinja escaped it and MJML keeps it so);
5. the component CSS (`<mj-style inline="inline">`) is inlined into style attributes, the
   media queries (phones, dark mode) stay in the head (`digest.inline`; never any network),
   and every non-ASCII character becomes a character reference, so the HTML part travels as
   7bit. Nothing patches the HTML after that: its checks parse it (`digest.checks`);
6. the plain-text part and the web page are rendered from the same view.

Budgets: Gmail clips an HTML part over 102 KB and hides what follows, the unsubscribe link
included. When an issue would exceed `HTML_BUDGET` (counted with every placeholder grown to
the longest link it may become), the quotes of the later comparisons move to the web page
behind a "read the full scorecard" link, one comparison at a time, and the render says so.
An issue that does not fit even then is refused: a clipped email is never produced.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from digest import links, wording
from digest.atomic import write_atomic
from digest.checks import check_email_html
from digest.errors import RenderError
from digest.inline import CSS_INLINE, inline_css
from digest.parts import IssueParts
from digest.view import EMAIL, WEB, IssueData, IssueView, Site, quotes_to_web, site_view

if TYPE_CHECKING:
    from jinja2 import Environment

    from digest.config import Settings
    from digest.data.engine import Database
    from digest.message import MessageTemplate

HTML_BUDGET = 102_000  # bytes of the delivered HTML part; Gmail clips at 102 KB
MESSAGE_BUDGET = 150_000  # bytes of the whole message, headers and both parts
TEXT_WIDTH = 72
DEFAULT_INLINER = CSS_INLINE  # premailer costs ~27 ms here, css-inline ~1 ms (bench/render.py)
PACKAGED_TEMPLATES = Path(__file__).with_name("templates")
# how templates are compiled (see _bytecode_cache: the cached code depends on them)
_TEMPLATE_OPTIONS = {"trim_blocks": True, "lstrip_blocks": True, "keep_trailing_newline": True, "auto_reload": False}
OUTPUT_FILES = ("email.mjml", "email.template.html", "email.template.txt", "email.html", "email.txt", "web.html",
                "sample.eml", "render.json")
RENDER_NOTE = "render.json"  # the placeholder nonce of email.template.html and .txt (see digest.links)
# The mailed parts with their link placeholders, as queueing freezes them (digest.outbox reads
# these names); email.html and email.txt beside them are the sample reader's, links filled in.
TEMPLATE_FILES = {"email.html": "email.template.html", "email.txt": "email.template.txt"}
SAMPLE_READER = (links.PROOF_SUBSCRIBER_ID, "reader@example.org")  # sample.eml's links, like a proof's, act on no one

_INLINE_STYLE = re.compile(r"<mj-style\s+inline=(['\"])inline\1\s*>(.*?)</mj-style>", re.DOTALL | re.IGNORECASE)
_NEWLINE_RUN = re.compile(r"\n\s+")
_BLOCK_GAP = re.compile(r">\n<(?=/?(?:p|div|table|tbody|tr|td|th|h[1-6]|style|meta|title|head|body|br|section)\b)")
_UNSAFE_TO_MINIFY = re.compile(r"<(?:pre|textarea)\b", re.IGNORECASE)


@dataclass(frozen=True)
class RenderedIssue:
    """An issue's rendered parts; `html` and `text` still hold the link placeholders."""

    number: int
    subject: str
    mjml: str
    html: str
    text: str
    web: str
    view: IssueView  # the email's view, as trimmed for size
    warnings: tuple[str, ...]
    html_size: int  # bytes of the HTML part once every placeholder holds its longest link
    data: IssueData | None = None  # what it was rendered from, when that came from the database

    @property
    def placeholders(self) -> links.Placeholders:
        """The link placeholders `html` and `text` use (this render's nonce)."""
        return self.view.placeholders

    @property
    def ready(self) -> bool:
        return self.view.ready

    @property
    def parts(self) -> IssueParts:
        """The mailed parts, as `digest.outbox.freeze` keeps them and the sender fills them."""
        return IssueParts(number=self.number, subject=self.subject, html=self.html, text=self.text,
                          comparison_ids=tuple(c.id for c in self.view.comparisons), placeholders=self.placeholders)


# --- templates ----------------------------------------------------------------------------------

def _autoescape(name: str | None) -> bool:
    """Autoescape HTML-like templates (`*.mjml.j2`, `*.html.j2`); plain text and CSS are left alone."""
    if name is None:
        return True
    stem = name[:-3] if name.endswith(".j2") else name
    return stem.rsplit(".", 1)[-1].lower() in ("html", "htm", "mjml", "xml")


@functools.lru_cache(maxsize=16)
def _line_pattern(room: int) -> re.Pattern[str]:
    # a line: the longest run that starts with a word and ends before a space (or the end),
    # else one word longer than the line (a URL), whole
    return re.compile(rf"\S.{{0,{max(room - 1, 0)}}}(?=\s|$)|\S+")


def wrap(text: str, width: int = TEXT_WIDTH, indent: str = "") -> str:
    """Text filled to `width` columns, greedily; a word longer than a line (a URL) is never broken.

    The same lines as textwrap.fill(break_long_words=False, break_on_hyphens=False), in a
    single regular-expression pass instead of Python loops.
    """
    lines = _line_pattern(width - len(indent)).findall(" ".join(str(text).split()))
    return "\n".join(indent + line for line in lines)


def underline(text: str, char: str = "=") -> str:
    return char * min(len(str(text)), TEXT_WIDTH)


def template_environment(templates_dir: Path | None) -> Environment:
    """Jinja for the email, text and web templates.

    A newsletter folder's `templates/` (when it exists) overrides the packaged defaults file
    by file; the defaults stay reachable as `default:NAME`, so an override can
    `{% extends "default:issue.mjml.j2" %}` and change one block.
    """
    from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PrefixLoader, StrictUndefined

    packaged = FileSystemLoader(str(PACKAGED_TEMPLATES))
    loaders = []
    if templates_dir is not None and templates_dir.is_dir() and templates_dir.resolve() != PACKAGED_TEMPLATES.resolve():
        loaders.append(FileSystemLoader(str(templates_dir)))
    loaders += [PrefixLoader({"default": packaged}, delimiter=":"), packaged]
    env = Environment(loader=ChoiceLoader(loaders), autoescape=_autoescape, undefined=StrictUndefined,
                      **_TEMPLATE_OPTIONS,
                      bytecode_cache=_bytecode_cache())
    env.filters["wrap"] = wrap
    env.filters["underline"] = underline
    return env


def _bytecode_cache():  # noqa: ANN202
    """Compiled templates kept between processes: compiling the ~26 templates cost about a tenth
    of a whole `digest issue render`. Jinja's per-user cache folder in the temp directory (it
    refuses one another user could write), never the newsletter folder; a template whose source
    changed is compiled again (Jinja checks each file's checksum). The file names carry this
    environment's options, which the compiled code depends on and the checksum does not cover.
    None (compile every time) where no safe cache folder can be had."""
    import hashlib

    from jinja2 import FileSystemBytecodeCache

    class Cache(FileSystemBytecodeCache):
        """A cache that can only ever cost a compile: unreadable or unwritable files are skipped."""

        def load_bytecode(self, bucket) -> None:  # noqa: ANN001
            try:
                super().load_bytecode(bucket)
            except (OSError, ValueError, EOFError, TypeError):
                bucket.reset()

        def dump_bytecode(self, bucket) -> None:  # noqa: ANN001
            with contextlib.suppress(OSError):
                super().dump_bytecode(bucket)

    options = f"{_TEMPLATE_OPTIONS}|{_autoescape.__code__.co_code.hex()}|{_autoescape.__code__.co_consts}"
    try:
        return Cache(pattern=f"digest-{hashlib.sha1(options.encode()).hexdigest()[:12]}-%s.cache")
    except (OSError, RuntimeError):  # no temp folder, or an unsafe one
        return None


def _template_location(exc: BaseException) -> str:
    """'file.j2:12' of the innermost template frame of a Jinja error, if any."""
    where = ""
    tb = exc.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith(".j2") or filename.endswith(".css"):
            where = f"{Path(filename).name}:{tb.tb_lineno}"
        tb = tb.tb_next
    return where


def _render(env: Environment, name: str, **context) -> str:
    from jinja2 import TemplateError, TemplateNotFound, TemplateSyntaxError

    try:
        return env.get_template(name).render(**context)
    except TemplateNotFound as exc:
        raise RenderError(f"template {exc.name!r} not found (needed by {name})",
                          hint="an override in the newsletter's templates/ may name a missing file") from None
    except TemplateSyntaxError as exc:
        raise RenderError(f"{exc.filename or exc.name or name}:{exc.lineno}: {exc.message}") from None
    except TemplateError as exc:
        where = _template_location(exc) or name
        raise RenderError(f"{where}: {exc.message}") from None


# --- the pipeline -----------------------------------------------------------------------------

def split_inline_css(mjml: str) -> tuple[str, str]:
    """The MJML without its `<mj-style inline="inline">` blocks, and their CSS joined."""
    found: list[str] = []

    def take(match: re.Match[str]) -> str:
        found.append(match.group(2))
        return ""

    return _INLINE_STYLE.sub(take, mjml), "\n".join(found)


def mjml_to_html(mjml: str) -> str:
    """HTML from MJML with mjml-python; RenderError naming MJML's complaint otherwise."""
    from mjml import mjml2html

    try:
        return mjml2html(mjml, disable_comments=True, fonts={})
    except ValueError as exc:
        raise RenderError(f"the email template is not valid MJML: {exc}") from None


def minify(html: str) -> str:
    """Whitespace runs after a line break collapsed to the line break, dropped between block tags.

    A run of whitespace renders as one space, and none at the edge of a block, so this changes
    nothing a reader sees; documents with <pre> or <textarea> are left as they are.
    """
    if _UNSAFE_TO_MINIFY.search(html):
        return html
    return _BLOCK_GAP.sub("><", _NEWLINE_RUN.sub("\n", html)).strip() + "\n"


def to_ascii(html: str) -> str:
    """Every non-ASCII character as a numeric character reference (the part stays 7bit)."""
    return html.encode("ascii", "xmlcharrefreplace").decode("ascii")


def delivered_size(html: str, placeholders: links.Placeholders) -> int:
    """Bytes of `html` once every placeholder holds the longest link it may become."""
    grow = sum(links.MAX_LINK_LENGTH - len(m.group(0)) for m in placeholders.pattern.finditer(html))
    return len(html.encode("utf-8")) + max(grow, 0)


@dataclass(frozen=True)
class _Attempt:
    view: IssueView
    mjml: str
    html: str
    text: str
    size: int
    whole: int
    fits: bool


class Renderer:
    """Renders issues with one template environment (built once; reuse it for many renders)."""

    def __init__(self, settings: Settings, *, inliner: str = DEFAULT_INLINER,
                 html_budget: int = HTML_BUDGET, message_budget: int = MESSAGE_BUDGET) -> None:
        self.settings = settings
        self.inliner = inliner
        self.html_budget = html_budget
        self.message_budget = message_budget
        self.env = template_environment(settings.templates_dir)
        self.site: Site = site_view(settings)

    def email(self, view: IssueView) -> tuple[str, str]:
        """The email's MJML and its final HTML (inlined, minified, ASCII, checked)."""
        mjml = _render(self.env, "issue.mjml.j2", view=view)
        rest, css = split_inline_css(mjml)
        # whitespace is collapsed before inlining, while every "<" of outside text is still an
        # entity; nothing runs over the inliner's output but the ASCII encoding
        html = to_ascii(inline_css(minify(mjml_to_html(rest)), css, engine=self.inliner))
        check_email_html(html, canary=view.links.canary, placeholders=view.placeholders)
        return mjml, html

    def text(self, view: IssueView) -> str:
        text = _render(self.env, "issue.txt.j2", view=view)
        lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n") + "\n"

    def web(self, view: IssueView) -> str:
        html = minify(_render(self.env, "web/issue.html.j2", view=view, site=self.site))
        if view.placeholders.names_in(html):
            raise RenderError("the web page holds per-subscriber link placeholders",
                              hint="the web templates must not use vote, unsubscribe or address links")
        check_email_html(html, canary=None)
        return html

    def _attempt(self, view: IssueView, *, keep: int) -> _Attempt:
        candidate = quotes_to_web(view, keep=keep) if keep < len(view.comparisons) else view
        mjml, html = self.email(candidate)
        text = self.text(candidate)
        size = delivered_size(html, candidate.placeholders)
        whole = size + delivered_size(text, candidate.placeholders) + 4000  # headers, MIME boundaries, line folding
        return _Attempt(candidate, mjml, html, text, size, whole,
                        fits=size <= self.html_budget and whole <= self.message_budget)

    def render(self, view: IssueView, web_view: IssueView) -> RenderedIssue:
        """Every part of one issue, trimmed to the budgets; RenderError if it cannot fit."""
        parts, warnings = self.message_parts(view)
        return RenderedIssue(number=view.number, subject=view.subject, mjml=parts.mjml, html=parts.html,
                             text=parts.text, web=self.web(web_view), view=parts.view, warnings=warnings,
                             html_size=parts.size)

    def message_parts(self, view: IssueView) -> tuple[_Attempt, tuple[str, ...]]:
        """The email's MJML, HTML and text, trimmed to the budgets, and what to tell the editor."""
        warnings = []
        if not view.ready:
            warnings.append(f"issue {view.number} is not ready to send; rendered for preview with "
                            f"placeholders: " + "; ".join(view.warnings))
        count = len(view.comparisons)
        attempt = full = self._attempt(view, keep=count)
        if not full.fits:
            # Quotes move to the web page from the last comparison backwards; find the most
            # comparisons that can keep theirs (sizes only shrink as more move).
            attempt = self._attempt(view, keep=0)
            if not attempt.fits:
                raise RenderError(
                    f"issue {view.number} is too large for one email even with every quote on the web "
                    f"page: {attempt.size / 1000:.0f} KB of HTML against a budget of {self.html_budget / 1000:.0f} KB",
                    hint="move some comparisons to another issue")
            low, high = 0, count
            while high - low > 1:
                middle = (low + high) // 2
                trial = self._attempt(view, keep=middle)
                if trial.fits:
                    low, attempt = middle, trial
                else:
                    high = middle
            moved = ", ".join(str(i) for i in range(low + 1, count + 1))
            warnings.append(f"the email would be {full.size / 1000:.0f} KB of HTML and {full.whole / 1000:.0f} KB in all, "
                            f"over the clipping budget ({self.html_budget / 1000:.0f} KB of HTML, "
                            f"{self.message_budget / 1000:.0f} KB in all): the quotes of {wording.plural('comparison', high - low)} {moved} "
                            f"moved to the web page (now {attempt.size / 1000:.0f} KB of HTML)")
        links.check_parts({"the HTML part": attempt.html, "the text part": attempt.text},
                          placeholders=attempt.view.placeholders, comparison_ids=[c.id for c in attempt.view.comparisons])
        return attempt, tuple(warnings)


# --- one issue from the database, and its files ---------------------------------------------------

def render_issue(*, db: Database, settings: Settings, issue_number: int | str,
                 inliner: str = DEFAULT_INLINER) -> RenderedIssue:
    """Render issue `issue_number` as read through `db` (`digest.data.engine`: no ORM);
    NotFoundError if there is none, RenderError if it cannot be."""
    from digest.view import read_issue_data, view_from_data

    with db.transaction():
        data: IssueData = read_issue_data(db=db, settings=settings, issue_number=issue_number)
    renderer = Renderer(settings, inliner=inliner)
    rendered = renderer.render(view_from_data(data, settings=settings, medium=EMAIL),
                               view_from_data(data, settings=settings, medium=WEB))
    return dataclasses.replace(rendered, data=data)


def list_id(settings: Settings) -> str:
    """The List-Id header: the newsletter's name and a stable id under the sender's domain."""
    from email.utils import parseaddr

    from digest.message import sender_domain

    local = parseaddr(settings.sender)[1].partition("@")[0] or "digest"
    label = settings.name.replace('"', "").replace("<", "").replace(">", "")
    return f"{label} <{local}.{sender_domain(settings.sender)}>"


def message_template(*, settings: Settings, rendered: RenderedIssue) -> MessageTemplate:
    """The issue's message, encoded once: what the sender, proofs and sample.eml all use."""
    from digest.message import issue_template

    return issue_template(settings, subject=rendered.subject, html_body=rendered.html, text_body=rendered.text,
                          placeholders=rendered.placeholders)


def sample_message(*, settings: Settings, rendered: RenderedIssue, template: MessageTemplate | None = None) -> bytes:
    """The complete message one sample subscriber would get, signed links and all."""
    from digest.config import require_secret_key
    from digest.message import message_id_for, sender_domain
    from digest.tokens import Signer

    signer = Signer(require_secret_key(settings))
    personaliser = links.Personaliser(base_url=settings.base_url, signer=signer, issue_number=rendered.number,
                                      comparison_ids=[c.id for c in rendered.view.comparisons])
    subscriber_id, address = SAMPLE_READER
    template = template or message_template(settings=settings, rendered=rendered)
    domain = sender_domain(settings.sender)
    return template.personalise(to=address, values=personaliser.values(subscriber_id, address),
                                message_id=message_id_for(issue_number=rendered.number, delivery_id=0,
                                                          domain=domain, salt="sample"))


def message_parts(message: bytes) -> tuple[str, str]:
    """The HTML and the text part of a complete message, decoded: what a reader's client shows."""
    import email
    from email.policy import default

    parsed = email.message_from_bytes(message, policy=default)
    html = parsed.get_body(preferencelist=("html",))
    text = parsed.get_body(preferencelist=("plain",))
    if html is None or text is None:
        raise RenderError("the sample message lacks its HTML or text part")
    return html.get_content().replace("\r\n", "\n"), text.get_content().replace("\r\n", "\n")


def preview_parts(*, settings: Settings, rendered: RenderedIssue, base_url: str) -> tuple[str, str]:
    """The sample reader's HTML and text with every link on `base_url` (the preview server), so
    that clicking a vote or unsubscribe link in the preview reaches the preview, not the site."""
    import dataclasses

    local = dataclasses.replace(settings, base_url=base_url.rstrip("/"))
    return message_parts(sample_message(settings=local, rendered=rendered))


def write_rendered(rendered: RenderedIssue, *, settings: Settings, out_dir: Path | None = None) -> dict[str, Path]:
    """Write the rendered files (OUTPUT_FILES); their paths by name.

    email.template.html and email.template.txt hold the link placeholders the sender fills, and
    render.json their placeholder nonce (which `digest issue queue --no-render` needs);
    email.html and email.txt are the parts of sample.eml, the message one sample reader gets.

    `out_dir` defaults to outbox/<number>/. Each file is replaced atomically, so a reader
    (or a crash) never sees half a file.
    """
    import json

    folder = out_dir if out_dir is not None else settings.outbox_dir / str(rendered.number)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RenderError(f"cannot create {folder}: {exc.strerror}") from None
    sample = sample_message(settings=settings, rendered=rendered)
    html, text = message_parts(sample)
    contents = {
        "email.mjml": rendered.mjml.encode("utf-8"),
        TEMPLATE_FILES["email.html"]: rendered.html.encode("utf-8"),
        TEMPLATE_FILES["email.txt"]: rendered.text.encode("utf-8"),
        "email.html": html.encode("utf-8"),
        "email.txt": text.encode("utf-8"),
        "web.html": rendered.web.encode("utf-8"),
        "sample.eml": sample,
        RENDER_NOTE: json.dumps({"issue": rendered.number, "placeholder_nonce": rendered.placeholders.nonce},
                                indent=2).encode("utf-8") + b"\n",
    }
    paths = {}
    for name in OUTPUT_FILES:
        path = folder / name
        try:
            write_atomic(path, contents[name])
        except OSError as exc:
            raise RenderError(f"cannot write {path}: {exc.strerror}") from None
        paths[name] = path
    return paths


@dataclass(frozen=True)
class RenderReport:
    """What `digest issue render` did: the rendered issue, the files written and their sizes."""

    rendered: RenderedIssue
    files: dict[str, Path]

    @property
    def message_size(self) -> int:
        return self.files["sample.eml"].stat().st_size

    @property
    def warnings(self) -> tuple[str, ...]:
        extra = ()
        if self.message_size > MESSAGE_BUDGET:  # a template line too long to fold forces base64
            extra = (f"sample.eml is {self.message_size / 1000:.0f} KB, over the {MESSAGE_BUDGET / 1000:.0f} KB "
                     "budget for a whole message; check the templates for very long lines",)
        return self.rendered.warnings + extra

    def to_json(self) -> dict:
        return {
            "issue": self.rendered.number, "subject": self.rendered.subject, "ready": self.rendered.ready,
            "warnings": list(self.warnings), "message_size": self.message_size,
            "quotes_on_web": [c.id for c in self.rendered.view.comparisons if c.quotes_on_web],
            "html_budget": HTML_BUDGET, "html_size": self.rendered.html_size,
            "files": {name: {"path": str(path), "bytes": path.stat().st_size} for name, path in self.files.items()},
        }


def render_to_outbox(*, settings: Settings, issue_number: int | str, out_dir: Path | None = None,
                     inliner: str = DEFAULT_INLINER) -> RenderReport:
    """Render an issue from the database of `settings` and write its files (outbox/<number>/ by
    default).

    Read-only on the database, which it reads in one transaction through
    `digest.data.engine.connect` (sqlite3 on SQLite: `digest issue render` never imports
    SQLAlchemy there). Raises NotFoundError (no such issue), DatabaseError or RenderError.
    """
    from digest.data.engine import connect

    with connect(settings) as db:
        rendered = render_issue(db=db, settings=settings, issue_number=issue_number, inliner=inliner)
    return RenderReport(rendered=rendered, files=write_rendered(rendered, settings=settings, out_dir=out_dir))
