"""What some tests need from outside the repository: third-party test data and real tools.

Conformance tests read upstream test data kept next to the repository (``../shared/conformance``,
never copied in: see its SOURCES.md); differential tests run the real Prometheus, promtool,
Alertmanager, amtool, Redis, PostgreSQL or openssl. Where one is missing, a test asks for it
through this module:

* locally the test is skipped, with a message saying where the data or the tool comes from;
* in CI (the ``CI`` environment variable set, as GitHub Actions, GitLab CI and most others set
  it) the test fails, so a CI run can never pass without running them.

Python packages of the dev extra keep ``pytest.importorskip``: installing the dev extra, as CI
does, always brings them.
"""

from __future__ import annotations

import glob
import os
import shutil
from pathlib import Path
from typing import NoReturn

import pytest

REPO = Path(__file__).resolve().parents[2]
CONFORMANCE = REPO.parent / "shared" / "conformance"

DEBIAN_PROMETHEUS = "install Debian's prometheus package (scripts/test does it when run as root)"
DEBIAN_ALERTMANAGER = (
    "install Debian's prometheus-alertmanager package (scripts/test does it when run as root)"
)

DEBIAN_SYSLOG_NG = (
    "install Debian's syslog-ng-core, syslog-ng-mod-http and syslog-ng-scl packages "
    "(scripts/test does it when run as root)"
)


def in_ci() -> bool:
    """Whether this run is CI's: ``CI`` is set to anything but empty, ``0`` or ``false``."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false")


def missing(message: str) -> NoReturn:
    """Skip the test saying ``message``; in CI, fail it instead."""
    if in_ci():
        pytest.fail(f"{message} (CI is set: a missing prerequisite fails the test)", pytrace=False)
    pytest.skip(message)


def need_path(path: Path, what: str) -> Path:
    """``path`` (third-party test data), or skip/fail saying where such data comes from."""
    if not path.exists():
        missing(
            f"{what} not found at {path}: it is third-party test data kept outside the "
            "repository, see ../shared/conformance/SOURCES.md"
        )
    return path


def need_conformance(relative: str, what: str) -> Path:
    """A file or folder of the conformance data, e.g. ``need_conformance("otlp", ...)``."""
    return need_path(CONFORMANCE / relative, what)


def need_tool(name: str, how_to_install: str, *, also: tuple[str, ...] = ()) -> str:
    """The path of the executable ``name`` (on PATH, else the last match of the ``also`` glob
    patterns, e.g. a versioned directory), or skip/fail saying how to install it."""
    found = shutil.which(name)
    if found:
        return found
    for pattern in also:
        matches = sorted(p for p in glob.glob(pattern) if os.access(p, os.X_OK))
        if matches:
            return matches[-1]
    missing(f"{name} is not installed: {how_to_install}")


def need_prometheus() -> str:
    """Debian's prometheus binary (the differential tests' reference)."""
    return need_tool("prometheus", DEBIAN_PROMETHEUS, also=("/usr/bin/prometheus",))


def need_promtool() -> str:
    """promtool, which comes with Debian's prometheus package."""
    return need_tool("promtool", DEBIAN_PROMETHEUS, also=("/usr/bin/promtool",))


def need_amtool() -> str:
    """amtool, which comes with Debian's prometheus-alertmanager package."""
    return need_tool("amtool", DEBIAN_ALERTMANAGER, also=("/usr/bin/amtool",))


def need_syslog_ng() -> str:
    """Debian's syslog-ng with its HTTP module and SCL (``elasticsearch-http()`` is an SCL block
    over the HTTP module's ``http()`` destination)."""
    binary = need_tool("syslog-ng", DEBIAN_SYSLOG_NG, also=("/usr/sbin/syslog-ng",))
    if not glob.glob("/usr/lib/syslog-ng/*/libhttp.so") or not glob.glob(
        "/usr/share/syslog-ng/include/scl/elasticsearch/*.conf"
    ):
        missing(
            "syslog-ng's HTTP module or its elasticsearch-http() block is missing: "
            + DEBIAN_SYSLOG_NG
        )
    return binary


def need_alertmanager() -> str:
    """Debian's Alertmanager binary (named prometheus-alertmanager there)."""
    return need_tool(
        "prometheus-alertmanager", DEBIAN_ALERTMANAGER, also=("/usr/bin/prometheus-alertmanager",)
    )


__all__ = [
    "CONFORMANCE",
    "DEBIAN_ALERTMANAGER",
    "DEBIAN_PROMETHEUS",
    "DEBIAN_SYSLOG_NG",
    "in_ci",
    "missing",
    "need_alertmanager",
    "need_amtool",
    "need_conformance",
    "need_path",
    "need_prometheus",
    "need_promtool",
    "need_syslog_ng",
    "need_tool",
]
