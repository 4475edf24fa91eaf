"""`digest init`: create or upgrade a newsletter folder and its database."""

from __future__ import annotations

import typer

from digest.cli.context import app_context
from digest.cli.output import print_json, say
from digest.cli.params import json_option


def init(
    ctx: typer.Context,
    json_output: json_option("Print what was done as JSON.") = False,
) -> None:
    """Create or upgrade the newsletter folder: settings, feeds, key file and database.

    Safe to run again: existing files are kept and the database is only upgraded. Ends with
    the settings still to fill in before real readers get mail (what `digest check --offline`
    finds) and the commands to run next.

    Example: digest --home ~/verdicts init
    """
    from digest.folder import init_folder
    from digest.preflight import run_checks

    state = app_context(ctx)
    report = init_folder(state.home)
    preflight = run_checks(settings=state.settings, engine=state.engine, offline=True)
    if json_output:
        print_json({**report, "to_fill_in": [f.to_json() for f in _to_fill_in(preflight)]})
        return
    for path in report["created"]:
        say(ctx, f"created {path}")
    before, after = report["schema_before"], report["schema_after"]
    if before is None:
        say(ctx, f"database created at schema {after}: {report['database']}")
    elif before != after:
        say(ctx, f"database upgraded from schema {before} to {after}: {report['database']}")
    else:
        say(ctx, f"database already at schema {after}: {report['database']}")
    for line in _next_steps(preflight, state.home):
        say(ctx, line)


NEXT_COMMANDS = (
    ("$EDITOR {home}digest.toml {home}feeds.toml", "your newsletter's identity, and the feeds to poll"),
    ("{digest} check", "is the folder ready for real readers? (SMTP and DNS too)"),
    ("{digest} poll", "fetch the feeds and store the AI tools they announce"),
    ("{digest} suggest", "ranked pairs among the new tools"),
    ("digest demo --keep DIR", "or try every command on a sample folder first"),
)


def _to_fill_in(report):  # noqa: ANN001, ANN202
    return [f for f in report.findings if f.level != "ok" and f.setting]


def _next_steps(report, home) -> list[str]:  # noqa: ANN001
    """What `digest check --offline` still finds, as settings to fill in, then what to run next."""
    lines = []
    findings = _to_fill_in(report)
    if findings:
        lines += ["", "still to fill in before real readers get mail (digest.toml, or DIGEST_* in the environment; "
                      "secrets only in the environment):"]
        width = max(len(f.setting) for f in findings)
        lines += [f"  {finding.setting:<{width}}  {finding.level}: {finding.message}" for finding in findings]
    lines += ["", "next:"]
    from pathlib import Path

    here = Path(home).resolve() == Path.cwd().resolve()
    names = {"home": "" if here else f"{home}/", "digest": "digest" if here else f"digest --home {home}"}
    commands = [(command.format(**names), why) for command, why in NEXT_COMMANDS]
    width = max(len(command) for command, _ in commands)
    return lines + [f"  {command:<{width}}  {why}" for command, why in commands]


def register(app: typer.Typer) -> None:
    app.command("init")(init)
