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
    assert result.exit_code == 2
    assert result.stderr.startswith("error: no database") and result.stderr.count("\n") == 1


def test_serve_refuses_a_bad_trusted_proxy_setting(home: Path, make_cli) -> None:
    with (home / "digest.toml").open("a", encoding="utf-8") as handle:
        handle.write('\n[web]\ntrusted_proxies = "10.0.0.1, not-an-address"\n')
    result = make_cli(home)("serve")
    assert result.exit_code == 2
    assert "web.trusted_proxies" in result.stderr and "not-an-address" in result.stderr


def test_serve_on_a_port_in_use_fails_in_one_line(cli) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = cli("serve", "--host", "127.0.0.1", "--port", str(port))
    assert result.exit_code == 1
    assert result.stderr == (f"error: cannot listen on 127.0.0.1:{port}: Address already in use "
                             "(hint: another server is listening there; stop it or choose --port)\n")


def test_serve_on_a_bad_host_fails_in_one_line(cli) -> None:
    # neither host sends a packet: a label over 63 characters fails before any lookup, and
    # binding to a documentation address that is not this machine's fails in the kernel
    unresolvable = "x" * 64 + ".example"
    result = cli("serve", "--host", unresolvable, "--port", "0")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: cannot listen on {unresolvable}:0: the host does not resolve")
    assert result.stderr.count("\n") == 1
    result = cli("serve", "--host", "192.0.2.1", "--port", "0")
    assert result.exit_code == 2
    assert result.stderr == ("error: cannot listen on 192.0.2.1:0: not an address of this machine "
                             "(hint: check --host or web.host)\n")
