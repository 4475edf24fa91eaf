"""The demo's feed stages: serve the bundled sample feeds on loopback, poll them twice, list the tools.

The sample feeds (`digest/demo/samples/feeds/<name>.xml`) are served by a threaded HTTP server
on 127.0.0.1 for as long as the demo runs; the second poll shows conditional GETs at work.
"""

from __future__ import annotations

import threading
from importlib import resources
from pathlib import Path
from typing import Any

from digest.demo.context import DemoContext
from digest.demo.folder import DEMO_MARKER
from digest.wording import shorten

# The category each sample feed's tools are filed under in the demo's feeds.toml.
CATEGORIES = {"sample-launches": "launches", "sample-devtools": "developer tools", "sample-community": "community"}


def sample_feeds_dir() -> Path:
    """The bundled sample feeds (`<name>.xml` each)."""
    return Path(str(resources.files("digest.demo").joinpath("samples", "feeds")))


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


def serve_feeds(ctx: DemoContext) -> None:
    """Serve the sample feeds and write a feeds.toml that points at them."""
    directory = sample_feeds_dir()
    server, base = serve_directory(directory)
    ctx.on_exit(server.server_close)
    ctx.on_exit(server.shutdown)
    ctx.feeds_base_url = base
    ctx.feed_names = sorted(path.stem for path in directory.glob("*.xml"))
    lines = [DEMO_MARKER + ": the bundled sample feeds, served on 127.0.0.1 while the demo runs", ""]
    for name in ctx.feed_names:
        lines += ["[[feeds]]", f'name = "{name}"', f'url = "{base}/{name}.xml"',
                  f'category = "{CATEGORIES.get(name, "launches")}"',
                  'kind = "ai-launches"  # curated sample launches: every entry is one', ""]
    ctx.home.mkdir(parents=True, exist_ok=True)
    (ctx.home / "feeds.toml").write_text("\n".join(lines), encoding="utf-8")
    ctx.say(f"serving {len(ctx.feed_names)} sample feeds at {base}/ ({', '.join(ctx.feed_names)})")


def poll_twice(ctx: DemoContext) -> None:
    """`digest poll`, then again: nothing changed upstream, so nothing is fetched twice."""
    from digest.poll import poll

    settings = ctx.need_settings()
    first = poll(settings)
    ctx.polls.append(first)
    ctx.say(f"digest poll: {first.summary()}")
    for outcome in first.feeds:
        for warning in outcome.warnings:
            ctx.say(f"  warning: {outcome.name}: {warning}")
        if outcome.error:
            ctx.say(f"  {outcome.name}: {outcome.error}")
    second = poll(settings)
    ctx.polls.append(second)
    ctx.say(f"digest poll (again, nothing changed upstream): {second.summary()}")


def list_tools(ctx: DemoContext) -> None:
    """`digest tools list`: the tools the polls found, by category."""
    from digest.catalogue import list_tools as catalogue_tools
    from digest.data.engine import connect

    with connect(ctx.need_settings()) as db:
        ctx.tools = catalogue_tools(db)
    ctx.say(f"digest tools list: {len(ctx.tools)} tools found")
    width = max((len(tool["name"]) for tool in ctx.tools), default=0)
    for tool in sorted(ctx.tools, key=lambda t: ((t["category"] or "").lower(), t["name"].lower())):
        ctx.say(f"  {tool['name']:<{width}}  {tool['category'] or '-':<14} {tool['price']:<11} {shorten(tool['tagline'], 60)}")
