"""The Targets page: every scrape target by job, with its health, last scrape, how long it took,
its last error and its labels, and on demand (a ``<details>`` element) its labels before
relabelling; the same data ``/api/v1/targets`` answers, rendered on the server (no script)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from starlette.requests import Request

from spyglass.server.ui._format import ago, took
from spyglass.server.ui._pages import Page

TargetsSource = Callable[[str], Mapping[str, object]]


@dataclass(frozen=True)
class TargetRow:
    """One target as the page shows it."""

    url: str
    health: str
    labels: list[tuple[str, str]]
    discovered: list[tuple[str, str]]
    last_scrape: str
    duration: str
    error: str


@dataclass(frozen=True)
class Pool:
    """A scrape pool (job) and its targets."""

    name: str
    targets: list[TargetRow]

    @property
    def up(self) -> int:
        """How many of its targets are up."""
        return sum(t.health == "up" for t in self.targets)


def _ago(rfc3339: str, now_s: float) -> str:
    try:
        at = datetime.fromisoformat(rfc3339.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return ""
    return ago(round(at * 1000), now_s)


def pools(data: Mapping[str, object], now_s: float) -> list[Pool]:
    """``/api/v1/targets``' ``activeTargets`` grouped by scrape pool, in pool name order."""
    by_pool: dict[str, list[TargetRow]] = {}
    active: Any = data.get("activeTargets", [])
    for t in active:
        row = TargetRow(
            url=str(t.get("scrapeUrl", "")),
            health=str(t.get("health", "unknown")),
            labels=sorted(t.get("labels", {}).items()),
            discovered=sorted(t.get("discoveredLabels", {}).items()),
            last_scrape=_ago(str(t.get("lastScrape", "")), now_s),
            duration=took(t.get("lastScrapeDuration")),
            error=str(t.get("lastError", "")),
        )
        by_pool.setdefault(str(t.get("scrapePool", "")), []).append(row)
    return [Pool(name, rows) for name, rows in sorted(by_pool.items())]


def targets_page(targets: TargetsSource) -> Page:
    """The Targets page over ``targets`` (what ``/api/v1/targets`` serves, by state)."""

    async def context(request: Request) -> Mapping[str, Any]:
        del request
        return {"pools": pools(targets("active"), time.time())}

    return Page(
        path="/targets",
        title="Targets",
        template="targets.html",
        section="Targets",
        context=context,
    )
