"""The built scripts and styles: committed up to date with frontend/, small enough, and shipped
in the wheel so ``pip install`` users need no Node and no network."""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import zipfile
from pathlib import Path

from tests.support.required import need_tool
from tests.support.venvs import REPO

from spyglass.server.ui import Assets

FRONTEND = REPO / "frontend"
STATIC = REPO / "src" / "spyglass" / "server" / "ui" / "static"
TEMPLATES = REPO / "src" / "spyglass" / "server" / "ui" / "templates"
# What one page may cost a browser in gzipped JavaScript (docs/decisions.md has the sizes).
PAGE_JS_BUDGET = 300 * 1024


def _gzipped(names: list[str]) -> int:
    return sum(len(gzip.compress((STATIC / n).read_bytes(), 9)) for n in names)


def test_explore_stays_under_300_kb_of_gzipped_javascript() -> None:
    bundle = Assets().bundle("explore")
    assert bundle.js is not None
    size = _gzipped([bundle.js, *bundle.imports])
    assert 50 * 1024 < size < PAGE_JS_BUDGET, f"explore ships {size / 1024:.0f} KB gzipped"


def test_the_dashboard_pages_stay_small() -> None:
    # A dashboard page carries uPlot and the panels, not the PromQL editor: about 37 KB.
    for entry, budget in (("dashboard", 100 * 1024), ("dashboards", 20 * 1024)):
        bundle = Assets().bundle(entry)
        assert bundle.js is not None
        size = _gzipped([bundle.js, *bundle.imports])
        assert size < budget, f"{entry} ships {size / 1024:.0f} KB gzipped"


def test_the_manifest_lists_exactly_the_files_in_static() -> None:
    listed = Assets().files() | {"manifest.json"}
    assert {p.name for p in STATIC.iterdir()} == listed


def test_the_committed_bundle_is_what_the_sources_build(tmp_path: Path) -> None:
    """npm ci + the build in a copy of frontend/; a stale bundle says to run scripts/build-ui."""
    npm = need_tool("npm", "install Node.js 18+ with npm (Debian: nodejs and npm)")
    node = need_tool("node", "install Node.js 18+ (Debian: nodejs)")
    copy = tmp_path / "frontend"
    shutil.copytree(FRONTEND, copy, ignore=shutil.ignore_patterns("node_modules"))
    subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=copy, check=True, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    out = tmp_path / "static"
    built = subprocess.run(
        [node, "build.mjs", str(out)], cwd=copy, check=True, capture_output=True, text=True
    )
    assert "gzipped" in built.stdout  # the build reports each page's sizes
    fresh = {p.name: p.read_bytes() for p in out.iterdir()}
    committed = {p.name: p.read_bytes() for p in STATIC.iterdir()}
    stale = sorted(set(fresh) ^ set(committed)) or sorted(
        n for n in fresh if fresh[n] != committed[n]
    )
    assert not stale, f"src/spyglass/server/ui/static is stale ({stale}): run scripts/build-ui"


def test_the_lock_file_pins_every_package_exactly() -> None:
    package = json.loads((FRONTEND / "package.json").read_text())
    for name, version in package["devDependencies"].items():
        assert version[0].isdigit(), f"{name} {version}: pin an exact version"
    lock = json.loads((FRONTEND / "package-lock.json").read_text())
    assert lock["lockfileVersion"] >= 2
    for path, entry in lock["packages"].items():
        if path:
            assert entry.get("integrity", "").startswith("sha512-"), path


def test_the_wheel_ships_the_templates_and_the_built_files(wheels: dict[str, Path]) -> None:
    with zipfile.ZipFile(wheels["spyglass"]) as wheel:
        names = set(wheel.namelist())
    ui = "spyglass/server/ui"
    assert {f"{ui}/static/{p.name}" for p in STATIC.iterdir()} <= names
    assert {f"{ui}/templates/{p.name}" for p in TEMPLATES.iterdir()} <= names
    assert not [n for n in names if "frontend/" in n or "node_modules" in n]
