"""The package as users get it: every library it imports is declared, and a plain (not
editable) install finds its templates, migrations, samples and defaults."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

pytestmark = pytest.mark.backend_independent  # its folders are SQLite ones of its own: the SQLite pass runs it

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "digest"
DATA_FOLDERS = ("templates", "migrations", "demo/samples", "defaults")


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _imported_top_level_modules() -> set[str]:
    found: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found - set(sys.stdlib_module_names) - {"digest"}


def test_every_library_the_package_imports_is_a_declared_dependency() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = {_normalise(re.split(r"[\s\[<>=!~;]", spec, maxsplit=1)[0]) for spec in project["dependencies"]}
    providers = packages_distributions()
    undeclared = {}
    for module in sorted(_imported_top_level_modules()):
        distributions = {_normalise(d) for d in providers.get(module, [module])}
        if not distributions & declared:
            undeclared[module] = sorted(distributions)
    assert undeclared == {}, "imported but not in [project] dependencies"


def _package_files(root: Path) -> set[str]:
    return {str(path.relative_to(root)) for folder in DATA_FOLDERS for path in (root / folder).rglob("*")
            if path.is_file() and "__pycache__" not in path.parts}


@pytest.mark.install
@pytest.mark.timeout(180)
def test_a_plain_install_runs_init_and_render_from_its_own_files(tmp_path: Path) -> None:
    """`pip install .` (no -e) into a fresh venv: the installed copy, not this checkout, must
    find its templates and migrations. Offline and quick: no build isolation, no dependency
    resolution; the fresh venv sees this venv's libraries through a .pth line."""
    source = tmp_path / "source"  # a copy, so the build leaves nothing in the checkout
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(REPO / name, source / name)
    shutil.copytree(PACKAGE, source / "digest", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60)
    python = venv / "bin" / "python"
    site_packages = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                        capture_output=True, text=True, check=True, timeout=30).stdout.strip())
    (site_packages / "_digest_test_libraries.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "PYTHONHOME")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    install = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                              "--no-index", str(source)], capture_output=True, text=True, cwd=tmp_path, env=env,
                             timeout=150)
    assert install.returncode == 0, install.stdout + install.stderr

    where = subprocess.run([str(python), "-c", "import digest; print(digest.__file__)"], capture_output=True,
                           text=True, cwd=tmp_path, env=env, timeout=30)
    installed = Path(where.stdout.strip()).parent
    assert installed == site_packages / "digest", where.stdout + where.stderr
    assert _package_files(installed) == _package_files(PACKAGE)
    metadata = next(site_packages.glob("digest-*.dist-info")) / "METADATA"
    headers = metadata.read_text(encoding="utf-8").split("\n\n", 1)[0].splitlines()
    assert "License-Expression: MIT" in headers, "the licence is declared as an SPDX expression (PEP 639)"

    digest = [str(venv / "bin" / "digest"), "--home", str(tmp_path / "newsletter")]

    def run(*args: str) -> subprocess.CompletedProcess:
        result = subprocess.run([*digest, *args], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60)
        assert result.returncode == 0, result.stdout + result.stderr
        return result

    assert "database created at schema" in run("init").stdout
    assert run("issue", "new", "--subject", "Installed and rendering").stdout == "1\n"
    rendered = run("issue", "render", "1")
    assert "issue 1 rendered to" in rendered.stdout
    folder = tmp_path / "newsletter" / "outbox" / "1"
    assert "Installed and rendering" in (folder / "email.html").read_text(encoding="utf-8")
    assert "Installed and rendering" in (folder / "web.html").read_text(encoding="utf-8")
    assert "weekly-send" in run("schedule", "list").stdout


def _dry_run(target: str, tmp_path: Path) -> str:
    """What `make TARGET` would run on a fresh clone (no venv yet), without running it."""
    result = subprocess.run(["make", "-n", target, f"VENV={tmp_path / 'venv'}"], cwd=REPO, capture_output=True,
                            text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_make_demo_installs_only_what_the_program_needs(tmp_path: Path) -> None:
    """A first `make demo` does not wait for playwright, schemathesis and the other test tools."""
    installs = [line for line in _dry_run("demo", tmp_path).splitlines() if "pip install" in line]
    assert any(line.rstrip().endswith("-e .") for line in installs), installs
    assert not any("[test]" in line for line in installs), installs


def test_make_test_adds_the_test_extras(tmp_path: Path) -> None:
    installs = [line for line in _dry_run("test", tmp_path).splitlines() if "pip install" in line]
    assert any("-e '.[test]'" in line for line in installs), installs
