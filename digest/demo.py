"""`digest demo`: the weekly loop end to end, offline, in a fresh newsletter folder.

The demo is a sequence of stages sharing one `DemoRun`. Each stage is a function
`stage(run) -> None` that does one step through the library (never through the CLI), prints
a line or two with `run.say`, and leaves what later stages need on `run`. Later parts of the
pipeline add their stages to `STAGES` (pair and review, render, send, votes); cleanups that a
stage registers with `run.on_exit` run in reverse order however the demo ends.

Everything stays on this machine: the sample feeds bundled in `digest/samples/feeds/` are
served from a threaded HTTP server on 127.0.0.1, and `DIGEST_*` variables of the caller's
shell are ignored so the demo can never touch a real database or mail server.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from digest.errors import UsageError

if TYPE_CHECKING:
    from digest.config import Settings
    from digest.poll import PollReport

DEMO_MARKER = "# written by `digest demo`"


@dataclass
class DemoRun:
    """What the stages share."""

    home: Path
    say: Callable[[str], None] = print
    keep: bool = False
    feeds_base_url: str = ""
    feed_names: list[str] = field(default_factory=list)
    settings: Settings | None = None
    polls: list[PollReport] = field(default_factory=list)
    tools: list[dict[str, Any]] = field(default_factory=list)
    comparisons: list[int] = field(default_factory=list)  # ids, in the order the stages made them
    issues: list[int] = field(default_factory=list)  # issue numbers, likewise
    inbox: list[Any] = field(default_factory=list)  # messages the demo SMTP server received
    cleanups: list[Callable[[], None]] = field(default_factory=list)

    def on_exit(self, cleanup: Callable[[], None]) -> None:
        self.cleanups.append(cleanup)

    def close(self) -> None:
        while self.cleanups:
            with contextlib.suppress(Exception):
                self.cleanups.pop()()


def sample_feeds_dir() -> Path:
    """The bundled sample feeds (`<name>.xml` each)."""
    return Path(str(resources.files("digest").joinpath("samples", "feeds")))


def serve_directory(directory: Path, host: str = "127.0.0.1") -> tuple[Any, str]:
    """A threaded HTTP server for `directory` on an ephemeral port; returns (server, base URL).

    It answers If-Modified-Since with 304 (http.server does), so a second poll is cheap.
    """
    from functools import partial
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    class QuietHandler(SimpleHTTPRequestHandler):
        extensions_map = {**SimpleHTTPRequestHandler.extensions_map, ".xml": "application/xml"}

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer((host, 0), partial(QuietHandler, directory=str(directory)))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="demo-feeds", daemon=True).start()
    return server, f"http://{host}:{server.server_address[1]}"


# --- stages ---------------------------------------------------------------------------------

def stage_serve_feeds(run: DemoRun) -> None:
    directory = sample_feeds_dir()
    server, base = serve_directory(directory)
    run.on_exit(server.server_close)
    run.on_exit(server.shutdown)
    run.feeds_base_url = base
    run.feed_names = sorted(path.stem for path in directory.glob("*.xml"))
    lines = [DEMO_MARKER + ": the bundled sample feeds, served on 127.0.0.1 while the demo runs", ""]
    categories = {"sample-launches": "launches", "sample-devtools": "developer tools",
                  "sample-community": "community"}
    for name in run.feed_names:
        lines += ["[[feeds]]", f'name = "{name}"', f'url = "{base}/{name}.xml"',
                  f'category = "{categories.get(name, "launches")}"', ""]
    run.home.mkdir(parents=True, exist_ok=True)
    (run.home / "feeds.toml").write_text("\n".join(lines), encoding="utf-8")
    run.say(f"serving {len(run.feed_names)} sample feeds at {base}/ ({', '.join(run.feed_names)})")


def stage_init(run: DemoRun) -> None:
    from digest.config import load_settings
    from digest.folder import init_folder

    report = init_folder(run.home)
    run.settings = load_settings(run.home)
    run.say(f"digest init: newsletter folder {run.home}, database at schema {report['schema_after']}")


def stage_poll(run: DemoRun) -> None:
    from digest.poll import poll

    assert_settings(run)
    first = poll(run.settings)
    run.polls.append(first)
    run.say(f"digest poll: {first.summary()}")
    for outcome in first.feeds:
        for warning in outcome.warnings:
            run.say(f"  warning: {outcome.name}: {warning}")
        if outcome.error:
            run.say(f"  {outcome.name}: {outcome.error}")
    second = poll(run.settings)
    run.polls.append(second)
    run.say(f"digest poll (again, nothing changed upstream): {second.summary()}")


def stage_list_tools(run: DemoRun) -> None:
    from digest.catalogue import list_tools
    from digest.sql import connect

    assert_settings(run)
    with connect(run.settings) as db:
        run.tools = list_tools(db)
    run.say(f"digest tools list: {len(run.tools)} tools found")
    width = max((len(tool["name"]) for tool in run.tools), default=0)
    for tool in sorted(run.tools, key=lambda t: ((t["category"] or "").lower(), t["name"].lower())):
        run.say(f"  {tool['name']:<{width}}  {tool['category'] or '-':<14} {tool['price']:<11} {tool['tagline'][:60]}")


def assert_settings(run: DemoRun) -> None:
    if run.settings is None:
        raise UsageError("the demo's init stage has not run")


def stage_first_issue(run: DemoRun) -> None:
    """Suggest, pair the top pair, record the sample scorecard, assemble issue 1 (editorial)."""
    from digest.editorial.demo import stage_first_issue as first_issue

    assert_settings(run)
    first_issue(run)


def stage_render(run: DemoRun) -> None:
    """Render issue 1: email, text part, web page and a sample message in outbox/1/ (render)."""
    from digest.render import demo_stage

    assert_settings(run)
    demo_stage(run)


def stage_send(run: DemoRun) -> None:
    """Sample readers, queue issue 1, send it to an SMTP server on 127.0.0.1, show what arrived (delivery)."""
    from digest.demo_send import stage_send as send

    assert_settings(run)
    send(run)


STAGES: list[Callable[[DemoRun], None]] = [stage_serve_feeds, stage_init, stage_poll, stage_list_tools,
                                           stage_first_issue, stage_render, stage_send]


# --- running --------------------------------------------------------------------------------

@contextlib.contextmanager
def _without_digest_environment() -> Iterator[None]:
    saved = {name: value for name, value in os.environ.items() if name.startswith("DIGEST_")}
    for name in saved:
        del os.environ[name]
    try:
        yield
    finally:
        os.environ.update(saved)


def _check_keep_dir(path: Path) -> None:
    feeds = path / "feeds.toml"
    if feeds.exists() and DEMO_MARKER not in feeds.read_text(encoding="utf-8", errors="replace"):
        raise UsageError(f"{path} already holds a newsletter folder that is not a demo",
                         hint="give --keep an empty or new directory")
    if path.exists() and not path.is_dir():
        raise UsageError(f"{path} is not a directory")


def run_demo(*, keep: Path | None = None, say: Callable[[str], None] = print,
             stages: list[Callable[[DemoRun], None]] | None = None) -> DemoRun:
    """Run every stage in a fresh temporary folder (deleted afterwards) or in `keep`."""
    if keep is not None:
        keep = keep.expanduser().resolve()
        _check_keep_dir(keep)
        home = keep
    else:
        home = Path(tempfile.mkdtemp(prefix="digest-demo-")) / "newsletter"
    run = DemoRun(home=home, say=say, keep=keep is not None)
    if keep is None:
        run.on_exit(lambda: shutil.rmtree(home.parent, ignore_errors=True))
    with _without_digest_environment():
        try:
            for stage in STAGES if stages is None else stages:
                stage(run)
        finally:
            run.close()
    if run.keep:
        say(f"kept the demo newsletter folder: {home} (try: digest --home {home} tools list)")
    else:
        say("the demo folder was temporary and is gone; keep one with: digest demo --keep DIR")
    return run
