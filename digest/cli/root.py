"""The Typer app behind `digest`: the root group, its options and the commands built on demand.

`digest.cli` (the package) describes the layer and holds the entry point; this module is what
it imports for every invocation `digest.cli.fast` does not answer itself.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from typer.core import TyperGroup

try:  # typer >= 0.26 runs on its vendored click: importing click itself as well cost ~17 ms
    from typer import _click as click
except ImportError:  # pragma: no cover - older typer runs on click itself
    import click

from digest import __version__
from digest.cli.commands import HOME_HELP, QUIET_HELP, ROOT_HELP, VERBOSE_HELP, VERSION_HELP
from digest.cli.context import AppContext, configure_logging
from digest.cli.output import fail, report_failure


def _click_classes(name: str) -> tuple[type[BaseException], ...]:
    """The exception class `name` of the click the commands run on (typer >= 0.26: its vendored
    copy; older typer: click), and click's own where something already imported click."""
    found: list[type[BaseException]] = []
    for module in (click.exceptions, getattr(sys.modules.get("click"), "exceptions", None)):
        cls = getattr(module, name, None)
        if isinstance(cls, type) and cls not in found:
            found.append(cls)
    return tuple(found)


# Exceptions that carry click's own exit handling (usage errors exit 2)
_CLICK_FLOW = (*_click_classes("Exit"), *_click_classes("Abort"), *_click_classes("ClickException"),
               typer.Exit, typer.Abort)
_CLICK_ERRORS = _click_classes("ClickException")
_USAGE_ERRORS = _click_classes("UsageError")
_HELP_INSTEAD = _click_classes("NoArgsIsHelpError")
_ABORTS = _click_classes("Abort") + (typer.Abort,)


def usage_line(exc: BaseException) -> str:
    """Click's usage error as the one line the CLI contract promises: the command, the problem
    and where the usage is, instead of click's usage block, hint line and message."""
    message = " ".join(exc.format_message().split()) if hasattr(exc, "format_message") else str(exc)
    ctx = getattr(exc, "ctx", None)
    if not isinstance(exc, _USAGE_ERRORS) or ctx is None:
        return message
    return f"{ctx.command_path}: {message} (hint: see `{ctx.command_path} --help`)"


class DigestGroup(TyperGroup):
    """The root group: turns every error raised below it into one line and an exit code."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):  # noqa: ANN001, ANN201
        """Click's own errors (bad option, value out of range, unknown command) as one line on
        stderr with exit status 2, like every other error; a group called without a command
        still shows its help."""
        if not standalone_mode:
            return super().main(args=args, prog_name=prog_name, complete_var=complete_var,
                                standalone_mode=False, **extra)
        try:
            result = super().main(args=args, prog_name=prog_name, complete_var=complete_var,
                                  standalone_mode=False, **extra)
        except _HELP_INSTEAD as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except _CLICK_ERRORS as exc:
            fail(usage_line(exc))
            sys.exit(exc.exit_code)
        except _ABORTS:
            fail("aborted")
            sys.exit(1)
        sys.exit(result if isinstance(result, int) else 0)

    # Building a click command from a Typer function inspects its signature and type hints:
    # done for all 45 commands on every start, that cost more than importing click itself. So
    # the root group builds only the command that runs; its help lists names and first lines.
    _listing = False

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(dict.fromkeys([*self.commands, *_LAZY]))

    def get_command(self, ctx: click.Context, cmd_name: str):  # noqa: ANN201
        lazy = _LAZY.get(cmd_name)
        if cmd_name not in self.commands and lazy is not None:
            if self._listing:
                return lazy.stub()
            self.commands[cmd_name] = lazy.build()
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self._listing = True
        try:
            super().format_commands(ctx, formatter)
        finally:
            self._listing = False

    def invoke(self, ctx: click.Context):  # noqa: ANN201
        try:
            return super().invoke(ctx)
        except (*_CLICK_FLOW, BrokenPipeError):  # a closed pipe (`| head`): click exits quietly
            raise
        except (Exception, KeyboardInterrupt) as exc:
            ctx.exit(report_failure(exc, verbose=isinstance(ctx.obj, AppContext) and ctx.obj.verbose))
        finally:
            if isinstance(ctx.obj, AppContext):
                ctx.obj.close()


app = typer.Typer(
    cls=DigestGroup,
    name="digest",
    help=ROOT_HELP,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"digest {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    home: Annotated[Optional[Path], typer.Option("--home", help=HOME_HELP, show_default=False)] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help=VERBOSE_HELP)] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help=QUIET_HELP)] = False,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help=VERSION_HELP)] = False,
) -> None:
    """digest: poll AI-launch feeds, compare two tools side by side, and send the weekly issue.

    Every command acts on a newsletter folder (digest.toml, feeds.toml, digest.db, outbox/).
    """
    from digest.config_values import resolve_home

    ctx.obj = AppContext(home=resolve_home(home), verbose=verbose, quiet=quiet)
    configure_logging(verbose=verbose, quiet=quiet)


class _Lazy:
    """One top-level command or group, turned into a click command only when it is used."""

    def __init__(self, info: typer.models.CommandInfo | typer.models.TyperInfo) -> None:
        self.info = info

    @property
    def name(self) -> str:
        import typer.main

        if isinstance(self.info, typer.models.CommandInfo):
            return self.info.name or typer.main.get_command_name(self.info.callback.__name__)
        return typer.main.solve_typer_info_defaults(self.info).name

    def build(self) -> click.Command:
        import typer.main

        if isinstance(self.info, typer.models.CommandInfo):
            return typer.main.get_command_from_info(self.info, pretty_exceptions_short=app.pretty_exceptions_short,
                                                    rich_markup_mode=app.rich_markup_mode)
        return typer.main.get_group_from_info(self.info, pretty_exceptions_short=app.pretty_exceptions_short,
                                              rich_markup_mode=app.rich_markup_mode,
                                              suggest_commands=app.suggest_commands)

    def stub(self) -> click.Command:
        """What the root's help shows of the command (name, help, hidden) without its parameters."""
        import inspect

        import typer.main
        from typer.core import TyperCommand

        if isinstance(self.info, typer.models.CommandInfo):
            info = self.info
            text = inspect.cleandoc(info.help) if info.help is not None else inspect.getdoc(info.callback)
            return TyperCommand(name=self.name, help=text, short_help=info.short_help, hidden=info.hidden,
                                deprecated=info.deprecated)
        solved = typer.main.solve_typer_info_defaults(self.info)
        return TyperGroup(name=self.name, help=solved.help, short_help=solved.short_help, hidden=solved.hidden,
                          deprecated=solved.deprecated)


_LAZY: dict[str, _Lazy] = {}


def _register() -> None:
    """Each command module registers on a holder; the root group builds them from it on demand
    (in the order typer lists them: commands, then groups)."""
    from digest.cli import (bounces, check, core, demo, editorial, issue, poll, render, report, schedule, send,
                            setaside, subscribers, tools, web)

    holder = typer.Typer()
    for module in (core, check, poll, tools, editorial, issue, render, report, subscribers, send, bounces, schedule, web,
                   setaside, demo):
        module.register(holder)
    for info in (*holder.registered_commands, *holder.registered_groups):
        lazy = _Lazy(info)
        _LAZY[lazy.name] = lazy


_register()


__all__ = ["DigestGroup", "app", "usage_line"]
