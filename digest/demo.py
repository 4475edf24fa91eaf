"""`digest demo`: the weekly loop end to end, offline, in a fresh newsletter folder.

The demo is a sequence of stages sharing one `DemoRun`. Each stage is a function
`stage(run) -> None` that does one step through the library (never through the CLI), prints
a line or two with `run.say`, and leaves what later stages need on `run`: serve the sample
feeds, init, poll, list the tools, pair and review (issue 1), render, send, serve the web
app, vote through it, assemble and render issue 2 with last week's community verdict, and a
summary. Cleanups that a stage registers with `run.on_exit` run in reverse order however the
demo ends.

Everything stays on this machine: the sample feeds bundled in `digest/samples/feeds/` are
served from a threaded HTTP server on 127.0.0.1, mail goes to an SMTP server on 127.0.0.1,
the web app listens on 127.0.0.1, and `DIGEST_*` variables of the caller's shell are ignored
so the demo can never touch a real database or mail server.
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
from digest.wording import shorten

if TYPE_CHECKING:
    from digest.config import Settings
    from digest.poll import PollReport

DEMO_MARKER = "# written by `digest demo`"
# What a demo folder holds; a new demo run in a kept demo folder (--keep) starts by removing it.
DEMO_FILES = ("digest.toml", "feeds.toml", ".gitignore", ".digest-secret", "digest.db", "digest.db-wal",
              "digest.db-shm", "digest.db-journal", "outbox", "bounces")


@dataclass
class DemoRun:
    """What the stages share."""

    home: Path
    say: Callable[[str], None] = print
    keep: bool = False
    serve: bool = False  # --serve: the web app stays up at the end, so the folder lasts until Ctrl-C
    feeds_base_url: str = ""
    feed_names: list[str] = field(default_factory=list)
    settings: Settings | None = None
    polls: list[PollReport] = field(default_factory=list)
    tools: list[dict[str, Any]] = field(default_factory=list)
    comparisons: list[int] = field(default_factory=list)  # ids, in the order the stages made them
    issues: list[int] = field(default_factory=list)  # issue numbers, likewise
    inbox: list[Any] = field(default_factory=list)  # messages the demo SMTP server received
    web_socket: Any = None  # the web app's socket, bound before the links that point at it
    votes: dict[str, Any] = field(default_factory=dict)  # what the vote stage counted
    bounces: list[dict[str, Any]] = field(default_factory=list)  # readers the bounce stage suppressed
    renders: dict[int, Any] = field(default_factory=dict)  # issue number -> render.RenderReport
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
                  f'category = "{categories.get(name, "launches")}"',
                  'kind = "ai-launches"  # curated sample launches: every entry is one', ""]
    run.home.mkdir(parents=True, exist_ok=True)
    (run.home / "feeds.toml").write_text("\n".join(lines), encoding="utf-8")
    run.say(f"serving {len(run.feed_names)} sample feeds at {base}/ ({', '.join(run.feed_names)})")


def _write_demo_key(path: Path) -> None:
    """The demo's signing key, marked `demo-` so `digest check` can tell it from a real one."""
    import secrets

    from digest.preflight.secretkey import DEMO_KEY_PREFIX

    if path.exists():
        return
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(DEMO_KEY_PREFIX + secrets.token_urlsafe(32) + "\n")


def stage_init(run: DemoRun) -> None:
    """`digest init`, with `base_url` at a loopback port the demo's web app holds from now on."""
    from digest.config import load_settings
    from digest.demo_bounces import demo_settings
    from digest.demo_web import reserve_address
    from digest.folder import default_file, init_folder

    run.web_socket = run.web_socket or reserve_address()
    run.on_exit(run.web_socket.close)
    host, port = run.web_socket.getsockname()[:2]
    (run.home / "digest.toml").write_text(
        f"{DEMO_MARKER}: links point at the demo's web app (`digest serve` serves it here afterwards)\n"
        f'base_url = "http://{host}:{port}"\n'
        f"{DEMO_MARKER}: this folder mails sample readers only, so `digest check` takes placeholders as warnings\n"
        f'sandbox = true\n\n{default_file("digest.toml")}\n'
        f'[web]\nhost = "{host}"\nport = {port}\n\n{demo_settings("digest.invalid")}', encoding="utf-8")
    _write_demo_key(run.home / ".digest-secret")
    report = init_folder(run.home)
    run.settings = load_settings(run.home)
    run.say(f"digest init: newsletter folder {run.home}, database at schema {report['schema_after']}, "
            f"base_url {run.settings.base_url}")


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
    from digest.data.engine import connect

    assert_settings(run)
    with connect(run.settings) as db:
        run.tools = list_tools(db)
    run.say(f"digest tools list: {len(run.tools)} tools found")
    width = max((len(tool["name"]) for tool in run.tools), default=0)
    for tool in sorted(run.tools, key=lambda t: ((t["category"] or "").lower(), t["name"].lower())):
        run.say(f"  {tool['name']:<{width}}  {tool['category'] or '-':<14} {tool['price']:<11} {shorten(tool['tagline'], 60)}")


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
    run.renders[1] = demo_stage(run, 1)


def stage_send(run: DemoRun) -> None:
    """Sample readers, queue issue 1, send it to an SMTP server on 127.0.0.1, show what arrived (delivery)."""
    from digest.demo_send import stage_send as send

    assert_settings(run)
    send(run)


def stage_web(run: DemoRun) -> None:
    """Serve the web app on 127.0.0.1, where the emails' links point (web)."""
    from digest.demo_web import stage_web as web

    assert_settings(run)
    web(run)


def stage_votes(run: DemoRun) -> None:
    """Readers click vote links from their emails, over HTTP; a scanner's vote is set aside (web)."""
    from digest.demo_web import stage_votes as votes

    assert_settings(run)
    votes(run)


def stage_bounces(run: DemoRun) -> None:
    """One reader's mail bounces and another complains, via the bounce Maildir; `digest bounces` (returns)."""
    from digest.demo_bounces import stage_bounces as bounces

    assert_settings(run)
    bounces(run)


def stage_second_issue(run: DemoRun) -> None:
    """Suggest, pair, review and assemble issue 2 from the tools left (editorial)."""
    from digest.editorial.demo import stage_second_issue as second_issue

    assert_settings(run)
    second_issue(run)


def stage_render_second(run: DemoRun) -> None:
    """Render issue 2, with last week's community verdict on issue 1 (render)."""
    from digest.render import demo_stage

    assert_settings(run)
    number = run.issues[-1] if run.issues else 2
    report = run.renders[number] = demo_stage(run, number)
    last_week = report.rendered.view.last_week
    if last_week is None:
        run.say("  (no last week: issue 1 has not gone out)")
        return
    run.say(f"  {last_week.heading.lower()} (issue {last_week.number}):")
    for recap in last_week.recaps:
        run.say(f"    {recap.headline}. {recap.detail}")


def stage_summary(run: DemoRun) -> None:
    """Every stage in one screen, with paths and counts, and how to open the email."""
    assert_settings(run)
    outbox = run.settings.outbox_dir
    first, last = (run.issues[0], run.issues[-1]) if run.issues else (1, 1)
    new_tools = run.polls[0].new_tools if run.polls else 0
    lines = [
        ("feeds", f"{len(run.feed_names)} sample feeds on {run.feeds_base_url}/, {new_tools} tools found"),
        ("editorial", f"{len(run.comparisons)} comparisons reviewed by the panel, issues "
                      f"{', '.join(str(n) for n in run.issues)}"),
        (f"issue {first}", f"{len(run.inbox)} messages delivered to the demo SMTP server; sent parts frozen in "
                           f"{outbox / str(first) / 'frozen'}/"),
    ]
    if run.votes:
        tool_a, tool_b = run.votes["tools"]
        lines.append(("votes", f"{run.votes['a'] + run.votes['b']} counted through the web app "
                               f"({tool_a} {run.votes['a']}, {tool_b} {run.votes['b']}), "
                               f"{run.votes['set_aside']} set aside (a mail scanner)"))
    if run.bounces:
        lines.append(("bounces", "; ".join(f"{r['email']} {r['status']} ({(r['reason'] or '').partition(':')[0]}, "
                                           f"issue {r['issue']})" for r in run.bounces)))
    if first in run.issues:
        from digest.demo_bounces import report_first_issue

        lines.append(("report", report_first_issue(run, first)))
    if last in run.renders and last != first:
        view = run.renders[last].rendered.view
        said = f"; last week: {view.last_week.recaps[0].headline}" if view.last_week else ""
        lines.append((f"issue {last}", f"rendered in {outbox / str(last)}/{said}"))
    run.say("")
    run.say("summary")
    for label, text in lines:
        run.say(f"  {label:<10} {text}")
    email = outbox / str(last) / "email.html"
    if run.keep or run.serve:
        until = "" if run.keep else " (until the demo stops)"
        run.say(f"open issue {last}'s email in a browser{until}: {email.as_uri()}")
        run.say(f"  or its web version and text part: digest --home {run.home} issue preview {last}")
    else:
        run.say(f"to open the emails in a browser afterwards: digest demo --keep DIR, then open "
                f"DIR/outbox/{last}/email.html (or: digest --home DIR issue preview {last})")


STAGES: list[Callable[[DemoRun], None]] = [stage_serve_feeds, stage_init, stage_poll, stage_list_tools,
                                           stage_first_issue, stage_render, stage_send, stage_web, stage_votes,
                                           stage_bounces, stage_second_issue, stage_render_second, stage_summary]


def stage_serve(run: DemoRun) -> None:
    """`digest demo --serve`: keep the web app running for a person to click until Ctrl-C."""
    from digest.demo_web import stage_serve as serve

    assert_settings(run)
    serve(run)


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
    if path.exists() and not path.is_dir():
        raise UsageError(f"{path} is not a directory")
    feeds = path / "feeds.toml"
    if (feeds.exists() or (path / "digest.toml").exists()) and not (
            feeds.exists() and DEMO_MARKER in feeds.read_text(encoding="utf-8", errors="replace")):
        raise UsageError(f"{path} already holds a newsletter folder that is not a demo",
                         hint="give --keep an empty or new directory")


def _clear_demo_folder(path: Path) -> None:
    """Remove what an earlier demo left in `path` (checked to be a demo folder), nothing else."""
    for name in DEMO_FILES:
        target = path / name
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        elif target.exists() or target.is_symlink():
            target.unlink()


def run_demo(*, keep: Path | None = None, say: Callable[[str], None] = print,
             stages: list[Callable[[DemoRun], None]] | None = None, serve: bool = False) -> DemoRun:
    """Run every stage in a fresh temporary folder (deleted afterwards) or in `keep`.

    A `keep` folder that an earlier demo made is emptied of that demo's files first; any other
    newsletter folder is refused with UsageError. `serve` adds `stage_serve` at the end: the
    web app stays up for a person until Ctrl-C.
    """
    if keep is not None:
        keep = keep.expanduser().resolve()
        _check_keep_dir(keep)
        _clear_demo_folder(keep)
        home = keep
    else:
        home = Path(tempfile.mkdtemp(prefix="digest-demo-")) / "newsletter"
    run = DemoRun(home=home, say=say, keep=keep is not None, serve=serve)
    if keep is None:
        run.on_exit(lambda: shutil.rmtree(home.parent, ignore_errors=True))
    with _without_digest_environment():
        chosen = list(STAGES if stages is None else stages) + ([stage_serve] if serve else [])
        try:
            for stage in chosen:
                stage(run)
        finally:
            run.close()
    if run.keep:
        say(f"kept the demo newsletter folder: {home} (try: digest --home {home} tools list)")
    else:
        say("the demo folder was temporary and is gone; keep one with: digest demo --keep DIR")
    return run
