"""The demo's stages, in the order `digest demo` runs them.

A `Stage` is a name and a function of the shared `DemoContext`: each does one step through
the library (never through the CLI), says a line or two, and leaves on the context what later
stages need. Tests run a part of STAGES (picked by name) to stop after the step they check.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from digest.demo.bounces import bounce_and_complain
from digest.demo.context import DemoContext
from digest.demo.editorial import first_issue, second_issue
from digest.demo.feeds import list_tools, poll_twice, serve_feeds
from digest.demo.folder import init
from digest.demo.render import render_first, render_second
from digest.demo.send import send_first_issue
from digest.demo.summary import summarise
from digest.demo.web import cast_votes, keep_serving, serve_web_app


@dataclass(frozen=True)
class Stage:
    """One step of the demo: `name` for tests and people, `run` the step itself."""

    name: str
    run: Callable[[DemoContext], None]


STAGES: tuple[Stage, ...] = (
    Stage("serve_feeds", serve_feeds),  # the sample feeds on 127.0.0.1, and a feeds.toml for them
    Stage("init", init),
    Stage("poll", poll_twice),
    Stage("list_tools", list_tools),
    Stage("first_issue", first_issue),  # suggest, pair, review with scorecard-1, assemble issue 1
    Stage("render", render_first),
    Stage("send", send_first_issue),  # to an SMTP server on 127.0.0.1
    Stage("web", serve_web_app),  # where the emails' links point
    Stage("votes", cast_votes),  # readers click vote links over HTTP; a scanner's vote is set aside
    Stage("bounces", bounce_and_complain),
    Stage("second_issue", second_issue),  # from the tools left, once issue 1 is sent
    Stage("render_second", render_second),  # with last week's community verdict on issue 1
    Stage("summary", summarise),
)
# `digest demo --serve`: after STAGES, the web app stays up for a person to click until Ctrl-C.
SERVE = Stage("serve", keep_serving)

