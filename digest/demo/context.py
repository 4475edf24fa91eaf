"""What the demo's stages share: one `DemoContext`, filled in as the stages run.

It sits at the bottom of the package and imports no stage, so every stage module can take a
typed `DemoContext` without an import cycle (the stages used to take `run: Any` for that).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from digest.errors import UsageError

if TYPE_CHECKING:
    import socket

    from digest.config import Settings
    from digest.poll import PollReport
    from digest.render import RenderReport
    from digest.smtpsink import Received


@dataclass
class DemoContext:
    """The demo's newsletter folder, how it speaks, and what each stage left for the later ones."""

    home: Path
    say: Callable[[str], None] = print
    keep: bool = False
    serve: bool = False  # --serve: the web app stays up at the end, so the folder lasts until Ctrl-C
    feeds_base_url: str = ""
    feed_names: list[str] = field(default_factory=list)
    settings: Settings | None = None  # set by the init stage
    polls: list[PollReport] = field(default_factory=list)
    tools: list[dict[str, Any]] = field(default_factory=list)
    comparisons: list[int] = field(default_factory=list)  # ids, in the order the stages made them
    issues: list[int] = field(default_factory=list)  # issue numbers, likewise
    inbox: list[Received] = field(default_factory=list)  # messages the demo SMTP server received
    web_socket: socket.socket | None = None  # the web app's socket, bound before the links that point at it
    votes: dict[str, Any] = field(default_factory=dict)  # what the vote stage counted
    bounces: list[dict[str, Any]] = field(default_factory=list)  # readers the bounce stage suppressed
    renders: dict[int, RenderReport] = field(default_factory=dict)  # issue number -> its render report
    cleanups: list[Callable[[], None]] = field(default_factory=list)

    def need_settings(self) -> Settings:
        """The folder's settings; UsageError when a stage runs before the init stage made them."""
        if self.settings is None:
            raise UsageError("the demo's init stage has not run")
        return self.settings

    def on_exit(self, cleanup: Callable[[], None]) -> None:
        """Run `cleanup` when the demo ends, however it ends (last registered, first run)."""
        self.cleanups.append(cleanup)

    def close(self) -> None:
        while self.cleanups:
            with contextlib.suppress(Exception):
                self.cleanups.pop()()
