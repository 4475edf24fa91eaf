"""`subscribers import` keeps consent exactly: statuses survive export and import, suppressions
survive everything, and any file, however large or strange, is refused in one bounded line."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from sqlalchemy import text

from digest.db import session_scope
from digest.errors import ValidationError
from digest.subscribers import get_subscriber, unsubscribe


def statuses(cli) -> dict[str, str]:  # noqa: ANN001
    result = cli("subscribers", "list", "--json")
    assert result.exit_code == 0, result.output
    return {row["email"]: row["status"] for row in json.loads(result.stdout)}


def suppressions(engine) -> dict[str, str]:  # noqa: ANN001
    with engine.connect() as connection:
        return dict(connection.execute(text("SELECT email_key, reason FROM suppression")).all())


def write(path: Path, content: str) -> Path:
    path.write_text(content, encoding="utf-8")
    return path


@pytest.fixture
def every_status(cli, engine, tmp_path: Path) -> None:  # noqa: ANN001
    """One reader of each status, each reached the way it is in real life."""
    assert cli("subscribers", "add", "active@example.com", "leaver@example.com", "bouncer@example.com").exit_code == 0
    assert cli("subscribers", "add", "--pending", "pending@example.com").exit_code == 0
    assert cli("subscribers", "remove", "leaver@example.com").exit_code == 0
    with session_scope(engine, write=True) as session:
        unsubscribe(session=session, subscriber=get_subscriber(session, "bouncer@example.com"), reason="bounced")
    complaint = write(tmp_path / "complaint.csv", "email,status\nspam-button@example.com,complained\n")
    assert cli("subscribers", "import", str(complaint)).exit_code == 0


EVERY_STATUS = {"active@example.com": "active", "leaver@example.com": "unsubscribed",
                "bouncer@example.com": "bounced", "pending@example.com": "pending",
                "spam-button@example.com": "complained"}


def test_export_then_import_elsewhere_resubscribes_no_one(cli, make_cli, every_status, tmp_path: Path) -> None:  # noqa: ANN001
    assert statuses(cli) == EVERY_STATUS
    exported = write(tmp_path / "export.csv", cli("subscribers", "export").stdout)
    other = make_cli(tmp_path / "other")
    assert other("init").exit_code == 0
    result = other("subscribers", "import", str(exported))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == ("imported 5: 1 active, 1 pending, 1 unsubscribed, 1 bounced, "
                                             "1 complained; skipped 0 suppressed; 0 already present; 0 invalid")
    assert statuses(other) == EVERY_STATUS
    from digest.config import load_settings
    from digest.db import open_database

    engine = open_database(load_settings(tmp_path / "other"))
    try:
        assert suppressions(engine) == {"leaver@example.com": "unsubscribed", "bouncer@example.com": "bounced",
                                        "spam-button@example.com": "complained"}
    finally:
        engine.dispose()
    # an old list that has everyone active brings back no one who left, and activates no one pending
    stale = write(tmp_path / "stale.csv", "email\n" + "\n".join(EVERY_STATUS) + "\n")
    again = other("subscribers", "import", str(stale), "--json")
    report = json.loads(again.stdout)
    assert report["added"] == [] and sorted(report["suppressed"]) == [
        "bouncer@example.com", "leaver@example.com", "spam-button@example.com"]
    assert statuses(other) == EVERY_STATUS


def test_import_back_into_the_same_folder_changes_nothing(cli, every_status, tmp_path: Path) -> None:  # noqa: ANN001
    exported = write(tmp_path / "export.csv", cli("subscribers", "export").stdout)
    result = cli("subscribers", "import", str(exported), "--json")
    report = json.loads(result.stdout)
    assert report["added"] == [] and report["left"] == []
    assert report["status_column"] == "status" and "source" in report["ignored_columns"]
    assert statuses(cli) == EVERY_STATUS


def test_the_file_saying_someone_left_suppresses_them_here(cli, engine, tmp_path: Path) -> None:  # noqa: ANN001
    cli("subscribers", "add", "stays@example.com", "goes@example.com")
    path = write(tmp_path / "esp-unsubscribes.csv",
                 "Email,Status,Name\nstays@example.com,active,Stay\nGOES@example.com,Unsubscribed,Go\n")
    result = cli("subscribers", "import", str(path))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[:2] == [
        "imported 0; suppressed 1 already here that the file says left; skipped 0 suppressed; "
        "1 already present; 0 invalid",
        "suppressed (the file says they left): goes@example.com"]
    assert statuses(cli) == {"stays@example.com": "active", "goes@example.com": "unsubscribed"}
    assert suppressions(engine) == {"goes@example.com": "unsubscribed"}


def test_a_row_listed_twice_leaving_wins_and_pending_stays_pending(cli, tmp_path: Path) -> None:  # noqa: ANN001
    cli("subscribers", "add", "--pending", "waiting@example.com")
    path = write(tmp_path / "twice.csv", "email,status\ntwice@example.com,active\nTwice@example.com,bounced\n"
                                         "waiting@example.com,active\nnew@example.com,\n")
    report = json.loads(cli("subscribers", "import", str(path), "--json").stdout)
    assert report["imported"]["bounced"] == ["twice@example.com"] and report["imported"]["active"] == ["new@example.com"]
    assert statuses(cli) == {"waiting@example.com": "pending", "twice@example.com": "bounced",
                             "new@example.com": "active"}


def test_pending_makes_active_rows_pending_and_keeps_the_others(cli, tmp_path: Path) -> None:  # noqa: ANN001
    path = write(tmp_path / "list.csv", "email,status\na@example.com,active\nb@example.com,unsubscribed\n")
    assert cli("subscribers", "import", "--pending", str(path)).exit_code == 0
    assert statuses(cli) == {"a@example.com": "pending", "b@example.com": "unsubscribed"}


def test_an_unknown_status_is_an_invalid_row_never_a_guess(cli, tmp_path: Path) -> None:  # noqa: ANN001
    path = write(tmp_path / "odd.csv", "email,status\na@example.com,active\nb@example.com,sleeping\n")
    refused = cli("subscribers", "import", str(path))
    assert refused.exit_code == 2 and refused.stderr.count("\n") == 1
    assert "line 3: 'sleeping' is not a subscriber status" in refused.stderr
    assert statuses(cli) == {}
    skipped = cli("subscribers", "import", "--skip-invalid", str(path))
    assert skipped.exit_code == 0 and "skipped line 3" in skipped.stdout
    assert statuses(cli) == {"a@example.com": "active"}


def test_a_suppression_outlives_the_subscriber_row(cli, engine, tmp_path: Path) -> None:  # noqa: ANN001
    cli("subscribers", "add", "erased@example.com")
    cli("subscribers", "remove", "erased@example.com")
    with engine.begin() as connection:  # any other way a row goes: a database clean-up, an erasure request
        connection.execute(text("DELETE FROM subscriber"))
    assert statuses(cli) == {}
    assert suppressions(engine) == {"erased@example.com": "removed"}
    path = write(tmp_path / "list.csv", "email\nerased@example.com\n")
    imported = json.loads(cli("subscribers", "import", str(path), "--json").stdout)
    assert imported["suppressed"] == ["erased@example.com"] and imported["added"] == []
    refused = cli("subscribers", "add", "erased@example.com")
    assert refused.exit_code == 1 and "is suppressed (removed)" in refused.stderr
    assert statuses(cli) == {}


def test_a_subscriber_that_left_without_a_suppression_row_is_skipped_and_suppressed(cli, engine,  # noqa: ANN001
                                                                                    tmp_path: Path) -> None:
    cli("subscribers", "add", "old-leaver@example.com")
    with engine.begin() as connection:  # as written by a version that kept no suppressions
        connection.execute(text("UPDATE subscriber SET status = 'unsubscribed'"))
    path = write(tmp_path / "list.csv", "email\nold-leaver@example.com\n")
    imported = json.loads(cli("subscribers", "import", str(path), "--json").stdout)
    assert imported["suppressed"] == ["old-leaver@example.com"]
    assert suppressions(engine) == {"old-leaver@example.com": "unsubscribed"}


def test_many_rows_import_in_chunks(cli, tmp_path: Path) -> None:  # noqa: ANN001
    rows = [f"r{i}@example.com,{'unsubscribed' if i % 3 == 0 else 'active'}" for i in range(2400)]
    path = write(tmp_path / "big.csv", "email,status\n" + "\n".join(rows) + "\n")
    result = cli("subscribers", "import", str(path))
    assert result.stdout.startswith("imported 2400: 1600 active, 800 unsubscribed;"), result.output
    exported = list(csv.DictReader(io.StringIO(cli("subscribers", "export").stdout)))
    assert sum(row["status"] == "unsubscribed" for row in exported) == 800


# --- bounded reading ----------------------------------------------------------------------------

@pytest.mark.parametrize(("limits", "content", "words"), [
    ({"rows": 3}, "email\na@example.com\nb@example.com\nc@example.com\nd@example.com\n", "more than 3 addresses by line 5"),
    ({"file_bytes": 64}, "email\n" + "a@example.com\n" * 10, "larger than 64 bytes"),
    ({"line_bytes": 32}, "email\n" + "x" * 40 + "@example.com\n", "line 2 is longer than 32 bytes"),
])
def test_limits_refuse_before_anything_is_written(engine, tmp_path: Path, limits: dict, content: str,  # noqa: ANN001
                                                  words: str) -> None:
    from digest.csvinput import Limits
    from digest.subscriber_import import import_subscribers

    limits = Limits(**limits)
    path = write(tmp_path / "list.csv", content)
    with session_scope(engine, write=True) as session, pytest.raises(ValidationError, match=words):
        import_subscribers(session=session, path=path, limits=limits)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM subscriber")).scalar() == 0


def test_a_stream_past_the_byte_cap_is_refused_while_reading(engine, tmp_path: Path) -> None:  # noqa: ANN001
    import os
    import threading

    from digest.csvinput import Limits
    from digest.subscriber_import import import_subscribers

    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)

    def feed() -> None:  # a writer that would go on for ever; the reader's refusal ends it
        try:
            with fifo.open("w", encoding="utf-8") as handle:
                handle.write("email\n")
                for i in range(100_000):
                    handle.write(f"r{i}@example.com\n")
        except BrokenPipeError:
            pass

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    with session_scope(engine, write=True) as session, pytest.raises(ValidationError, match="larger than 1 KiB"):
        import_subscribers(session=session, path=fifo, limits=Limits(file_bytes=1024))
    writer.join(timeout=30)
    assert not writer.is_alive()


# --- the real command, in its own process: bounded in time and memory -------------------------

_MEMORY_CAP = 1024 ** 3  # address space the child may take: a regression fails here, not in the OOM killer


_REPORTING_PEAK = """
import atexit, sys
peak_path = sys.argv.pop(1)
def report():
    with open("/proc/self/status") as status:
        peak = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
    with open(peak_path, "w") as out:
        out.write(peak)
atexit.register(report)
sys.argv[0] = "digest"
from digest.cli import main
main()
"""


def _run_import(home: Path, target: str, *, stdin: int | None = None, timeout: float = 120):  # noqa: ANN202
    """`digest subscribers import TARGET` in a child process capped at `_MEMORY_CAP`:
    (exit code, stdout, stderr, the child's peak RSS in MiB).

    The peak is the child's own VmHWM, read by the child as it exits: wait4's ru_maxrss would
    carry this (large, late in a full run) pytest process's size into the child through fork."""
    import os
    import resource
    import subprocess
    import sys
    import tempfile
    import time

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (_MEMORY_CAP, _MEMORY_CAP))

    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile(mode="r") as peak_file:
        command = ["--home", str(home), "subscribers", "import", target]
        child = subprocess.Popen([sys.executable, "-c", _REPORTING_PEAK, peak_file.name, *command],
                                 stdin=subprocess.DEVNULL if stdin is None else stdin, stdout=out, stderr=err,
                                 preexec_fn=cap)
        deadline = time.monotonic() + timeout
        while True:  # wait4, not wait: it reports this child's own peak memory
            pid, status, _usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                child.kill()
                os.wait4(child.pid, 0)
                raise AssertionError(f"importing {target} did not end within {timeout} s")
            time.sleep(0.05)
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        peak_kib = peak_file.read().strip()
        assert peak_kib, "the child did not report its peak memory"
        return child.returncode, out.read().decode(), err.read().decode(), int(peak_kib) / 1024


def _gigantic_line(tmp_path: Path) -> str:
    path = tmp_path / "one-line.csv"
    with path.open("wb") as handle:
        handle.write(b"email\n")
        for _ in range(64):
            handle.write(b"a" * 1024 * 1024)  # 64 MiB without a line break
    return str(path)


def _huge(tmp_path: Path) -> str:
    path = tmp_path / "huge.csv"
    with path.open("wb") as handle:
        handle.write(b"email\nann@example.com\n")
        handle.truncate(4 * 1024 ** 3)  # 4 GiB, sparse: no disk used
    return str(path)


@pytest.mark.parametrize(("target", "words"), [
    (lambda tmp_path: "/dev/zero", "/dev/zero: line 1 is longer than 64 KiB; this is not a CSV text file"),
    (_gigantic_line, "line 2 is longer than 64 KiB; this is not a CSV text file"),
    (_huge, "larger than 1 GiB; this is not a list of addresses"),
], ids=["dev-zero", "gigantic-line", "huge-file"])
def test_a_file_that_is_no_list_is_refused_in_one_line_in_bounded_memory(home: Path, cli, tmp_path: Path,  # noqa: ANN001
                                                                          target, words: str) -> None:  # noqa: ANN001
    code, out, err, peak = _run_import(home, target(tmp_path))
    assert (code, out) == (2, ""), err
    assert err.startswith("error: ") and words in err and err.count("\n") == 1 and "Traceback" not in err
    assert peak < 300, f"the import took {peak:.0f} MiB"
    assert statuses(cli) == {}


def test_an_endless_line_on_a_pipe_is_refused_in_bounded_memory(home: Path, cli) -> None:  # noqa: ANN001
    """A pipe has no size to check up front: the line cap stops the reader, and so the writer."""
    import os
    import threading

    read_end, write_end = os.pipe()
    written = [0]

    def feed() -> None:
        chunk = b"x" * 65536
        try:
            while written[0] < 4 * 1024 ** 3:  # bounded: 4 GiB at most, should the reader never stop
                written[0] += os.write(write_end, chunk)
        except BrokenPipeError:
            pass
        finally:
            os.close(write_end)

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    try:
        code, out, err, peak = _run_import(home, "/dev/stdin", stdin=read_end)
    finally:
        os.close(read_end)
        writer.join(timeout=30)
    assert (code, out) == (2, ""), err
    assert "/dev/stdin: line 1 is longer than 64 KiB" in err and err.count("\n") == 1
    assert peak < 300 and written[0] < 1024 ** 3
    assert statuses(cli) == {}
