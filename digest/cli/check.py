"""`digest check`: is this folder ready to mail real readers?"""

from __future__ import annotations

import typer

from digest.cli.context import app_context
from digest.cli.output import print_json
from digest.cli.params import json_option


def check(
    ctx: typer.Context,
    offline: bool = typer.Option(False, "--offline", help="Skip the network checks (the SMTP session and DNS)."),
    json_output: json_option("Print the findings as JSON.") = False,
) -> None:
    """Check the folder is ready for real readers: one line per finding, ok, warning or problem.

    Checks the sender and reply-to (no placeholder domains), the postal address, base_url
    (public https once real readers exist), the secret key (present, not the demo's), the
    SMTP relay (connect, EHLO, STARTTLS, AUTH; no message is sent) and the sender domain's
    SPF, DMARC and DKIM records in DNS. Exits 0 without problems, 1 with any. `issue queue`,
    `send` and the scheduler refuse while the offline checks find a problem. In a folder with
    `sandbox = true` (the demo's, which mails sample readers only) placeholders are warnings.

    Example: digest check --offline
    """
    from digest.preflight import run_checks

    state = app_context(ctx)
    report = run_checks(settings=state.settings, engine=state.engine, offline=offline)
    if json_output:
        print_json(report.to_json())
    else:
        for finding in report.findings:
            typer.echo(finding.line())
        typer.echo(report.summary())
    if not report.ready:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("check")(check)
