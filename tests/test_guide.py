"""docs/editors-week.md runs as written: its `console` blocks, in order, on a fresh demo folder.

Each `$ command` line in a ```console block is run (one bash, so `export` and background
servers carry on, from the repository root as the guide says) and what it prints, stdout and
stderr together, is compared with the lines that follow it in the guide, with the volatile
parts masked: dates, times, ports, timings, sizes, tokens and the temporary home. A line `…`
alone in the guide stands for any number of lines. The guide's ports (8765 for the sample
feeds, 8025 for SMTP) are swapped for free ones so a busy machine does not fail the run, and
the guide's `sleep` after starting a server waits until that server answers instead.

UPDATE_GOLDEN=1 rewrites the expected outputs in the guide from a run, on purpose; read the
diff before committing it.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "editors-week.md"
MARK = "@@guide-step@@"
ANY = "…"
PORTS = ("8765", "8025")


@dataclass
class Step:
    command: str
    expected: list[str]
    line: int  # where the command is in the guide, 1-based


def steps(text: str) -> list[Step]:
    """The `$ command` lines of the ```console blocks, each with the lines after it."""
    found: list[Step] = []
    inside = False
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("```"):
            inside = line.strip() == "```console"
            continue
        if not inside:
            continue
        if line.startswith("$ "):
            found.append(Step(line[2:], [], number))
        elif found:
            found[-1].expected.append(line)
    return found


_MASKS = [
    (re.compile(r"\b\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:\d{2}|Z)?)?\b"), "<date>"),
    (re.compile(r"\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun) <date>"), "<date>"),
    (re.compile(r"\b\d{2}:\d{2}( UTC)?\b"), "<time>"),
    (re.compile(r"(127\.0\.0\.1|localhost):\d+"), r"\1:<port>"),
    (re.compile(r"\b\d+(\.\d+)? ?(s|ms)\b"), "<duration>"),
    (re.compile(r"\b[\d,]+ messages/s\b"), "<rate>"),
    (re.compile(r"\b\d+ KB\b"), "<size>"),
    (re.compile(r"[A-Za-z0-9_-]{24,}(\.[A-Za-z0-9_.-]+)?"), "<token>"),
]


def mask(line: str, home: str) -> str:
    line = line.replace(home, "~").rstrip()
    for pattern, replacement in _MASKS:
        line = pattern.sub(replacement, line)
    return line


def matches(expected: list[str], actual: list[str]) -> bool:
    """Line by line, where a `…` line takes any number of actual lines."""
    if not expected:
        return not actual
    if expected[0] == ANY:
        return any(matches(expected[1:], actual[i:]) for i in range(len(actual) + 1))
    return bool(actual) and expected[0] == actual[0] and matches(expected[1:], actual[1:])


def free_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return str(sock.getsockname()[1])


def run_guide(found: list[Step], home: Path) -> list[tuple[int, list[str]]]:
    """Run every step in one bash; each step's exit status and output lines."""
    ports = {port: free_port() for port in PORTS}
    script = ["set +e", f"cd {ROOT}", "exec 2>&1"]
    serving: list[str] = []  # ports of the servers started in the background so far
    for index, step in enumerate(found):
        command = step.command
        for guide_port, port in ports.items():
            if guide_port in command and command.rstrip().endswith("&"):
                serving.append(port)
            command = command.replace(guide_port, port)
        if command.startswith("sleep ") and serving:  # the reader's pause: here, until the servers answer
            command = "; ".join(f"for i in $(seq 300); do (exec 3<>/dev/tcp/127.0.0.1/{port}) 2>/dev/null && break; "
                                "sleep 0.1; done" for port in serving)
        script += [f"echo '{MARK} {index}'", command, f"echo \"{MARK} status $?\""]
    script.append("kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; true")
    env = {key: value for key, value in os.environ.items() if not key.startswith("DIGEST_")}
    env.update(HOME=str(home), PATH=f"{Path(sys.executable).parent}:{env.get('PATH', '')}", COLUMNS="100",
               DIGEST_SMTP_URL=f"smtp://127.0.0.1:{ports['8025']}", TZ="UTC", EDITOR="true", BROWSER="true")
    out = home / "guide.log"
    with out.open("w") as handle:
        subprocess.run(["bash", "-c", "\n".join(script)], stdout=handle, stderr=subprocess.STDOUT,
                       stdin=subprocess.DEVNULL, env=env, timeout=550, check=False)
    results: list[tuple[int, list[str]]] = []
    current: list[str] | None = None
    for line in out.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith(MARK):
            word = line.split()[1]
            if word == "status":
                results.append((int(line.split()[2]), current or []))
                current = None
            else:
                current = []
        elif current is not None:
            current.append(line)
    return results


def update(text: str, found: list[Step], results: list[tuple[int, list[str]]], home: str) -> str:
    lines = text.splitlines()
    for step, (_, actual) in reversed(list(zip(found, results))):
        start = step.line  # 0-based index of the first expected line
        lines[start:start + len(step.expected)] = [line.replace(home, "~").rstrip() for line in actual]
    return "\n".join(lines) + "\n"


@pytest.mark.timeout(600)  # ~50 whole CLI processes, ~1 s each on a quiet machine
@pytest.mark.backend_independent  # the guide runs on the demo's own SQLite folder: the SQLite pass runs it
def test_the_editors_week_runs_as_written(tmp_path: Path) -> None:
    text = GUIDE.read_text(encoding="utf-8")
    found = steps(text)
    assert len(found) >= 20, "the guide's console blocks were not found"
    results = run_guide(found, tmp_path)
    assert len(results) == len(found), f"the guide stopped after step {len(results)}"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        GUIDE.write_text(update(text, found, results, str(tmp_path)), encoding="utf-8")
    home = str(tmp_path)
    for step, (status, actual) in zip(found, results):
        expected = [mask(line, home) for line in step.expected]
        got = [mask(line, home) for line in actual]
        assert matches(expected, got), (
            f"docs/editors-week.md:{step.line}: `{step.command}` (exit {status}) printed\n"
            + "\n".join(actual) + "\n--- the guide says ---\n" + "\n".join(step.expected))
        assert "Traceback" not in "\n".join(actual), step.command


def test_the_matcher() -> None:
    assert matches(["a", ANY, "d"], ["a", "b", "c", "d"]) and matches(["a", ANY], ["a"])
    assert not matches(["a", "b"], ["a", "c"]) and not matches(["a"], ["a", "b"])
    assert mask("sent 4 in 0.1 s (77 messages/s) at Tue 2026-12-01 09:00 UTC on 127.0.0.1:8799", "/x") == \
        "sent 4 in <duration> (<rate>) at <date> UTC on 127.0.0.1:<port>"
    assert [s.command for s in steps("```console\n$ digest a\nout\n```\n```sh\n$ no\n```\n")] == ["digest a"]
