"""`digest serve`: runs the app on the given port; refuses a missing database in one line."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import httpx
from webapp import free_port, wait_until


def _healthy(url: str) -> bool:
    try:
        return httpx.get(url + "/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_serve_runs_the_app_until_stopped(home: Path) -> None:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "digest", "--home", str(home), "serve", "--host", "127.0.0.1",
                                "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until(lambda: _healthy(url) or process.poll() is not None, timeout=30)
        assert process.poll() is None, process.stderr.read().decode()
        assert httpx.get(url + "/issues/").status_code == 200
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=15)
    assert process.returncode in (0, -signal.SIGINT)


def test_serve_without_a_database_fails_in_one_line(tmp_path: Path, make_cli) -> None:
    cli = make_cli(tmp_path)
    result = cli("serve", "--port", "0")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: no database") and result.stderr.count("\n") == 1


def test_serve_refuses_a_bad_trusted_proxy_setting(home: Path, make_cli) -> None:
    with (home / "digest.toml").open("a", encoding="utf-8") as handle:
        handle.write('\n[web]\ntrusted_proxies = "10.0.0.1, not-an-address"\n')
    result = make_cli(home)("serve")
    assert result.exit_code == 2
    assert "web.trusted_proxies" in result.stderr and "not-an-address" in result.stderr
