"""The Status pages, as Prometheus' Status menu has them: runtime and build information,
command-line flags, the loaded configuration, TSDB status and service discovery.

Each page renders on the server, without a script, what a documented API answers (docs/ui.md
names it): ``/api/v1/status/runtimeinfo`` and ``buildinfo``, ``flags``, ``config``, ``tsdb`` and
``/api/v1/targets``. The pages take the same callables the API is built from, so page and API
cannot disagree.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from spyglass.core.errors import SpyglassError
from spyglass.server.ui._pages import Page

Info = Callable[[], Mapping[str, Any]]

# The Status section's pages, in the order of their sub-navigation.
STATUS_LINKS: tuple[tuple[str, str], ...] = (
    ("/status", "Runtime & build information"),
    ("/flags", "Command-line flags"),
    ("/config", "Configuration"),
    ("/tsdb-status", "TSDB status"),
    ("/service-discovery", "Service discovery"),
)


@dataclass(frozen=True)
class StatusSources:
    """What the Status pages show, as the API's callables."""

    runtime_info: Info
    build_info: Info
    flags: Mapping[str, str]
    config_text: Callable[[], str]
    tsdb_status: Callable[[int], Mapping[str, Any]]
    targets: Callable[[str], Mapping[str, object]]
    tsdb_limit: int = 10


@dataclass(frozen=True)
class DiscoveredTarget:
    """One target of a scrape pool, before and after relabelling (``labels`` empty: dropped)."""

    discovered: list[tuple[str, str]]
    labels: list[tuple[str, str]]

    @property
    def dropped(self) -> bool:
        """Whether relabelling dropped it."""
        return not self.labels


@dataclass(frozen=True)
class DiscoveryPool:
    """A scrape pool's discovered targets, active first."""

    name: str
    targets: list[DiscoveredTarget]

    @property
    def active(self) -> int:
        """How many targets relabelling kept."""
        return sum(not t.dropped for t in self.targets)


def _bytes(n: object) -> str:
    if not isinstance(n, int):
        return ""
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return str(n)


def _when(ms: object) -> str:
    if not isinstance(ms, int) or abs(ms) >= 2**62:
        return "none"
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def runtime_rows(runtime: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The runtime table: Prometheus' rows, then the process's and storage's own."""
    own: Mapping[str, Any] = runtime.get("spyglass", {})
    storage: Mapping[str, Any] = own.get("storage", {})
    replay: Mapping[str, Any] = storage.get("walReplay", {})
    rows = [
        ("Start time", str(runtime.get("startTime", ""))),
        ("Working directory", str(runtime.get("CWD", ""))),
        ("Configuration reload", "Successful" if runtime.get("reloadConfigSuccess") else "Failed"),
        ("Last successful configuration reload", str(runtime.get("lastConfigTime", ""))),
        ("Asyncio tasks", str(own.get("asyncioTasks", ""))),
        ("Threads", str(own.get("threads", ""))),
        ("CPUs", str(runtime.get("GOMAXPROCS", ""))),
        ("Resident memory", _bytes(own.get("residentMemoryBytes"))),
        ("Garbage collections", str(own.get("gcCollections", ""))),
        ("Storage", str(storage.get("description", ""))),
        ("Storage retention", str(runtime.get("storageRetention", ""))),
    ]
    if storage:
        rows += [
            (
                "Samples accepted / stored",
                f"{storage.get('samplesAppended', 0)} / {storage.get('samplesFlushed', 0)}",
            ),
            ("Samples waiting for storage", str(storage.get("pendingSamples", 0))),
            (
                "WAL",
                f"{storage.get('walSegments', 0)} segments, {_bytes(storage.get('walBytes', 0))}",
            ),
            (
                "WAL replay at start",
                f"segments {replay.get('min', 0)} to {replay.get('max', 0)}, "
                f"{storage.get('replayedSamples', 0)} samples replayed",
            ),
            ("Last flush error", str(storage.get("lastFlushError") or "none")),
        ]
    return rows


def build_rows(build: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The build table."""
    return [
        ("Spyglass version", str(build.get("spyglassVersion", ""))),
        ("Prometheus API version", str(build.get("version", ""))),
        ("Python version", str(build.get("pythonVersion", ""))),
        ("Revision", str(build.get("revision", ""))),
        ("Branch", str(build.get("branch", ""))),
    ]


def discovery_pools(data: Mapping[str, object]) -> list[DiscoveryPool]:
    """``/api/v1/targets?state=any`` grouped by scrape pool, in pool name order."""
    by_pool: dict[str, list[DiscoveredTarget]] = {}
    active: Any = data.get("activeTargets", [])
    dropped: Any = data.get("droppedTargets", [])
    for t in active:
        target = DiscoveredTarget(
            sorted(t.get("discoveredLabels", {}).items()), sorted(t.get("labels", {}).items())
        )
        by_pool.setdefault(str(t.get("scrapePool", "")), []).append(target)
    for t in dropped:
        discovered = t.get("discoveredLabels", {})
        pool = str(t.get("scrapePool") or discovered.get("job", ""))
        by_pool.setdefault(pool, []).append(DiscoveredTarget(sorted(discovered.items()), []))
    return [DiscoveryPool(name, rows) for name, rows in sorted(by_pool.items())]


def status_pages(sources: StatusSources) -> list[Page]:
    """The five Status pages over ``sources``."""

    def page(
        path: str,
        title: str,
        template: str,
        context: Callable[[Request], Awaitable[Mapping[str, Any]]],
    ) -> Page:
        return Page(path, title, template, section="Status", context=context)

    async def status(request: Request) -> Mapping[str, Any]:
        del request
        return {
            "status_links": STATUS_LINKS,
            "runtime": runtime_rows(sources.runtime_info()),
            "build": build_rows(sources.build_info()),
        }

    async def flags(request: Request) -> Mapping[str, Any]:
        del request
        return {"status_links": STATUS_LINKS, "flags": sorted(sources.flags.items())}

    async def config(request: Request) -> Mapping[str, Any]:
        del request
        return {"status_links": STATUS_LINKS, "yaml": sources.config_text()}

    async def tsdb(request: Request) -> Mapping[str, Any]:
        del request
        try:
            data = await run_in_threadpool(sources.tsdb_status, sources.tsdb_limit)
        except SpyglassError as exc:
            return {"status_links": STATUS_LINKS, "error": str(exc), "head": [], "tables": []}
        head = data["headStats"]
        return {
            "status_links": STATUS_LINKS,
            "error": "",
            "head": [
                ("Number of series", str(head["numSeries"])),
                ("Number of label pairs", str(head["numLabelPairs"])),
                ("Oldest sample", _when(head["minTime"])),
                ("Newest sample", _when(head["maxTime"])),
            ],
            "tables": [
                (
                    "Top 10 series count by metric names",
                    "Name",
                    "Count",
                    data["seriesCountByMetricName"],
                ),
                (
                    "Top 10 label names with value count",
                    "Name",
                    "Count",
                    data["labelValueCountByLabelName"],
                ),
                (
                    "Top 10 label names with high memory usage",
                    "Name",
                    "Bytes",
                    data["memoryInBytesByLabelName"],
                ),
                (
                    "Top 10 series count by label value pairs",
                    "Name",
                    "Count",
                    data["seriesCountByLabelValuePair"],
                ),
            ],
        }

    async def discovery(request: Request) -> Mapping[str, Any]:
        del request
        return {"status_links": STATUS_LINKS, "pools": discovery_pools(sources.targets("any"))}

    return [
        page("/status", "Runtime & build information", "status.html", status),
        page("/flags", "Command-line flags", "flags.html", flags),
        page("/config", "Configuration", "config.html", config),
        page("/tsdb-status", "TSDB status", "tsdb_status.html", tsdb),
        page("/service-discovery", "Service discovery", "service_discovery.html", discovery),
    ]


__all__ = [
    "STATUS_LINKS",
    "DiscoveredTarget",
    "DiscoveryPool",
    "StatusSources",
    "build_rows",
    "discovery_pools",
    "runtime_rows",
    "status_pages",
]
