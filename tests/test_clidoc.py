"""The CLI reference cannot drift: docs/cli.md is the commands' own help, and every command
carries a help text and an example that really parses."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from digest.clidoc import Entry, reference, root_command, walk

pytestmark = pytest.mark.backend_independent  # help texts only: the SQLite pass runs it

REPO = Path(__file__).resolve().parents[1]
PAGE = REPO / "docs" / "cli.md"
ENTRIES = list(walk())
COMMANDS = [e for e in ENTRIES if not e.is_group]


def test_cli_reference_is_up_to_date() -> None:
    current = PAGE.read_text(encoding="utf-8") if PAGE.exists() else ""
    assert current == reference(ENTRIES), "docs/cli.md is out of date: run `make docs`"


def test_the_reference_holds_every_command_with_its_options() -> None:
    page = reference(ENTRIES)
    names = {e.name for e in ENTRIES}
    assert {"digest send", "digest issue render", "digest subscribers import", "digest schedule list"} <= names
    for entry in ENTRIES:
        assert f"## `{entry.name}`" in page
        assert f"Usage: {entry.name} " in entry.help
    render = next(e for e in ENTRIES if e.name == "digest issue render")
    assert "--out" in render.help


def test_the_reference_does_not_depend_on_the_terminal() -> None:
    """Same page whatever COLUMNS, TERM or colour forcing the shell has."""
    env = {"PATH": "/usr/bin:/bin", "COLUMNS": "40", "TERM": "xterm-256color", "FORCE_COLOR": "1"}
    result = subprocess.run([sys.executable, "-c", "import sys; from digest.clidoc import reference;"
                             " sys.stdout.write(reference())"],
                            capture_output=True, text=True, env=env, cwd=REPO, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout == reference(ENTRIES)
    assert "\x1b[" not in result.stdout


def test_check_mode_names_the_fix_and_write_mode_fixes_it(tmp_path: Path) -> None:
    page = tmp_path / "cli.md"
    page.write_text("# stale\n", encoding="utf-8")
    module = [sys.executable, "-m", "digest.clidoc", "--output", str(page)]

    stale = subprocess.run([*module, "--check"], capture_output=True, text=True, timeout=60)
    assert stale.returncode == 1
    assert stale.stderr.strip() == f"{page} is out of date: run `make docs`"
    assert page.read_text(encoding="utf-8") == "# stale\n"

    written = subprocess.run(module, capture_output=True, text=True, timeout=60)
    assert written.returncode == 0, written.stderr
    assert page.read_text(encoding="utf-8") == reference(ENTRIES)
    fresh = subprocess.run([*module, "--check"], capture_output=True, text=True, timeout=60)
    assert (fresh.returncode, fresh.stderr) == (0, "")


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.name)
def test_every_command_and_group_has_a_help_text(entry: Entry) -> None:
    assert entry.short.strip(), f"`{entry.name}` has no help text"


@pytest.mark.parametrize("entry", COMMANDS, ids=lambda e: e.name)
def test_every_command_has_an_example(entry: Entry) -> None:
    assert examples(entry), f"`{entry.name}` has no 'Example: {entry.name} ...' line in its help"


@pytest.mark.parametrize("entry", COMMANDS, ids=lambda e: e.name)
def test_every_example_runs_the_command_it_documents_with_options_that_exist(entry: Entry) -> None:
    """Each example parses with click (real option names, arity, choices) and names its command."""
    for example in examples(entry):
        words = shlex.split(example)
        while words and re.fullmatch(r"[A-Z_]+=\S*", words[0]):  # EDITOR=nano digest ...
            words.pop(0)
        assert words[:1] == ["digest"], f"example of `{entry.name}` does not start with digest: {example}"
        assert parsed_path(words[1:]) == entry.path, f"example of `{entry.name}` runs another command: {example}"


def examples(entry: Entry) -> list[str]:
    """The example command lines of a help text: `Example: ...`, or `Examples: a | b`."""
    found = []
    for paragraph in re.split(r"\n\s*\n", entry.help):
        text = " ".join(paragraph.split())
        if match := re.match(r"Examples?: (.+)", text):
            found += [line.split(" > ")[0].strip() for line in match.group(1).split(" | ")]
    return found


def parsed_path(args: list[str]) -> tuple[str, ...]:
    """Parse args as the real command tree would, without running anything."""
    command = root_command()
    context = command.make_context("digest", list(args))
    path = ["digest"]
    while hasattr(command, "commands"):
        rest = [*getattr(context, "_protected_args", []), *context.args]
        name, command, rest = command.resolve_command(context, rest)
        context = command.make_context(name, rest, parent=context)
        path.append(name)
    return tuple(path)


# --- the guide: every `digest` command line it shows must parse ------------------------------

GUIDE = [REPO / "README.md", *sorted(p for p in (REPO / "docs").glob("*.md") if p.name != "cli.md")]
SEPARATORS = {"|", "||", "&&", "&", ";"}


def documented_commands(path: Path) -> list[tuple[int, str, list[str]]]:
    """(line, text, digest's arguments) of each `digest ...` command in the file's sh and cron
    blocks, and of each `$ command` line of its console blocks (their output lines are not commands)."""
    found, fenced, continued, console = [], False, False, False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith("```"):
            fenced = line.strip() in ("```sh", "```cron", "```console")
            console = line.strip() == "```console"
            continue
        if console:
            if not line.startswith("$ "):
                continue
            line = line[2:]
        skip, continued = continued, line.rstrip().endswith("\\")
        if not fenced or skip or continued:  # multi-line commands are left to the reader
            continue
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split, lexer.commenters = True, "#"
        segment: list[str] = []
        for token in [*lexer, ";"]:
            if token not in SEPARATORS:
                segment.append(token)
                continue
            words = segment[:next((i for i, w in enumerate(segment) if w[0] in "<>"), len(segment))]
            while words and re.fullmatch(r"[A-Z_]+=.*", words[0]):
                words.pop(0)
            if words[:2] == ["sudo", "-u"]:  # sudo -u digest /opt/digest/.venv/bin/digest ...
                words = words[3:]
            if words and (words[0] == "digest" or words[0].endswith("/bin/digest")):
                found.append((number, line.strip(), words[1:]))
            segment = []
    return found


@pytest.mark.parametrize("path", GUIDE, ids=lambda p: str(p.relative_to(REPO)))
def test_every_command_the_guide_shows_exists_with_its_options(path: Path) -> None:
    commands = documented_commands(path)
    assert path.name != "editors-week.md" or len(commands) > 40, "the guide's commands were not found"
    broken = []
    for number, text, args in commands:
        try:
            parsed_path(args)
        except Exception as exc:  # click's usage errors: unknown command or option, bad value
            broken.append(f"{path.name}:{number}: {text}: {getattr(exc, 'message', exc)}")
    assert broken == []
