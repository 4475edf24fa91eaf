"""Data flows one way through the stages: a lower stage never imports a higher one.

feeds -> editorial -> render -> outbox -> sender -> web, with shared foundations below them
and the scheduler, the demo and the CLI on top. A new module must be placed in a stage here.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "digest"

STAGES = [
    ("foundation", {"errors", "ids", "config", "config_values", "db", "models", "folder", "leases", "data", "tokens", "links",
                    "message", "panel", "inline", "votes", "ratelimit", "subscribers", "audience", "transport",
                    "smtpsink", "preview", "migrations", "csvinput", "subscriber_import", "wording", "limits", "issue_state", "atomic", "parts", "prices"}),
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


# --- SQL lives in digest/data/ ----------------------------------------------------------------
# SQL text, sqlalchemy's text(), exec_driver_sql and Model.__table__ belong to the data layer
# (digest/data/) and the schema glue (digest/db.py, digest/migrations/); everything else asks a
# digest.data function (or, where not hot, runs an ORM query through a Session).

SQL_HOMES = ("data/", "db.py", "migrations/")
_SQL = re.compile(
    r"^\s*\(?\s*(?:SELECT\b.*\bFROM\b|INSERT\s+INTO\b|UPDATE\s+\w+\s+SET\b|DELETE\s+FROM\b|PRAGMA\s+\w"
    r"|BEGIN(?:\s+(?:IMMEDIATE|EXCLUSIVE|DEFERRED))?\s*$|COMMIT\s*$|ROLLBACK\b|SAVEPOINT\s|RELEASE\s+SAVEPOINT"
    r"|(?:CREATE|DROP|ALTER)\s+(?:TABLE|INDEX|UNIQUE|SCHEMA|DATABASE|VIEW|TRIGGER)\b|WITH\s+\w+\s+AS\s*\("
    r"|LOCK\s+TABLE|SET\s+(?:LOCAL\s+|SESSION\s+)?[a-z_]+\s*(?:=|TO\b)|VACUUM\b|ANALYZE\b)", re.S)
# (path relative to digest/, kind): why it is still outside digest/data/
SQL_ALLOWED: dict[tuple[str, str], str] = {
}


def sql_uses(path: Path) -> set[str]:
    """What in `path` is SQL: 'sql-string', 'text()', 'exec_driver_sql' or '__table__'."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(node.value) for node in ast.walk(tree)
                  if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)}
    text_names = {alias.asname or alias.name for node in ast.walk(tree)
                  if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy")
                  for alias in node.names if alias.name == "text"}
    found: set[str] = set()
    for node in ast.walk(tree):
        literal = None
        if isinstance(node, ast.JoinedStr):
            literal = "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            literal = node.value
        if literal is not None and _SQL.match(literal):
            found.add("sql-string")
        elif isinstance(node, ast.Attribute) and node.attr in ("__table__", "exec_driver_sql"):
            found.add(node.attr)
        elif isinstance(node, ast.Call) and (
                (isinstance(node.func, ast.Name) and node.func.id in text_names)
                or (isinstance(node.func, ast.Attribute) and node.func.attr == "text"
                    and isinstance(node.func.value, ast.Name) and node.func.value.id in ("sqlalchemy", "sa"))):
            found.add("text()")
    return found


def test_sql_lives_in_the_data_layer() -> None:
    outside = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if not relative.startswith(SQL_HOMES):
            outside |= {(relative, kind) for kind in sql_uses(path)}
    assert sorted(outside - SQL_ALLOWED.keys()) == [], "move the SQL into a digest/data/ module"
    assert sorted(SQL_ALLOWED.keys() - outside) == [], "that SQL moved: drop its SQL_ALLOWED entry"


def test_the_sql_scan_sees_sql_and_not_prose(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text('"""Select the tools from the feed, update them, set the flag."""\n'
                      'from sqlalchemy import text as t\n'
                      'A = "Update the row and set it"\n'
                      'B = f"SELECT {1} FROM tool"\n')
    assert sql_uses(sample) == {"sql-string"}
    sample.write_text('import x\nx.run(t("PRAGMA foreign_keys=ON"))\nx.conn.exec_driver_sql\nx.Tool.__table__\n'
                      'from sqlalchemy import text as t\nt("x")\nY = "UPDATE feed SET a = 1"\n')
    assert sql_uses(sample) == {"sql-string", "text()", "exec_driver_sql", "__table__"}
