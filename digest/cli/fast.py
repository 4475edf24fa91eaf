"""`digest --help` and `digest tools list` answered without typer (issue 14 §4).

Importing typer costs ~28 ms over a bare interpreter, importing click ~18 ms: the CLI layer alone
was more than these two commands may take in all (1.5x `import click`). So `run` reads the
argument list itself, strictly: root options (`--home DIR`, `-v`, `-q`) followed by `--help`/`-h`
(the root help, formatted by click from the table in `digest.cli.commands`) or by `tools list`
with its own options (run by `digest.cli.tools_listing`, which the full CLI runs too, with the
full CLI's error handling from `digest.cli.output`).

Anything else returns None and the full CLI (typer) handles it: another command, `--version`,
a subcommand's `--help`, an option written another way, a value click would refuse. So every
usage error, help page and error message still comes from the full CLI itself; this module only
ever answers what the full CLI would answer the same way (tests/test_cli_fast.py runs both).
"""

from __future__ import annotations

import os
import sys

HELP = ("--help", "-h")
ROOT_FLAGS = {"-v": "verbose", "--verbose": "verbose", "-q": "quiet", "--quiet": "quiet"}
LIST_FLAGS = {"--new": "new", "--all": "show_all", "--json": "json_output"}
_UNSURE = object()  # an argument this module leaves to the full CLI


def run(argv: list[str]) -> int | None:
    """The exit status after answering `argv` (the arguments after `digest`), or None when the
    full CLI must answer it."""
    if "_DIGEST_COMPLETE" in os.environ:  # click's shell-completion protocol
        return None
    root = _root_options(argv)
    if root is None:
        return None
    options, rest = root
    if len(rest) == 1 and rest[0] in HELP:
        _print_root_help()
        return 0
    if rest[:2] == ["tools", "list"]:
        listing = _list_options(rest[2:])
        if listing is not None:
            return _run_tools_list(options, listing)
    return None


def _root_options(argv: list[str]) -> tuple[dict, list[str]] | None:
    options: dict = {"home": None, "verbose": False, "quiet": False}
    index = 0
    while index < len(argv) and argv[index].startswith("-") and argv[index] not in HELP:
        token = argv[index]
        if token in ROOT_FLAGS:
            options[ROOT_FLAGS[token]] = True
            index += 1
            continue
        value, index = _value(argv, index, "--home")
        if value is _UNSURE or value == "":
            return None
        options["home"] = value
    return options, argv[index:]


def _list_options(args: list[str]) -> dict | None:
    """`tools list`'s options as its command function takes them; None for anything else, and
    for a --limit the full CLI would refuse (it says why)."""
    from digest.errors import ValidationError
    from digest.ids import parse_id

    options: dict = {"new": False, "category": None, "limit": None, "show_all": False, "json_output": False}
    index = 0
    while index < len(args):
        if args[index] in LIST_FLAGS:
            options[LIST_FLAGS[args[index]]] = True
            index += 1
            continue
        name = args[index].split("=", 1)[0]
        if name not in ("--category", "--limit"):
            return None
        value, index = _value(args, index, name)
        if value is _UNSURE:
            return None
        if name == "--limit":
            try:
                value = parse_id(value, "limit", minimum=1)  # as digest.cli.params.LIMIT reads it
            except ValidationError:
                return None
        options[name.removeprefix("--")] = value
    return options


def _value(args: list[str], index: int, name: str) -> tuple[object, int]:
    """The value of option `name` at args[index] (`--name VALUE` or `--name=VALUE`) and the
    index after it; _UNSURE when args[index] is not that option or the value could be read
    another way (missing, or itself looking like an option)."""
    token = args[index]
    if token.startswith(name + "="):
        return token[len(name) + 1:], index + 1
    if token != name or index + 1 >= len(args) or args[index + 1].startswith("-"):
        return _UNSURE, index
    return args[index + 1], index + 2


def _print_root_help() -> None:
    """The root help as the full CLI prints it: click's formatter on the same texts (typer's
    copy of click formats it the same way; tests/test_cli_fast.py compares the two)."""
    import click
    from click.utils import _detect_program_name  # the name click's main shows (`python -m digest`)

    from digest.cli.commands import COMMANDS, HOME_HELP, QUIET_HELP, ROOT_HELP, VERBOSE_HELP, VERSION_HELP

    class Listing(click.Group):
        def list_commands(self, ctx: click.Context) -> list[str]:
            return list(self.commands)  # in the table's order, as the full CLI lists them

    root = Listing(name="digest", help=ROOT_HELP, commands=[click.Command(name, help=text) for name, text in COMMANDS],
                   params=[click.Option(["--home"], metavar="<path>", help=HOME_HELP),
                           click.Option(["--verbose", "-v"], is_flag=True, help=VERBOSE_HELP),
                           click.Option(["--quiet", "-q"], is_flag=True, help=QUIET_HELP),
                           click.Option(["--version"], is_flag=True, help=VERSION_HELP)],
                   context_settings={"help_option_names": list(HELP[::-1])})
    ctx = root.make_context(_detect_program_name(), [], resilient_parsing=True)
    click.echo(ctx.get_help(), color=ctx.color)


def _run_tools_list(root: dict, listing: dict) -> int:
    """`digest tools list` with the full CLI's root callback and error handling around it."""
    from digest.cli.context import AppContext, configure_logging
    from digest.cli.output import report_failure
    from digest.cli.tools_listing import list_tools

    state = None
    try:
        from digest.config_values import resolve_home

        state = AppContext(home=resolve_home(root["home"]), verbose=root["verbose"], quiet=root["quiet"])
        configure_logging(verbose=root["verbose"], quiet=root["quiet"])
        list_tools(state, **listing)
    except BrokenPipeError:  # a reader that stopped early (`| head`): quiet, exit 1, as click does
        _silence_stdout()
        return 1
    except (Exception, KeyboardInterrupt) as exc:
        return report_failure(exc, verbose=state is not None and state.verbose)
    finally:
        if state is not None:
            state.close()
    return 0


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # pragma: no cover - stdout without a file descriptor
        pass
