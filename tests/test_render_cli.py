"""`digest issue render` and `digest issue preview`, run as a user runs them."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys

import httpx
import pytest
from sqlmodel import select

from digest.db import session_scope
from digest.models import Review
from digest.render import OUTPUT_FILES
from digest.demo.sample import add_sample_issue
from interrupt import sigint_default


@pytest.fixture
def issue(engine) -> int:
    with session_scope(engine, write=True) as session:
        return add_sample_issue(session=session)


def test_render_writes_the_files_into_the_outbox(cli, home, issue) -> None:
    result = cli("issue", "render", str(issue))
    assert result.exit_code == 0, result.output
    folder = home / "outbox" / str(issue)
    assert sorted(p.name for p in folder.iterdir()) == sorted(OUTPUT_FILES)
    assert f"issue {issue} rendered to {folder}/" in result.stdout
    assert result.stderr == ""
    for name in OUTPUT_FILES:
        assert str(folder / name) in result.stdout
    assert "Patchwise" in (folder / "email.txt").read_text()


def test_render_to_another_folder_as_json(cli, tmp_path, issue) -> None:
    out = tmp_path / "proof"
    result = cli("issue", "render", str(issue), "--out", str(out), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["issue"] == issue and report["ready"] is True and report["warnings"] == []
    assert report["html_size"] < report["html_budget"]
    assert {name: entry["path"] for name, entry in report["files"].items()} == {n: str(out / n) for n in OUTPUT_FILES}


def test_render_of_an_unready_issue_warns_and_still_writes(cli, engine, home, issue) -> None:
    with session_scope(engine, write=True) as session:
        review = session.exec(select(Review).where(Review.reviewer == "buyer")).first()
        session.delete(review)
    result = cli("issue", "render", str(issue))
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith(f"warning: issue {issue} is not ready to send")
    assert "buyer has not reviewed" in result.stderr
    assert "Review pending" in (home / "outbox" / str(issue) / "email.txt").read_text()


@pytest.mark.parametrize("argument, code, message", [
    ("42", 2, "no issue 42"),
    ("soon", 2, "is not a number"),
])
def test_render_bad_issue_is_one_line_and_exit_2(cli, issue, argument, code, message) -> None:
    result = cli("issue", "render", argument)
    assert result.exit_code == code
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_render_failure_of_a_template_is_exit_1(cli, home, issue) -> None:
    (home / "templates" / "parts").mkdir(parents=True)
    (home / "templates" / "parts" / "pricing.html.j2").write_text("{{ c.nope }}", encoding="utf-8")
    result = cli("issue", "render", str(issue))
    assert result.exit_code == 1
    assert result.stderr.startswith("error: pricing.html.j2:1:") and "nope" in result.stderr
    assert not (home / "outbox" / str(issue) / "email.html").exists(), "nothing half-written"


def test_preview_opens_the_web_version_in_browser(cli, home, tmp_path, issue) -> None:
    seen = tmp_path / "seen"
    browser = tmp_path / "browser"
    browser.write_text(f'#!/bin/sh\necho "$1" > "{seen}"\n', encoding="utf-8")
    browser.chmod(0o755)
    result = cli("issue", "preview", str(issue), env={"BROWSER": f"{browser} %s", "DISPLAY": ""})
    assert result.exit_code == 0, result.output
    web = home / "outbox" / str(issue) / "web.html"
    assert seen.read_text().strip() == web.resolve().as_uri()
    assert f"opened {web}" in result.stdout


def test_preview_serves_on_loopback_until_ctrl_c(home, issue) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DIGEST_") and k not in ("BROWSER", "DISPLAY")}
    env["PYTHONUNBUFFERED"] = "1"
    process = subprocess.Popen([sys.executable, "-m", "digest", "--home", str(home), "issue", "preview", str(issue), "--serve"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, preexec_fn=sigint_default)
    try:
        line = process.stdout.readline()
        match = re.search(r"serving issue \d+ at (http://127\.0\.0\.1:\d+/)", line)
        assert match, line + process.stderr.read()
        url = match.group(1)
        page = httpx.get(url, timeout=5)
        assert page.status_code == 200 and "Patchwise" in page.text and "__digest_" not in page.text
        shown = httpx.get(url + "email.html", timeout=5).text
        assert "__digest_" not in shown and "__digest_" not in httpx.get(url + "email.txt", timeout=5).text
        hrefs = re.findall(r'href="([^"]+)"', shown)
        votes = [h for h in hrefs if "/vote/" in h]
        assert votes and all(h.startswith(url) for h in votes)  # links lead to the preview server
        vote = httpx.get(votes[0], timeout=5)
        assert vote.status_code == 200 and "This is a preview" in vote.text and "records their vote" in vote.text
        assert "Patchwise" in vote.text or "Lintern" in vote.text  # names the tool the button is for
        unsubscribe = next(h for h in hrefs if "/unsubscribe/" in h)
        assert "unsubscribes them" in httpx.get(unsubscribe, timeout=5).text
        web = next(h for h in hrefs if "/issues/" in h)
        assert web.startswith(url) and "Patchwise" in httpx.get(web, timeout=5).text
        assert httpx.get(url + "nothing-here", timeout=5).status_code == 404
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=5)
    assert process.returncode == 0, err
    assert out.strip().endswith("stopped")


def test_demo_renders_the_issue_the_editorial_demo_assembled(cli, home, settings) -> None:
    from editorial_support import add_tools

    from digest.demo import DemoContext
    from digest.demo.editorial import first_issue
    from digest.demo.render import render_first

    add_tools(home)
    said: list[str] = []
    run = DemoContext(home=home, say=said.append, settings=settings)
    first_issue(run)
    said.clear()
    render_first(run)
    assert said[0].startswith("digest issue render 1: 1 comparison, email ")
    assert not any("warning" in line for line in said), said
    email_text = (home / "outbox" / "1" / "email.txt").read_text()
    assert "Two robot reviewers, one pull request" in email_text and "Patchwise" in email_text
