"""The benchmarks keep running as the library changes.

The bench/ scripts call library functions directly, and nothing else in the suite runs them, so
a rename inside digest (an argument, a constructor) used to break them silently until someone
measured. Each one runs here at a tiny size; its figures and targets are not judged (they
depend on the machine), only that it runs to its report without a traceback.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.backend_independent  # bench/send.py makes its own SQLite folders: the SQLite pass runs it

BENCH = Path(__file__).resolve().parents[1] / "bench"

SMALL_RUNS = {
    "render": ["--skip-node", "--runs", "2"],
    "send": ["--subscribers", "300", "--deliver", "50", "--queue", "1000", "--assembly", "200", "--dkim", "5"],
    "suggest": ["20"],
}


@pytest.mark.parametrize("script", sorted(SMALL_RUNS))
def test_bench_script_runs_to_its_report(script: str, tmp_path: Path) -> None:
    run = subprocess.run([sys.executable, str(BENCH / f"{script}.py"), *SMALL_RUNS[script]],
                         capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    assert run.returncode in (0, 1), run.stderr[-3000:]  # 1: a timing target missed on this machine
    assert run.stdout.strip(), "the script printed no report"
