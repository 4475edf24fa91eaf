"""Every relative link in README.md and docs/*.md, and every `Documentation=` of the deploy
units, leads somewhere: the file exists and, when the link names an #anchor, a heading there
makes that anchor (GitHub's rule: lower case, punctuation dropped, spaces to hyphens)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REPOSITORY = "https://github.com/digest-newsletter/digest"
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
UNITS = sorted((ROOT / "deploy").glob("*.service"))

_LINK = re.compile(r"(?<!!)\[(?:[^\]\[]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_FENCE = re.compile(r"^(```|~~~)")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def prose(text: str) -> str:
    """The Markdown without fenced code blocks and inline code (links there are not links)."""
    lines, fenced = [], False
    for line in text.splitlines():
        if _FENCE.match(line.strip()):
            fenced = not fenced
            continue
        if not fenced:
            lines.append(re.sub(r"`[^`]*`", "", line))
    return "\n".join(lines)


def slug(heading: str) -> str:
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link in a heading keeps its text
    text = text.lower().strip()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    found: set[str] = set()
    fenced = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if _FENCE.match(line.strip()):
            fenced = not fenced
            continue
        match = None if fenced else _HEADING.match(line)
        if match:
            base = slug(match.group(2))
            name, n = base, 0
            while name in found:
                n += 1
                name = f"{base}-{n}"
            found.add(name)
    found |= set(re.findall(r"<a\s+(?:name|id)=\"([^\"]+)\"", path.read_text(encoding="utf-8")))
    return found


def problem(source: Path, target: str) -> str | None:
    """Why `target`, linked from `source`, leads nowhere; None when it resolves."""
    path_part, _, anchor = target.partition("#")
    destination = (source.parent / path_part).resolve() if path_part else source
    if not destination.exists():
        return f"{destination.relative_to(ROOT) if destination.is_relative_to(ROOT) else destination} does not exist"
    if anchor and destination.suffix == ".md" and anchor not in anchors(destination):
        return f"no heading makes #{anchor} in {destination.relative_to(ROOT)}"
    return None


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(document: Path) -> None:
    broken = []
    for target in _LINK.findall(prose(document.read_text(encoding="utf-8"))):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:, file: ...
            if target.startswith(REPOSITORY):
                broken.append(f"{target}: link to the file in the repository instead")
            continue
        why = problem(document, target)
        if why:
            broken.append(f"{target}: {why}")
    assert broken == [], f"{document.relative_to(ROOT)}"


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_units_documentation_points_at_existing_anchors(unit: Path) -> None:
    urls = [line.split("=", 1)[1].strip() for line in unit.read_text(encoding="utf-8").splitlines()
            if line.startswith("Documentation=")]
    assert urls, f"{unit.name} has no Documentation="
    broken = []
    for url in (u for line in urls for u in line.split()):
        if url.startswith("man:"):
            continue
        assert url.startswith(REPOSITORY), url
        rest = url[len(REPOSITORY):]
        path, _, anchor = rest.partition("#")
        local = ROOT / (path.removeprefix("/blob/main/") if path else "README.md")
        why = problem(ROOT / "README.md", str(local.relative_to(ROOT)) + (f"#{anchor}" if anchor else ""))
        if why:
            broken.append(f"{url}: {why}")
    assert broken == []


def test_the_checker_finds_what_is_broken(tmp_path: Path) -> None:
    page = ROOT / "docs" / "operating.md"
    assert problem(page, "operating.md#the-scheduler") is None
    assert problem(page, "operating.md#no-such-heading") == "no heading makes #no-such-heading in docs/operating.md"
    assert problem(page, "missing.md") == "docs/missing.md does not exist"
    assert slug("Before the first real send: `digest check`") == "before-the-first-real-send-digest-check"
    assert _LINK.findall("see [the guide](docs/editors-week.md#friday-schedule-it) and ![img](x.png)") == [
        "docs/editors-week.md#friday-schedule-it"]
