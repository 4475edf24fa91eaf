"""The systemd units in deploy/: they fail loudly without their env file, run `digest check`
before starting, and their Documentation= links lead to sections that exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
UNITS = sorted((ROOT / "deploy").glob("*.service"))
REPOSITORY = "https://github.com/digest-newsletter/digest"


def directives(unit: Path) -> dict[str, list[str]]:
    """Key -> every value it is given (systemd keys may repeat), comments and sections left out."""
    found: dict[str, list[str]] = {}
    for line in unit.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";", "[")):
            continue
        key, _, value = line.partition("=")
        found.setdefault(key.strip(), []).append(value.strip())
    return found


def anchors(markdown: Path) -> set[str]:
    """GitHub's anchors for the headings of a Markdown file."""
    slugs = set()
    in_code = False
    for line in markdown.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code and (match := re.match(r"#{1,6}\s+(.*)", line)):
            slugs.add(re.sub(r"[^\w\- ]", "", match.group(1).strip().lower()).replace(" ", "-"))
    return slugs


def local_file(url: str) -> tuple[Path, str]:
    """The file of this checkout a repository URL names, and its anchor."""
    assert url.startswith(REPOSITORY), url
    path, _, anchor = url[len(REPOSITORY):].partition("#")
    path = path.removeprefix("/blob/main/") or "README.md"
    return ROOT / path, anchor


def test_there_are_units() -> None:
    assert [unit.name for unit in UNITS] == ["digest-scheduler.service", "digest-web.service"]


@pytest.mark.parametrize("unit", UNITS, ids=lambda u: u.name)
def test_documentation_links_lead_to_existing_sections(unit: Path) -> None:
    links = directives(unit)["Documentation"]
    assert links
    for url in links:
        path, anchor = local_file(url)
        assert path.is_file(), url
        assert anchor in anchors(path), f"{unit.name}: {url}: no heading #{anchor} in {path.name}"


@pytest.mark.parametrize("unit", UNITS, ids=lambda u: u.name)
def test_a_missing_env_file_fails_the_start(unit: Path) -> None:
    assert directives(unit)["EnvironmentFile"] == ["/etc/digest/digest.env"]


def test_the_scheduler_checks_before_it_starts_and_is_not_restarted_on_a_problem() -> None:
    found = directives(ROOT / "deploy" / "digest-scheduler.service")
    assert found["ExecStartPre"] == ["-/opt/digest/.venv/bin/digest check"]
    assert found["ExecStart"] == ["/opt/digest/.venv/bin/digest scheduler"]  # refuses (exit 2) on a problem
    assert found["RestartPreventExitStatus"] == ["2"]


def test_the_web_app_reports_but_never_waits_on_the_check() -> None:
    found = directives(ROOT / "deploy" / "digest-web.service")
    assert found["ExecStartPre"] == ["-/opt/digest/.venv/bin/digest check --offline"]


def test_the_anchor_reader_knows_a_missing_anchor() -> None:
    assert "running-the-scheduler" not in anchors(ROOT / "README.md")  # the units' old, dead link
    assert "running-it-for-real" in anchors(ROOT / "README.md")
