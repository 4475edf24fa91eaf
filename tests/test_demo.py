"""`digest demo` (first stage) and the bundled sample feeds the later stages rely on."""

from __future__ import annotations

import math
import re
from collections import Counter
from itertools import combinations
from pathlib import Path

import pytest

from digest.demo import STAGES, run_demo
from digest.errors import UsageError
from interrupt import sigint_default


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):
    lines: list[str] = []
    run = run_demo(keep=tmp_path_factory.mktemp("demo") / "newsletter", say=lines.append)
    return run, lines


def test_demo_polls_the_sample_feeds_and_lists_the_tools(demo) -> None:
    run, lines = demo
    assert lines[0].startswith("serving 3 sample feeds at http://127.0.0.1:")
    assert "digest poll: 3 feeds, 14 new tools, 0 unchanged, 0 failed" in lines
    assert "digest poll (again, nothing changed upstream): 3 feeds, 0 new tools, 3 unchanged, 0 failed" in lines
    assert "digest tools list: 14 tools found" in lines
    assert len(run.tools) == 14 and (run.home / "digest.db").exists()


def test_the_tools_later_stages_depend_on(demo) -> None:
    run, _ = demo
    by_slug = {tool["slug"]: tool for tool in run.tools}
    expected = {
        "patchwise": ("Patchwise", "Patchwise Labs", "code review", "freemium"),
        "lintern": ("Lintern", "Lintern", "code review", "open-source"),
        "minutely": ("Minutely", None, "meetings", "freemium"),
        "recapper": ("Recapper", None, "meetings", "paid"),
    }
    for slug, (name, vendor, category, price) in expected.items():
        tool = by_slug[slug]
        assert (tool["name"], tool["category"], tool["price"]) == (name, category, price)
        if vendor:
            assert tool["vendor"] == vendor
        assert 2 <= len(re.findall(r"[.!?](\s|$)", tool["description"])) <= 4, slug
    assert len({tool["category"] for tool in run.tools}) >= 10
    for tool in run.tools:
        assert tool["url"].endswith(".example/") or ".example/" in tool["url"]
        assert "<" not in tool["description"] and "document.cookie" not in tool["description"]


def _vector(tool: dict) -> Counter:
    stop = set("a an and the of to in it is its for with as on by your you that this each every at from "
               "or be can are one two when into".split())
    words = re.findall(r"[a-z]+", " ".join([tool["name"], tool["tagline"], tool["description"],
                                            tool["category"] or ""]).lower())
    return Counter(w for w in words if w not in stop and len(w) > 2)


def test_a_similarity_based_pair_suggester_would_pair_the_reviewers_then_the_note_takers(demo) -> None:
    run, _ = demo
    vectors = {tool["slug"]: _vector(tool) for tool in run.tools}

    def cosine(a: Counter, b: Counter) -> float:
        dot = sum(a[w] * b[w] for w in a)
        return dot / (math.sqrt(sum(v * v for v in a.values())) * math.sqrt(sum(v * v for v in b.values())))

    ranked = sorted(combinations(sorted(vectors), 2), key=lambda p: -cosine(vectors[p[0]], vectors[p[1]]))
    assert ranked[:2] == [("lintern", "patchwise"), ("minutely", "recapper")]


def test_demo_is_a_sequence_of_stages_that_later_issues_extend() -> None:
    assert [stage.name for stage in STAGES] == ["serve_feeds", "init", "poll", "list_tools", "first_issue", "render",
                                                "send", "web", "votes", "bounces", "second_issue", "render_second",
                                                "summary"]


def test_demo_renders_issue_one_and_says_where_the_files_are(demo) -> None:
    run, lines = demo
    folder = run.home / "outbox" / "1"
    assert "digest issue render 1: 1 comparison, email " in "\n".join(lines)
    for name in ("email.mjml", "email.html", "email.txt", "web.html", "sample.eml"):
        assert (folder / name).is_file() and any(line.endswith(str(folder / name)) for line in lines)
    assert not any(line.strip().startswith("warning:") for line in lines)


def test_demo_cuts_long_taglines_at_a_word_and_counts_in_english(demo) -> None:
    run, lines = demo
    taglines = {tool["name"]: tool["tagline"] for tool in run.tools}
    listed = lines[lines.index(f"digest tools list: {len(run.tools)} tools found") + 1:][:len(run.tools)]
    cut = 0
    for line in listed:
        name = line.split()[0]
        shown = line[line.rindex(taglines[name][:8]):] if taglines[name] else ""
        if shown != taglines[name]:  # cut: a whole-word prefix of the tagline, then "…"
            cut += 1
            assert shown.endswith("…"), line
            kept = shown.removesuffix("…")
            assert taglines[name].startswith(kept) and taglines[name][len(kept)] == " ", line
    assert cut >= 1
    said = "\n".join(lines)
    assert "digest suggest: 2 pairs among 14 unpaired tools" in said
    assert "(s)" not in said and " 1 pairs" not in said


def test_demo_sends_issue_one_to_the_sample_readers(demo) -> None:
    import email
    import email.policy

    from digest.demo.send import SAMPLE_READERS

    run, lines = demo
    assert sorted(m.recipients[0] for m in run.inbox) == sorted(SAMPLE_READERS)
    assert any(line.startswith("digest send: 4 sent, 0 failed") and "issue 1 is sent" in line for line in lines)
    assert sum("arrived for" in line and "signed vote links" in line for line in lines) == 4
    for received in run.inbox:
        message = email.message_from_bytes(received.data, policy=email.policy.strict)
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert "Patchwise" in message.get_body(("plain",)).get_content()
    assert (run.home / "outbox" / "1" / "manifest.json").is_file()


def test_demo_votes_through_the_running_web_app_and_sets_a_scanners_vote_aside(demo) -> None:
    from sqlalchemy import create_engine, text

    run, lines = demo
    clicks = [line for line in lines if 'POST 200 "Thanks for voting"' in line]
    assert [line.split()[0] for line in clicks] == ["ada@example.com", "grace@example.org", "linus@example.net"]
    assert all('GET /vote/' in line and '200 "Vote · Patchwise vs Lintern"' in line for line in clicks)
    assert any("mail scanner at 127.0.0.2" in line and "canary first" in line for line in lines)
    assert run.votes == {"comparison": 1, "a": 2, "b": 1, "set_aside": 1, "tools": ("Patchwise", "Lintern")}
    engine = create_engine(f"sqlite:///{run.home / 'digest.db'}")
    with engine.connect() as connection:
        votes = connection.execute(text(
            "SELECT s.email, v.choice FROM vote v JOIN subscriber s ON s.id = v.subscriber_id ORDER BY s.email")).all()
        set_aside = connection.execute(text("SELECT kind, client FROM discardedaction")).all()
    engine.dispose()
    assert votes == [("ada@example.com", "a"), ("grace@example.org", "b"), ("linus@example.net", "a")]
    assert set_aside == [("vote", "127.0.0.2")]
    # the links in the emails point at the web app the demo served, and a kept folder serves there again
    port = run.settings.base_url.rsplit(":", 1)[1]
    assert all(f"127.0.0.1:{port}/vote/".encode() in m.data for m in run.inbox)
    assert (run.settings.web.host, str(run.settings.web.port)) == ("127.0.0.1", port)


def test_demo_renders_issue_two_with_last_weeks_community_verdict(demo) -> None:
    from render_helpers import visible_text

    run, lines = demo
    assert run.issues == [1, 2]
    verdict = "Patchwise won 67% of 3 reader votes, Lintern 33%. The panel agreed: it shipped Patchwise 75% to 50%."
    folder = run.home / "outbox" / "2"
    text = " ".join((folder / "email.txt").read_text(encoding="utf-8").split())
    for part in (text, visible_text((folder / "email.html").read_text(encoding="utf-8")),
                 visible_text((folder / "web.html").read_text(encoding="utf-8"))):
        assert "Last week the community said" in part and "Readers picked Patchwise" in part and verdict in part
        assert part.index(verdict) < part.index("Minutely vs Recapper")
    assert f"    Readers picked Patchwise. {verdict}" in lines


def test_demo_bounces_one_reader_and_records_another_s_complaint(demo, make_cli) -> None:
    import json

    run, lines = demo
    assert any(line == "digest bounces: 2 messages read: 1 hard bounce, 1 complaint; 2 readers suppressed"
               for line in lines)
    rows = {r["email"]: r for r in json.loads(make_cli(run.home)("subscribers", "list", "--json").stdout)}
    assert (rows["linus@example.net"]["status"], rows["linus@example.net"]["issue"]) == ("bounced", 1)
    assert "5.1.1" in rows["linus@example.net"]["reason"]
    assert (rows["margaret@example.com"]["status"], rows["margaret@example.com"]["issue"]) == ("complained", 1)
    assert rows["ada@example.com"]["status"] == rows["grace@example.org"]["status"] == "active"
    assert [p.name.endswith(":2,S") for p in (run.home / "bounces" / "cur").iterdir()] == [True, True]


def test_demo_ends_with_a_summary_and_how_to_open_the_email(demo) -> None:
    run, lines = demo
    summary = lines[lines.index("summary") + 1:]
    labels = [line.split()[0] for line in summary[:7]]
    assert labels == ["feeds", "editorial", "issue", "votes", "bounces", "report", "issue"]
    assert summary[4].split(None, 1)[1] == ("linus@example.net bounced (hard 5.1.1, issue 1); "
                                            "margaret@example.com complained (complaint, issue 1)")
    assert "3 counted through the web app (Patchwise 2, Lintern 1), 1 set aside" in summary[3]
    assert summary[5].split(None, 1)[1].startswith(
        "issue 1: 4 delivered, 1 hard bounced, 1 complained, 3 votes (1 set aside); ")
    assert (run.home / "outbox" / "1" / "report.html").is_file()
    opened = next(line for line in summary if line.startswith("open issue 2's email in a browser: "))
    assert opened.endswith((run.home / "outbox" / "2" / "email.html").as_uri())
    assert (run.home / "outbox" / "2" / "email.html").is_file()


def test_demo_runs_again_in_the_folder_it_kept(tmp_path: Path) -> None:
    folder = tmp_path / "kept"
    run_demo(keep=folder, say=lambda _line: None)
    (folder / "mine.txt").write_text("not the demo's", encoding="utf-8")
    lines: list[str] = []
    run = run_demo(keep=folder, say=lines.append)
    assert run.issues == [1, 2] and run.votes["a"] == 2
    assert (folder / "mine.txt").read_text(encoding="utf-8") == "not the demo's"


def test_demo_serve_keeps_the_web_app_up_until_ctrl_c(tmp_path: Path) -> None:
    """`digest demo --serve`: the printed vote link works in a browser; Ctrl-C ends with status 0."""
    import signal
    import subprocess
    import sys

    import httpx
    from webapp import csrf_of

    process = subprocess.Popen([sys.executable, "-m", "digest", "demo", "--serve", "--keep", str(tmp_path / "d")],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=sigint_default)
    try:
        lines = []
        while not any("'s vote link" in line for line in lines):
            line = process.stdout.readline()
            assert line, "the demo ended before serving: " + process.stderr.read()
            lines.append(line)
        vote = re.search(r"(http://127\.0\.0\.1:\d+/vote/\S+)", lines[-1]).group(1)
        with httpx.Client(timeout=10) as browser:
            page = browser.get(vote)
            assert browser.post(vote, data={"csrf": csrf_of(page.text)}).status_code == 200
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert "stopped the web app" in out and err == ""


def test_demo_ignores_the_callers_digest_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIGEST_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/never")
    lines: list[str] = []
    run = run_demo(keep=tmp_path / "d", say=lines.append)
    assert len(run.tools) == 14
    assert (tmp_path / "d" / "digest.db").exists()


def test_demo_refuses_a_real_newsletter_folder(tmp_path: Path) -> None:
    (tmp_path / "feeds.toml").write_text('[[feeds]]\nname = "mine"\nurl = "https://x.example/"\n', encoding="utf-8")
    with pytest.raises(UsageError, match="not a demo"):
        run_demo(keep=tmp_path, say=lambda _line: None)
    assert "mine" in (tmp_path / "feeds.toml").read_text(encoding="utf-8")


def test_demo_command_cleans_up_its_temporary_folder(make_cli, tmp_path: Path) -> None:
    result = make_cli(tmp_path)("demo")
    assert result.exit_code == 0
    assert "14 new tools" in result.stdout and "temporary and is gone" in result.stdout
    folder = re.search(r"newsletter folder (\S+),", result.stdout).group(1)
    assert not Path(folder).exists()


def test_the_demo_folder_passes_digest_check_as_a_sandbox(demo) -> None:
    from conftest import Cli

    run, _ = demo
    assert (run.home / ".digest-secret").read_text(encoding="utf-8").startswith("demo-")
    result = Cli(run.home)("check", "--offline")
    assert result.exit_code == 0, result.output
    assert re.fullmatch(r"ok      sandbox: sandbox = true: \d+ active reader\(s\), all sample addresses; "
                        r"placeholders below are warnings, not problems", result.stdout.splitlines()[0])
    assert "warning secret_key: the key is the demo's" in result.stdout
    assert result.stdout.splitlines()[-1].endswith("ready as a sandbox (sample readers only) "
                                                   "(offline: SMTP and DNS not checked)")
    queued = Cli(run.home)("issue", "queue", "2", "--no-render")  # the check lets a sandbox through
    assert queued.exit_code == 0, queued.output
    assert re.search(r": [1-9]\d* new deliver(y|ies) queued", queued.stdout), queued.stdout
