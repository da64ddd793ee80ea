"""Throwaway virtual environments for the packaging tests.

Each is made without pip (a second or less) and filled by this interpreter's pip through
``pip --python``, so it holds only what a test installs: dependencies come from PyPI or pip's
cache. Programs run in it from a directory outside the checkout, with no PYTHONPATH, so what
they import is what is installed there.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
# What a source tree holds that is no part of a distribution's build input.
_NOT_SOURCES = shutil.ignore_patterns("__pycache__", "build", "*.egg-info", ".*")


def clean_env() -> dict[str, str]:
    """This process' environment without what would make Python import from elsewhere."""
    dropped = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV", "PYTHONSAFEPATH")
    return {k: v for k, v in os.environ.items() if k not in dropped}


def pinned(*distributions: str) -> list[str]:
    """``name==version`` of each distribution as installed here: throwaway environments get the
    test tools the suite runs with."""
    return [f"{name}=={version(name)}" for name in distributions]


def build_wheels(dest: Path, *projects: str) -> dict[str, Path]:
    """Wheels of the repository's ``projects`` ("." the server, "sdk" the SDK) in ``dest``,
    by distribution name. Each is built from a copy of its sources, so the checkout gets no
    ``build/`` or ``egg-info`` from it, with the setuptools installed here (the dev extra's),
    which saves pip making a build environment for each."""
    sources = dest / "sources"
    specs = []
    for project in projects:
        root = REPO / project
        copy = sources / (project.strip("./") or "server")
        copy.mkdir(parents=True)
        for name in ("pyproject.toml", "README.md"):
            shutil.copy2(root / name, copy / name)
        shutil.copytree(root / "src", copy / "src", ignore=_NOT_SOURCES)
        specs.append(str(copy))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check",
         "--no-deps", "--no-build-isolation", "--wheel-dir", str(dest), *specs],
        check=True, capture_output=True, text=True, cwd=dest, env=clean_env(),
    )  # fmt: skip
    return {wheel.name.split("-")[0].replace("_", "-"): wheel for wheel in dest.glob("*.whl")}


class Venv:
    """A new, empty virtual environment at ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        subprocess.run(
            [sys.executable, "-m", "venv", "--without-pip", str(path)],
            check=True,
            capture_output=True,
        )
        self.python = path / "bin" / "python"

    def install(self, *requirements: str) -> None:
        """``pip install`` into this environment; raises with pip's output when it fails."""
        done = subprocess.run(
            [sys.executable, "-m", "pip", "--python", str(self.python), "install", "--quiet",
             "--disable-pip-version-check", *requirements],
            check=False, capture_output=True, text=True, cwd=self.path, env=clean_env(),
        )  # fmt: skip
        if done.returncode != 0:
            raise AssertionError(f"pip install {' '.join(requirements)}:\n{done.stderr}")

    def run(self, *args: str, cwd: Path | None = None, timeout: float = 300) -> str:
        """Run this environment's Python with ``args``; its standard output, or an
        AssertionError with both outputs when it fails."""
        done = subprocess.run(
            [str(self.python), *args],
            check=False,
            capture_output=True,
            text=True,
            cwd=cwd or self.path,
            env=clean_env(),
            timeout=timeout,
        )
        if done.returncode != 0:
            raise AssertionError(f"exit {done.returncode}\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def run_json(self, script: str, *args: str) -> Any:
        """The JSON object a script run with ``args`` prints as its last line."""
        return json.loads(self.run("-c", script, *args).strip().splitlines()[-1])
