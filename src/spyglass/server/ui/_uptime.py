"""The Uptime page (``/uptime``): the probes Spyglass runs on its own schedule, per target.

Up or down and the last error come from the scheduler's last run (what
``/api/spyglass/v1/probes`` answers); everything over time comes from the stored series, as a
PromQL query on ``/api/v1/query`` would give it: uptime over 24 hours, 7 and 30 days is
``avg_over_time(probe_success[<range>])``, the response-time sparkline is
``probe_duration_seconds`` over the last hour, and the certificate's expiry is
``probe_ssl_earliest_cert_expiry`` less now. Targets are matched to series by ``job`` (the
probe's name) and ``instance`` (the target), the labels the scheduler writes.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Mapping
from typing import Any

from starlette.requests import Request

from spyglass.core.errors import SpyglassError
from spyglass.probes import ProbeScheduler
from spyglass.promql import Engine
from spyglass.server.ui._format import ago
from spyglass.server.ui._pages import Page
from spyglass.server.ui._sparkline import sparkline

RANGES: tuple[str, ...] = ("24h", "7d", "30d")
# A certificate this close to expiring is shown as a warning.
CERT_WARNING_DAYS = 14
SPARK_RANGE_MS = 3_600_000
SPARK_STEP_MS = 60_000

Key = tuple[str, str]


def _key(labels: Any) -> Key:
    d = dict(labels)
    return (d.get("job", ""), d.get("instance", ""))


def _instant(engine: Engine, query: str, now_ms: int) -> dict[Key, float]:
    try:
        result = engine.instant_query(query, now_ms)
    except SpyglassError:
        return {}
    return {_key(labels): v for labels, v in result.vector}


def measure(engine: Engine, now_ms: int) -> dict[str, Any]:
    """The stored figures of every probed target: uptime per range, certificate expiry and
    the response-time series, keyed by (job, instance)."""
    uptime = {r: _instant(engine, f"avg_over_time(probe_success[{r}])", now_ms) for r in RANGES}
    expiry = _instant(engine, "probe_ssl_earliest_cert_expiry", now_ms)
    durations: dict[Key, list[float | None]] = {}
    try:
        result = engine.range_query(
            "probe_duration_seconds", now_ms - SPARK_RANGE_MS, now_ms, SPARK_STEP_MS
        )
    except SpyglassError:
        result = None
    for labels, _, values in result.matrix if result else []:
        durations[_key(labels)] = [None if math.isnan(v) else v for v in values.tolist()]
    return {"uptime": uptime, "expiry": expiry, "durations": durations}


def uptime_text(ratio: float | None) -> str:
    """``99.95%``; ``-`` with no samples in the range."""
    if ratio is None or math.isnan(ratio):
        return "-"
    return f"{ratio * 100:.2f}%"


def uptime_page(
    scheduler: ProbeScheduler, engine: Engine, clock: Callable[[], float] = time.time
) -> Page:
    """``/uptime`` over ``scheduler``'s targets, their history read with ``engine``."""

    async def context(request: Request) -> Mapping[str, Any]:
        del request
        now = clock()
        now_ms = int(now * 1000)
        figures = await asyncio.to_thread(measure, engine, now_ms)
        rows = []
        for s in sorted(scheduler.status.values(), key=lambda s: (s.probe, s.target)):
            key = (s.probe, s.target)
            expiry = figures["expiry"].get(key)
            days = None if expiry is None else (expiry - now) / 86400
            durations = figures["durations"].get(key, [])
            known = [d for d in durations if d is not None]
            rows.append(
                {
                    "probe": s.probe,
                    "module": s.module,
                    "target": s.target,
                    "up": s.success,
                    "ran": s.runs > 0,
                    "last_run": ago(int(s.last_run_s * 1000), now),
                    "duration": f"{s.duration_s * 1000:.0f} ms",
                    "uptime": {r: uptime_text(figures["uptime"][r].get(key)) for r in RANGES},
                    "cert_days": None if days is None else math.floor(days),
                    "cert_warning": days is not None and days < CERT_WARNING_DAYS,
                    "spark": sparkline(durations),
                    "spark_max": f"{max(known) * 1000:.0f} ms" if known else "",
                    "error": s.last_error,
                    "runs": s.runs,
                    "failures": s.failures,
                }
            )
        return {
            "targets": rows,
            "ranges": RANGES,
            "down": sum(1 for r in rows if r["ran"] and not r["up"]),
            "config_file": scheduler.config_file,
            "cert_warning_days": CERT_WARNING_DAYS,
        }

    return Page(
        path="/uptime", title="Uptime", template="uptime.html", section="Uptime", context=context
    )
