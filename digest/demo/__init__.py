"""`digest demo`: the weekly loop end to end, offline, in a fresh newsletter folder.

`run_demo` runs the STAGES (`digest.demo.stages`) in order on one `DemoContext`: serve the
sample feeds, init, poll, list the tools, pair and review (issue 1), render, send, serve the
web app, vote through it, bounce, assemble and render issue 2 with last week's community
verdict, and a summary. Cleanups a stage registers with `ctx.on_exit` run in reverse order
however the demo ends.

Everything stays on this machine: the sample feeds bundled in `samples/feeds/` are served from
a threaded HTTP server on 127.0.0.1, mail goes to an SMTP server on 127.0.0.1, the web app
listens on 127.0.0.1, and `DIGEST_*` variables of the caller's shell are ignored so the demo
can never touch a real database or mail server.

Layering: the package sits in the demo stage (tests/test_layers.py), above everything it
drives, and nothing below imports it. The sample content lives here with it: `samples/` (the
feeds and scorecards the stages use) and `sample.py` (a sample issue as view data, for tests
and the render benchmark). `sample.py` only imports lower stages (`digest.view`,
`digest.models`), and render never needs it: `digest issue preview` and the demo render
issues from the database, so keeping the sample up here costs no upward import. Inside the
package, `context.py` imports no stage, so every stage takes a typed `DemoContext` without
an import cycle.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from digest.demo.context import DemoContext
from digest.demo.folder import check_keep_dir, clear_demo_folder, without_digest_environment
from digest.demo.stages import SERVE, STAGES, Stage

__all__ = ["STAGES", "DemoContext", "Stage", "run_demo"]


def run_demo(*, keep: Path | None = None, say: Callable[[str], None] = print,
             stages: Sequence[Stage] | None = None, serve: bool = False) -> DemoContext:
    """Run every stage in a fresh temporary folder (deleted afterwards) or in `keep`.

    A `keep` folder that an earlier demo made is emptied of that demo's files first; any other
    newsletter folder is refused with UsageError. `serve` adds the SERVE stage at the end: the
    web app stays up for a person until Ctrl-C.
    """
    if keep is not None:
        keep = keep.expanduser().resolve()
        check_keep_dir(keep)
        clear_demo_folder(keep)
        home = keep
    else:
        home = Path(tempfile.mkdtemp(prefix="digest-demo-")) / "newsletter"
    ctx = DemoContext(home=home, say=say, keep=keep is not None, serve=serve)
    if keep is None:
        ctx.on_exit(lambda: shutil.rmtree(home.parent, ignore_errors=True))
    with without_digest_environment():
        chosen = [*(STAGES if stages is None else stages), *([SERVE] if serve else [])]
        try:
            for stage in chosen:
                stage.run(ctx)
        finally:
            ctx.close()
    if ctx.keep:
        say(f"kept the demo newsletter folder: {home} (try: digest --home {home} tools list)")
    else:
        say("the demo folder was temporary and is gone; keep one with: digest demo --keep DIR")
    return ctx
