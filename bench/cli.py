#!/usr/bin/env python3
"""Benchmark: how long the editor's commands take as whole processes, against peers in the same run.

    .venv/bin/python bench/cli.py [--repeat 7] [--home DIR] [--skip-node]

What it does: builds a demo folder (`digest demo --keep`, unless `--home` names one), then
times whole processes, each in `--repeat` rounds that interleave every command so that other
work on a shared machine falls on all of them alike, and prints the median of each and its ratio
to its peer:
* every editor command (the week's reads and writes, EDITOR_COMMANDS) against
  `python -c "import sqlmodel"` (the ORM they used to read and write through);
* the commands that need no ORM (`digest --help`, `digest tools list`) against
  `python -c "import click"` (the CLI framework every command pays for);
* `digest issue render 1` against the `mjml` CLI (MJML for Node, npm package `mjml`, installed
  by this script into bench/.node/ with npm) converting the very email.mjml that render wrote.

Targets (from issue 14): editor commands <= 1.3x import sqlmodel; `--help` and `tools list`
<= 1.5x import click; `issue render 1` <= 1.0x the mjml CLI. Exits 1 when a target is missed.
Without npm (or with `--skip-node`) the render row is skipped with a note.
"""

from __future__ import annotations

import argparse
import atexit
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE_DIR = ROOT / "bench" / ".node"
PYTHON = sys.executable
DIGEST = str(Path(PYTHON).with_name("digest"))

# Every command an editor runs in a week's curation, reads and writes. {draft} is a draft issue
# and {pair} a comparison made for the run; the writes leave the folder as each round found it
# (hide then keep, add then remove), or change nothing after the first round (set, review,
# subscribers add), so every round times the same work; `pair` makes one more comparison a round.
EDITOR_COMMANDS = (("issue", "show", "1"), ("issue", "list"), ("subscribers", "list"), ("tools", "list"),
                   ("tools", "show", "1"), ("suggest",), ("comparison", "list"), ("panel",),
                   ("comparison", "show", "1"), ("issue", "report", "1"), ("schedule", "list"),
                   ("set-aside", "list"), ("subscribers", "export"),
                   ("pair", "studylark", "cellsmith"),
                   ("review", "{pair}", "--tool", "studylark", "--reviewer", "builder", "--verdict", "ship",
                    "--quote", "Cards from slides in a minute."),
                   ("issue", "set", "{draft}", "--subject", "Bench draft"),
                   ("issue", "add", "{draft}", "{pair}"), ("issue", "remove", "{draft}", "{pair}"),
                   ("tools", "hide", "shelfwise"), ("tools", "keep", "shelfwise"),
                   ("tools", "edit", "shelfwise", "--category", "retail"),
                   ("subscribers", "add", "bench@example.org"))
NO_ORM_COMMANDS = (("--help",), ("tools", "list"))
TARGETS = {"sqlmodel": 1.3, "click": 1.5, "mjml": 1.0}
# An installed digest runs from bytecode (pip compiles it, an editable install writes it on the
# first run); with PYTHONDONTWRITEBYTECODE set the warm-up round below wrote none, and every
# timed digest process compiled its own modules while the peers ran from site-packages' bytecode.
CHILD_ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def ensure_mjml_cli() -> Path | None:
    """The mjml CLI from bench/.node/, installed with npm once; None (with a note) without npm."""
    cli = NODE_DIR / "node_modules" / ".bin" / "mjml"
    if cli.is_file():
        return cli
    if shutil.which("npm") is None or shutil.which("node") is None:
        print("note: npm or node missing, the mjml row is skipped", file=sys.stderr)
        return None
    print("installing MJML for Node into bench/.node/ (npm install mjml) ...", file=sys.stderr)
    done = subprocess.run(["npm", "install", "--prefix", str(NODE_DIR), "--no-audit", "--no-fund",
                           "--loglevel=error", "mjml"], capture_output=True, text=True)
    if done.returncode != 0 or not cli.is_file():
        print(f"note: npm install mjml failed, the mjml row is skipped: {done.stderr.strip()[:200]}", file=sys.stderr)
        return None
    return cli


CPU_SECONDS: dict[str, list[float]] = {}  # per row: the process's user + system CPU time


def timed(argv: list[str], name: str = "") -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=CHILD_ENV)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU_SECONDS.setdefault(name, []).append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.strip()[:300]}")
    return elapsed


def label(command: tuple[str, ...]) -> str:
    """A row's name: the command line, cut to the table's width."""
    text = " ".join(("digest", *command))
    return text if len(text) <= 34 else text[:33] + "…"


def _first_line(argv: list[str]) -> str:
    """The first line a set-up command prints (an id, or `issue N: ...`)."""
    return subprocess.run(argv, check=True, capture_output=True, text=True, env=CHILD_ENV).stdout.splitlines()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7, help="rounds (median reported)")
    parser.add_argument("--home", type=Path, help="an existing demo folder (default: a fresh `digest demo --keep`)")
    parser.add_argument("--skip-node", action="store_true", help="leave out the mjml CLI row")
    args = parser.parse_args()

    home = args.home
    if home is None:
        scratch = tempfile.mkdtemp(prefix="digest-bench-cli-")
        atexit.register(shutil.rmtree, scratch, ignore_errors=True)  # a folder it made is its own to remove
        home = Path(scratch) / "demo"
        subprocess.run([DIGEST, "demo", "--keep", str(home)], check=True, capture_output=True, env=CHILD_ENV)
    digest = [DIGEST, "--home", str(home)]
    subprocess.run([*digest, "issue", "render", "1"], check=True, capture_output=True, env=CHILD_ENV)
    mjml_file = home / "outbox" / "1" / "email.mjml"
    made = {"draft": _first_line([*digest, "issue", "new", "--subject", "Bench draft"]).split(":")[0].split()[-1],
            "pair": _first_line([*digest, "pair", "studylark", "cellsmith"])}
    editor_commands = [tuple(arg.format(**made) for arg in command) for command in EDITOR_COMMANDS]
    mjml_cli = None if args.skip_node else ensure_mjml_cli()

    rows: dict[str, list[str]] = {
        "import sqlmodel": [PYTHON, "-c", "import sqlmodel"],
        "import click": [PYTHON, "-c", "import click"],
    }
    for command in dict.fromkeys(editor_commands + list(NO_ORM_COMMANDS)):
        rows[label(command)] = [*digest, *command]
    rows["digest issue render 1"] = [*digest, "issue", "render", "1"]
    if mjml_cli is not None:
        rows["mjml CLI, same email.mjml"] = [str(mjml_cli), str(mjml_file), "-s"]

    for argv in rows.values():  # warm the page cache and the bytecode once
        timed(argv)
    times: dict[str, list[float]] = {name: [] for name in rows}
    for _ in range(args.repeat):
        for name, argv in rows.items():
            times[name].append(timed(argv, name))
    median = {name: statistics.median(values) for name, values in times.items()}
    cpu = {name: statistics.median(CPU_SECONDS[name]) for name in times}

    print(f"whole processes, median of {args.repeat} interleaved rounds, folder {home}, "
          f"load average {os.getloadavg()[0]:.1f}\n(CPU: the process's own user + system time, "
          "which other work on a shared machine disturbs less than the wall clock)\n")
    missed = []

    def line(name: str, peer: str, target: float) -> None:
        ratio = median[name] / median[peer]
        ok = ratio <= target
        if not ok:
            missed.append(name)
        print(f"  {name:<34} {median[name] * 1000:7.0f} ms  {ratio:5.2f}x {peer:<26} "
              f"target <= {target:.1f}x: {'met' if ok else 'MISSED'}   (CPU {cpu[name] * 1000:.0f} ms, "
              f"{cpu[name] / cpu[peer]:.2f}x)")

    for peer in ("import sqlmodel", "import click"):
        print(f"  {peer:<34} {median[peer] * 1000:7.0f} ms  (CPU {cpu[peer] * 1000:.0f} ms)")
    print()
    print("editor commands against `python -c \"import sqlmodel\"`:")
    for command in editor_commands:
        line(label(command), "import sqlmodel", TARGETS["sqlmodel"])
    print("\ncommands that need no ORM against `python -c \"import click\"`:")
    for command in NO_ORM_COMMANDS:
        line(label(command), "import click", TARGETS["click"])
    print("\nrendering against the mjml CLI on the same MJML:")
    if mjml_cli is None:
        print(f"  {'digest issue render 1':<34} {median['digest issue render 1'] * 1000:7.0f} ms  "
              "(mjml CLI unavailable: row skipped)")
    else:
        print(f"  {'mjml CLI, same email.mjml':<34} {median['mjml CLI, same email.mjml'] * 1000:7.0f} ms")
        line("digest issue render 1", "mjml CLI, same email.mjml", TARGETS["mjml"])
    if missed:
        print(f"\nmissed: {', '.join(missed)}")
        sys.exit(1)
    print("\nall targets met")


if __name__ == "__main__":
    main()
