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
    assert [stage.__name__ for stage in STAGES] == ["stage_serve_feeds", "stage_init", "stage_poll", "stage_list_tools",
                                                    "stage_first_issue", "stage_render", "stage_send"]


def test_demo_renders_issue_one_and_says_where_the_files_are(demo) -> None:
    run, lines = demo
    folder = run.home / "outbox" / "1"
    assert "digest issue render 1: 1 comparison(s), email " in "\n".join(lines)
    for name in ("email.mjml", "email.html", "email.txt", "web.html", "sample.eml"):
        assert (folder / name).is_file() and any(line.endswith(str(folder / name)) for line in lines)
    assert not any(line.strip().startswith("warning:") for line in lines)


def test_demo_sends_issue_one_to_the_sample_readers(demo) -> None:
    import email
    import email.policy

    from digest.demo_send import SAMPLE_READERS

    run, lines = demo
    assert sorted(m.recipients[0] for m in run.inbox) == sorted(SAMPLE_READERS)
    assert any(line.startswith("digest send: 4 sent, 0 failed") and "issue 1 is sent" in line for line in lines)
    assert sum("arrived for" in line and "signed vote links" in line for line in lines) == 4
    for received in run.inbox:
        message = email.message_from_bytes(received.data, policy=email.policy.strict)
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert "Patchwise" in message.get_body(("plain",)).get_content()
    assert (run.home / "outbox" / "1" / "manifest.json").is_file()


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
