"""The CLI contract for bad input: one line on stderr, exit status 2, nothing changed."""

from __future__ import annotations

import pytest


def _one_line(result) -> str:
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


@pytest.mark.parametrize(("args", "words"), [
    (("tools", "list", "--limit", "0"), "digest tools list: Invalid value for '--limit'"),
    (("tools", "lst"), "No such command 'lst'"),
    (("--bogus",), "No such option: --bogus"),
    (("issue", "show"), "digest issue show: Missing argument"),
    (("send", "--workers", "many"), "'many' is not a valid int"),
])
def test_click_usage_errors_are_one_line_exit_2(cli, args: tuple[str, ...], words: str) -> None:
    result = cli(*args)
    assert result.exit_code == 2
    line = _one_line(result)
    assert words in line
    assert "--help" in line  # where the usage is


def test_help_is_still_the_whole_help(cli) -> None:
    result = cli("tools", "list", "--help")
    assert result.exit_code == 0
    assert result.stdout.startswith("Usage: digest tools list [OPTIONS]")
    assert "--limit" in result.stdout


def test_a_group_without_a_command_shows_its_help(cli) -> None:
    result = cli("tools")
    assert "Usage: digest tools" in result.output and "Commands:" in result.output


@pytest.mark.parametrize(("args", "words"), [
    (("send", "--workers", "99999999999999999999999"), "'--workers': 99999999999999999999999 is not in the range 1<=x<=64"),
    (("send", "--workers", "65"), "is not in the range 1<=x<=64"),
    (("send", "--rate", "1e400"), "'--rate': inf is not in the range"),
    (("send", "--rate", "nan"), "--rate: must be between 0 and 1,000,000 messages per second, got nan"),
    (("send", "--rate", "-1"), "'--rate': -1.0 is not in the range"),
    (("issue", "preview", "1", "--serve", "--port", "99999"), "'--port': 99999 is not in the range 0<=x<=65535"),
    (("serve", "--port", "99999"), "'--port': 99999 is not in the range 0<=x<=65535"),
])
def test_out_of_range_values_are_one_line_exit_2(cli, args: tuple[str, ...], words: str) -> None:
    result = cli(*args)
    assert result.exit_code == 2
    assert words in _one_line(result)


def test_the_sender_refuses_too_many_workers_before_making_any(settings, engine) -> None:
    import math
    import threading

    from digest.errors import ConfigError
    from digest.sender import send_queued

    threads = threading.active_count()
    for workers, rate in ((10**23, 0.0), (0, 0.0), (1, math.inf), (1, math.nan), (1, -1.0)):
        with pytest.raises(ConfigError):
            send_queued(settings=settings, engine=engine, workers=workers, rate=rate, dry_run=True, wait=False)
    assert threading.active_count() == threads
