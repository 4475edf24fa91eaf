"""The demo's last stage: serve the demo folder and hand the reader a vote link and an
unsubscribe link from the messages the demo just sent, to click in a browser.

`stage_serve(run)` follows the demo's stage contract (a `run` with `settings`, `say`,
`on_exit`, and `inbox`: the messages the send stage received, each with `.data` bytes). It
serves on the host and port of `base_url`, since that is where the emails' links point, and
returns when the server stops (Ctrl-C). `digest demo --serve` calls it after the send stage.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

_VOTE = re.compile(r"""https?://[^\s"'<>]+/vote/[A-Za-z0-9_\-]+\.\d+[ab]""")
_UNSUBSCRIBE = re.compile(r"<(https?://[^>]+/unsubscribe/[^>]+)>")


def links_in(messages: Iterable[bytes]) -> tuple[str | None, str | None]:
    """The first vote link and the first one-click unsubscribe link found in `messages`."""
    import email
    import email.policy

    vote = unsubscribe = None
    for data in messages:
        message = email.message_from_bytes(data, policy=email.policy.default)
        if unsubscribe is None:
            found = _UNSUBSCRIBE.search(str(message.get("List-Unsubscribe", "")))
            unsubscribe = found.group(1) if found else None
        if vote is None:
            for part in message.walk():
                if part.get_content_type() in ("text/html", "text/plain"):
                    found = _VOTE.search(html.unescape(part.get_content()))
                    if found:
                        vote = found.group(0)
                        break
        if vote and unsubscribe:
            break
    return vote, unsubscribe


def listen_address(base_url: str) -> tuple[str, int]:
    """Where to listen so that links to `base_url` reach the app."""
    parts = urlsplit(base_url)
    return parts.hostname or "127.0.0.1", parts.port or (443 if parts.scheme == "https" else 80)


def stage_serve(run: Any, *, serve: Callable[..., None] | None = None) -> None:
    from digest.web import serve as default_serve

    messages = [getattr(m, "data", m) for m in getattr(run, "inbox", None) or []]
    vote, unsubscribe = links_in(messages)
    host, port = listen_address(run.settings.base_url)
    run.say(f"digest serve: the web app on {run.settings.base_url} (Ctrl-C stops it)")
    if vote:
        run.say(f"  vote from the first reader's email (the page confirms, only its POST counts): {vote}")
    if unsubscribe:
        run.say(f"  that reader's one-click unsubscribe link (GET shows a button): {unsubscribe}")
    if not (vote or unsubscribe):
        run.say("  no sent messages to take links from; the archive is at " + run.settings.base_url + "/issues/")
    (serve or default_serve)(run.settings, host=host, port=port)
