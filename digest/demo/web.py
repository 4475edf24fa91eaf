"""The demo's web stages: the web app on loopback, readers' votes through it, and `--serve`.

Each stage takes the demo's `DemoContext`; `ctx.inbox` holds the messages the send stage
received, each with `.data` bytes and `.recipients`:

- `reserve_address()` binds the web app's socket before anything is rendered, so the links in
  the emails point at a port that is already ours (no race for a free port);
- `serve_web_app` serves the app (uvicorn, in a thread of this process) on that socket;
- `cast_votes` clicks vote links from the received messages as a person's browser would:
  GET the link, then the POST its page makes; a mail scanner on another loopback address
  follows every link of one message, canary first, and its vote is set aside;
- `keep_serving` (`digest demo --serve`) keeps the app running for a person until Ctrl-C.
"""

from __future__ import annotations

import html
import re
import socket
import threading
import time
from collections.abc import Iterable
from typing import Any

from digest.demo.context import DemoContext

# Who votes for which side of issue 1's comparison; the last sample reader is left to the scanner.
DEMO_VOTES = (("ada@example.com", "a"), ("grace@example.org", "b"), ("linus@example.net", "a"))
SCANNER_ADDRESS = "127.0.0.2"  # a mail scanner's address: another loopback address than the readers'

_VOTE = re.compile(r"""https?://[^\s"'<>]+/vote/[A-Za-z0-9_\-]+\.(\d+)([ab])""")
_UNSUBSCRIBE = re.compile(r"<(https?://[^>]+/unsubscribe/[^>]+)>")
_HREF = re.compile(r"""href="([^"]+)\"""")
_TITLE = re.compile(r"<title>(.*?)</title>", re.S)
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
_FORM = re.compile(r'<form[^>]*action="([^"]+)"')


def _message(data: bytes):  # noqa: ANN202
    import email
    import email.policy

    return email.message_from_bytes(data, policy=email.policy.default)


def links_of(data: bytes) -> list[str]:
    """Every link of a message's HTML part, in document order (what a scanner follows)."""
    part = _message(data).get_body(("html",))
    return [html.unescape(href) for href in _HREF.findall(part.get_content())] if part else []


def links_in(messages: Iterable[bytes]) -> tuple[str | None, str | None]:
    """The first vote link and the first one-click unsubscribe link found in `messages`."""
    vote = unsubscribe = None
    for data in messages:
        message = _message(data)
        if unsubscribe is None:
            found = _UNSUBSCRIBE.search(str(message.get("List-Unsubscribe", "")))
            unsubscribe = found.group(1) if found else None
        if vote is None:
            vote = next((link for link in links_of(data) if _VOTE.fullmatch(link)), None)
        if vote and unsubscribe:
            break
    return vote, unsubscribe


def vote_link(data: bytes, choice: str) -> str:
    """The message's first vote link for side `choice` ("a" or "b")."""
    for link in links_of(data):
        found = _VOTE.fullmatch(link)
        if found and found.group(2) == choice:
            return link
    raise ValueError(f"no vote link for {choice!r} in the message")


def title_of(page: str) -> str:
    found = _TITLE.search(page)
    return html.unescape(found.group(1)).rsplit(" \u00b7 ", 1)[0].strip() if found else "?"


# --- the web app --------------------------------------------------------------------------

def reserve_address(host: str = "127.0.0.1") -> socket.socket:
    """A socket bound to an ephemeral port on `host`, for the web app to serve on later."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    return sock


def serve_web_app(ctx: DemoContext) -> None:
    """Serve the web app on the reserved socket until the demo ends (bounded wait for start-up)."""
    import uvicorn

    from digest.errors import StateError
    from digest.web import create_app

    settings = ctx.need_settings()
    if ctx.web_socket is None:
        raise StateError("the demo's init stage reserved no socket for the web app")
    sock = ctx.web_socket
    config = uvicorn.Config(create_app(settings), log_level="warning", access_log=False, lifespan="on",
                            server_header=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="demo-web", daemon=True)
    thread.start()

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()

    ctx.on_exit(stop)
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise StateError("the demo's web app did not start")
        time.sleep(0.02)
    ctx.say(f"digest serve: the web app at {settings.base_url}/ (uvicorn, in this process, until the demo ends)")


def _click(client, link: str) -> tuple[Any, Any]:  # noqa: ANN001
    """What a browser does with a vote link: GET it, then the POST its page makes at once."""
    page = client.get(link)
    page.raise_for_status()
    action, csrf = _FORM.search(page.text), _CSRF.search(page.text)
    if not (action and csrf):
        raise ValueError(f"the vote page has no form: {title_of(page.text)}")
    done = client.post(page.url.join(html.unescape(action.group(1))), data={"csrf": csrf.group(1)})
    done.raise_for_status()
    return page, done


def cast_votes(ctx: DemoContext) -> None:
    """Readers vote from their emails over HTTP; a scanner's vote is set aside; count the votes."""
    import httpx
    from sqlalchemy import func, select

    from digest.db import open_database
    from digest.models import DiscardedAction
    from digest.data.votes import community_counts, comparison_summary

    settings = ctx.need_settings()
    base = settings.base_url
    inbox = {received.recipients[0]: received.data for received in ctx.inbox}
    ctx.say(f"votes through the web app at {base}/, as a reader's browser casts them "
            "(GET the link, then the POST its page makes):")
    comparison = int(_VOTE.fullmatch(vote_link(inbox[DEMO_VOTES[0][0]], "a")).group(1))
    engine = open_database(settings)
    ctx.on_exit(engine.dispose)
    with engine.connect() as connection:
        pair = comparison_summary(connection, comparison)
    for address, choice in DEMO_VOTES:
        link = vote_link(inbox[address], choice)
        with httpx.Client(timeout=10) as browser:
            page, done = _click(browser, link)
        ctx.say(f"  {address:<20} Vote {pair.tool(choice)}: GET {link.removeprefix(base)[:22]}… {page.status_code} "
                f"\"{title_of(page.text)}\", POST {done.status_code} \"{title_of(done.text)}\"")
    scanned = _scanner(ctx, inbox)
    with engine.connect() as connection:
        votes_a, votes_b = community_counts(connection, [comparison])[comparison]
        discarded = connection.execute(select(func.count()).select_from(DiscardedAction)
                                       .where(DiscardedAction.kind == "vote")).scalar()
    ctx.votes = {"comparison": comparison, "a": votes_a, "b": votes_b, "set_aside": discarded,
                 "tools": (pair.tool_a, pair.tool_b)}
    ctx.say(f"votes recorded for comparison {comparison} ({pair.title}): {pair.tool_a} {votes_a}, "
            f"{pair.tool_b} {votes_b}" + (f"; {discarded} scanner vote set aside (see: digest set-aside list)" if scanned else ""))


def _scanner(ctx: DemoContext, inbox: dict[str, bytes]) -> bool:
    """A link-checking mail scanner at SCANNER_ADDRESS follows every link of the last reader's
    email in order (the invisible canary first) and posts the vote form as a script would."""
    import httpx

    address = next(a for a in sorted(inbox) if a not in dict(DEMO_VOTES))
    links = [link for link in links_of(inbox[address]) if link.startswith(ctx.need_settings().base_url)]
    try:
        transport = httpx.HTTPTransport(local_address=SCANNER_ADDRESS)
        with httpx.Client(transport=transport, timeout=10) as scanner:
            for link in links:
                scanner.get(link)
            _click(scanner, vote_link(inbox[address], "b"))
    except (httpx.TransportError, OSError):
        ctx.say(f"  (no mail scanner: this system does not route {SCANNER_ADDRESS} to itself)")
        return False
    ctx.say(f"  a mail scanner at {SCANNER_ADDRESS} fetched the {len(links)} links to the web app in {address}'s "
            "email, the invisible canary first, then posted a vote form: answered like a person, not counted")
    return True


# --- digest demo --serve -------------------------------------------------------------------

def keep_serving(ctx: DemoContext) -> None:
    """Keep the web app running for a person to click until Ctrl-C, then return (the demo's
    cleanups stop the app)."""
    base = ctx.need_settings().base_url
    unvoted = sorted(r.recipients[0] for r in ctx.inbox)[-1:] if ctx.inbox else []
    by_address = {r.recipients[0]: r.data for r in ctx.inbox}
    vote, unsubscribe = links_in([by_address[a] for a in unvoted])
    ctx.say(f"the web app is still running at {base}/ for you to click; Ctrl-C stops it")
    ctx.say(f"  issue 1 on the web (with the readers' votes): {base}/issues/1")
    if vote:
        ctx.say(f"  {unvoted[0]}'s vote link (the page confirms, only its POST counts): {vote}")
    if unsubscribe:
        ctx.say(f"  {unvoted[0]}'s one-click unsubscribe link (GET shows a button): {unsubscribe}")
    stop = threading.Event()
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        ctx.say("stopped the web app")
