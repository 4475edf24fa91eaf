"""Data flows one way through the stages: a lower stage never imports a higher one.

feeds -> editorial -> render -> outbox -> sender -> web, with shared foundations below them
and the scheduler, the demo and the CLI on top. A new module must be placed in a stage here.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "digest"

STAGES = [
    ("foundation", {"errors", "ids", "config", "db", "models", "folder", "leases", "data", "tokens", "links",
                    "message", "panel", "inline", "votes", "ratelimit", "subscribers", "transport",
                    "smtpsink", "preview", "migrations", "csvinput", "subscriber_import", "wording", "limits", "issue_state", "atomic", "parts"}),
    ("feeds", {"fetch", "saxdriver", "normalise", "launches", "feeds", "enrich", "dedupe", "parsepool", "poll", "catalogue"}),
    ("editorial", {"editorial"}),
    ("render", {"view", "checks", "render"}),
    ("outbox", {"record", "outbox"}),
    ("sender", {"composer", "claims", "deliveries", "breaker", "sender", "proof", "bounces", "preflight", "report",
                "report_page"}),
    ("web", {"web"}),
    ("scheduler", {"scheduler"}),
    ("demo", {"demo"}),  # the demo package, with the sample content it bundles
    ("cli", {"cli", "__main__", "clidoc"}),
]
RANK = {module: rank for rank, (_, modules) in enumerate(STAGES) for module in modules}


def top_module(path: Path) -> str:
    relative = path.relative_to(PACKAGE)
    return relative.parts[0].removesuffix(".py")


def imported(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "digest" and len(parts) > 1:
                found.add(parts[1])
    return found


def test_every_module_has_a_stage() -> None:
    modules = {top_module(p) for p in PACKAGE.rglob("*.py")} - {"__init__"}
    assert modules - RANK.keys() == set(), "place new modules in a stage in tests/test_layers.py"


def test_no_module_imports_a_higher_stage() -> None:
    upward = []
    for path in PACKAGE.rglob("*.py"):
        module = top_module(path)
        if module == "__init__":
            continue
        for target in imported(path):
            if RANK.get(target, -1) > RANK[module]:
                upward.append(f"{path.relative_to(PACKAGE.parent)} imports digest.{target}")
    assert upward == []


def _web_imports(path: Path) -> set[str]:
    """The digest.web modules `path` imports, wherever the import sits (a function-level import
    closes a circle as surely as one at the top): `from digest.web import x` counts as web.x."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            parts = node.module.split(".")
            if parts[:2] == ["digest", "web"]:
                found.update([".".join(parts[2:3])] if len(parts) > 2 else [a.name for a in node.names])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[:2] == ["digest", "web"] and len(parts) > 2:
                    found.add(parts[2])
    return found


def test_routes_never_import_the_app_factory() -> None:
    """The factory imports the routes; a route that imported it back (for the shared `Web`,
    say) would make a circle. What handlers share is in `digest.web.toolkit`."""
    web = PACKAGE / "web"
    factories = {path.stem for path in web.glob("*.py") if path.stem != "__init__"
                 and any(isinstance(node, ast.FunctionDef) and node.name == "create_app"
                         for node in ast.parse(path.read_text(encoding="utf-8")).body)}
    assert factories, "no module in digest/web defines create_app"
    backwards = [f"{path.name} imports digest.web.{target}" for path in sorted(web.glob("routes_*.py"))
                 for target in sorted(_web_imports(path) & (factories | {"create_app"}))]
    assert backwards == []


def test_no_two_web_modules_import_each_other() -> None:
    web = PACKAGE / "web"
    graph = {path.stem: _web_imports(path) - {path.stem} for path in web.glob("*.py") if path.stem != "__init__"}
    mutual = sorted(f"web.{a} <-> web.{b}" for a, targets in graph.items() for b in targets
                    if a < b and a in graph.get(b, set()))
    assert mutual == []
