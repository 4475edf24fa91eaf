"""`digest issue render` and `digest issue preview`: the render stage's commands.

They join the `digest issue` group of `digest.cli.issue`; `register` must run after that
module's own registration.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from digest.cli.context import app_context
from digest.cli.output import print_json, say, warn
from digest.cli.params import IssueArg, json_option


def issue_render(
    ctx: typer.Context,
    issue: IssueArg,
    out: Annotated[Optional[Path], typer.Option("--out", help="Write the files here instead of outbox/<issue>/.", show_default=False)] = None,
    json_output: json_option("Print what was written as JSON.") = False,
) -> None:
    """Render an issue: sample.eml with its parts email.html and email.txt, their templates
    (email.template.html, email.template.txt), web.html and email.mjml.

    An issue that is not ready yet still renders, for preview, with "Review pending" where
    reviews are missing, and a warning. An issue too large for one email is trimmed (the
    later quotes move to the web page) and the render says so.

    Example: digest issue render 3 --out /tmp/issue-3
    """
    from digest.render import HTML_BUDGET, render_to_outbox

    state = app_context(ctx)
    report = render_to_outbox(settings=state.settings, issue_number=issue, out_dir=out)
    for message in report.warnings:
        warn(message)
    if json_output:
        print_json(report.to_json())
        return
    folder = next(iter(report.files.values())).parent
    say(ctx, f"issue {report.rendered.number} rendered to {folder}/ "
             f"(email {report.rendered.html_size / 1000:.0f} KB of the {HTML_BUDGET / 1000:.0f} KB budget)")
    for path in report.files.values():
        typer.echo(str(path))


def issue_preview(
    ctx: typer.Context,
    issue: IssueArg,
    serve: Annotated[bool, typer.Option("--serve", help="Serve on 127.0.0.1 even when a browser is available.")] = False,
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port to serve on (0 picks a free one).")] = 0,
) -> None:
    """Render an issue and open its web version in a browser, or serve it on 127.0.0.1.

    The browser is $BROWSER, or the system's when there is a display; otherwise (or with
    --serve) the files are served on loopback until Ctrl-C.

    Example: BROWSER=firefox digest issue preview 3
    """
    from digest.preview import PreviewServer, open_in_browser
    from digest.render import preview_parts, render_to_outbox

    state = app_context(ctx)
    report = render_to_outbox(settings=state.settings, issue_number=issue)
    for message in report.warnings:
        warn(message)
    web = report.files["web.html"]
    if not serve and open_in_browser(web.resolve().as_uri()):
        typer.echo(f"opened {web}")
        return
    view = report.rendered.view
    server = PreviewServer(web.parent, port=port, choices={c.id: (c.a.name, c.b.name) for c in view.comparisons})
    html, text = preview_parts(settings=state.settings, rendered=report.rendered, base_url=server.url)
    server.set_page("/email.html", html)
    server.set_page("/email.txt", text, "text/plain; charset=utf-8")
    typer.echo(f"serving issue {report.rendered.number} at {server.url} (email: {server.url}email.html); "
               "press Ctrl-C to stop")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        typer.echo("stopped")


def register(app: typer.Typer) -> None:
    from digest.cli.issue import issue_app

    issue_app.command("render")(issue_render)
    issue_app.command("preview")(issue_preview)
