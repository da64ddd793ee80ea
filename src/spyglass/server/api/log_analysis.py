"""Log patterns and user impact over HTTP: Spyglass's own routes and Loki's ``patterns``.

- ``GET /api/logs/patterns``: the templates of a LogQL log query's lines in a window, marked
  ``new`` or ``growing`` against a baseline window (default: the same length just before);
- ``GET /api/logs/impact``: the distinct users whose requests hit error-level lines in a window,
  overall, per service and per template;
- ``GET /loki/api/v1/patterns``: Loki 3's pattern query, which Grafana's Explore Logs (Logs
  Drilldown) calls: ``{"status": "success", "data": [{"pattern", "level", "samples"}]}`` with
  each pattern in Loki's syntax (``<_>`` for what varies) and its line count per ``step`` as
  ``[unix seconds, count]``.

Times are read as the Loki API reads them (Unix ns or s, RFC 3339; ``since`` as a duration).
Spyglass's own routes answer errors as ``{"error": "..."}`` with 400 for a bad request, 422 for a
query that failed, 503 when storage is unavailable and 504 for a timeout, like Spyglass's other
``/api/`` routes; Loki's route answers them as Loki does (plain text). Analysis runs in a worker
thread, so a large window never stalls ingest.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MultiDict
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from spyglass.core.errors import BadInput, QueryTimeout, SpyglassError, Unavailable
from spyglass.core.settings import Settings
from spyglass.logs import (
    AnalysisOptions,
    Engine,
    EngineOptions,
    Impact,
    LogAnalysis,
    MinerOptions,
    Sample,
    loki_pattern,
)
from spyglass.server.api._params import read_params
from spyglass.server.api.loki import error_response, parse_duration_ns, parse_time_ns
from spyglass.storage.ports import LogReader

DEFAULT_WINDOW_NS = 3600 * 10**9
DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000
# Loki's pattern ingester keeps samples at 10 s resolution; a finer step is rounded up to it.
MIN_PATTERN_STEP_NS = 10 * 10**9


def rfc3339(ns: int) -> str:
    """``ns`` as RFC 3339 in UTC with nanoseconds, as Loki writes times."""
    seconds, frac = divmod(ns, 10**9)
    stamp = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{frac:09d}Z" if frac else f"{stamp}Z"


def _time(params: MultiDict, name: str) -> int | None:
    raw = params.get(name)
    return None if raw is None or raw == "" else parse_time_ns(raw)


def window_of(params: MultiDict) -> tuple[int, int]:
    """``start``/``end`` (or ``since`` before ``end``; default the last hour)."""
    end = _time(params, "end")
    end = time.time_ns() if end is None else end
    since = params.get("since")
    start = _time(params, "start")
    if start is None:
        start = end - (parse_duration_ns(since) if since else DEFAULT_WINDOW_NS)
    if end <= start:
        raise BadInput("end must be after start")
    return start, end


def _query(params: MultiDict) -> str:
    query = str(params.get("query") or "")
    if not query:
        raise BadInput("query parameter is required")
    return query


def _limit(params: MultiDict) -> int:
    raw = params.get("limit")
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    try:
        limit = int(raw)
    except ValueError:
        raise BadInput(f"invalid limit {raw!r}: not an integer") from None
    if not 0 < limit <= MAX_LIMIT:
        raise BadInput(f"limit must be between 1 and {MAX_LIMIT}")
    return limit


def _sample(sample: Sample) -> dict[str, Any]:
    return {
        "time": rfc3339(sample.timestamp_ns),
        "line": sample.line,
        "labels": dict(sample.labels),
    }


def _impact(impact: Impact) -> dict[str, Any]:
    return {
        "errorLines": impact.error_lines,
        "users": impact.users,
        "topUsers": [{"user": u, "errorLines": n} for u, n in impact.top_users],
    }


def _spyglass_error(exc: SpyglassError) -> Response:
    if isinstance(exc, QueryTimeout):
        status = 504
    elif isinstance(exc, BadInput):
        status = 400
    elif isinstance(exc, Unavailable):
        status = 503
    else:
        status = 422
    return JSONResponse({"error": str(exc)}, status_code=status)


def _guarded(
    handler: Callable[[Request], Awaitable[Response]],
    answer_error: Callable[[SpyglassError], Response],
) -> Callable[[Request], Awaitable[Response]]:
    async def run(request: Request) -> Response:
        try:
            return await handler(request)
        except SpyglassError as exc:
            return answer_error(exc)

    run.__name__ = handler.__name__
    run.__doc__ = handler.__doc__
    return run


@dataclass
class LogAnalysisAPI:
    """The log analysis routes over a ``LogReader``."""

    reader: LogReader
    options: AnalysisOptions = field(default_factory=AnalysisOptions)
    query_options: EngineOptions = field(default_factory=EngineOptions)

    def __post_init__(self) -> None:
        self.analysis = LogAnalysis(Engine(self.reader, self.query_options), self.options)

    @classmethod
    def from_settings(cls, reader: LogReader, s: Settings) -> LogAnalysisAPI:
        """The API with the ``--logs-patterns-*`` settings and the query timeout."""
        miner = MinerOptions(
            similarity=s.logs_patterns_similarity,
            depth=s.logs_patterns_depth,
            max_templates=s.logs_patterns_max_templates,
            growth_factor=s.logs_patterns_growth_factor,
            min_growth_count=s.logs_patterns_min_growth_count,
        )
        options = AnalysisOptions(
            miner=miner,
            max_lines=s.logs_patterns_max_lines,
            user_field=s.logs_impact_user_field,
        )
        return cls(reader, options, EngineOptions(timeout_s=s.query_timeout / 1000))

    def routes(self) -> list[BaseRoute]:
        """``/api/logs/patterns``, ``/api/logs/impact`` and ``/loki/api/v1/patterns``."""
        return [
            Route("/api/logs/patterns", _guarded(self.patterns, _spyglass_error), methods=["GET"]),
            Route("/api/logs/impact", _guarded(self.impact, _spyglass_error), methods=["GET"]),
            Route(
                "/loki/api/v1/patterns",
                _guarded(self.loki_patterns, error_response),
                methods=["GET", "POST"],
            ),
        ]

    async def patterns(self, request: Request) -> Response:
        """Templates of the window, new and growing ones first, then by line count."""
        params = await read_params(request)
        query = _query(params)
        start, end = window_of(params)
        b_end = _time(params, "baseline_end")
        b_end = start if b_end is None else b_end
        b_start = _time(params, "baseline_start")
        b_start = b_end - (end - start) if b_start is None else b_start
        if b_end < b_start:
            raise BadInput("baseline_end must not be before baseline_start")
        limit = _limit(params)
        report = await run_in_threadpool(
            self.analysis.patterns, query, start, end, baseline=(b_start, b_end), limit=limit
        )
        max_lines = self.options.max_lines
        return JSONResponse(
            {
                "query": query,
                "window": {"start": rfc3339(start), "end": rfc3339(end)},
                "baseline": {"start": rfc3339(b_start), "end": rfc3339(b_end)},
                "lines": {"window": report.window_lines, "baseline": report.baseline_lines},
                "maxLines": max_lines,
                "truncated": report.truncated,
                "total": report.total,
                "patterns": [
                    {
                        "service": p.service,
                        "level": p.level,
                        "template": p.template,
                        "lokiPattern": loki_pattern(p.template),
                        "count": p.count,
                        "baselineCount": p.baseline_count,
                        "firstSeen": rfc3339(p.first_seen_ns),
                        "lastSeen": rfc3339(p.last_seen_ns),
                        "new": p.new,
                        "growing": p.growing,
                        "sample": _sample(p.sample),
                    }
                    for p in report.patterns
                ],
                "cappedGroups": [
                    {"service": c.service, "level": c.level, "unclustered": c.unclustered}
                    for c in report.capped
                ],
            }
        )

    async def impact(self, request: Request) -> Response:
        """Distinct users named by error-level lines of the window."""
        params = await read_params(request)
        query = _query(params)
        start, end = window_of(params)
        user_field = str(params.get("user_field") or "") or None
        limit = _limit(params)
        report = await run_in_threadpool(
            self.analysis.impact, query, start, end, user_field=user_field, limit=limit
        )
        return JSONResponse(
            {
                "query": query,
                "window": {"start": rfc3339(start), "end": rfc3339(end)},
                "userField": report.user_field,
                "lines": report.lines,
                "maxLines": self.options.max_lines,
                "truncated": report.truncated,
                "errorLinesWithoutUser": report.error_lines_without_user,
                **_impact(report.overall),
                "services": [{"service": s.service, **_impact(s.impact)} for s in report.services],
                "patterns": [
                    {
                        "service": p.service,
                        "level": p.level,
                        "template": p.template,
                        "sample": _sample(p.sample),
                        **_impact(p.impact),
                    }
                    for p in report.patterns
                ],
            }
        )

    async def loki_patterns(self, request: Request) -> Response:
        """Loki's ``/loki/api/v1/patterns``: patterns with their counts per step."""
        params = await read_params(request)
        query = _query(params)
        start, end = window_of(params)
        step = params.get("step")
        if step:
            step_ns = parse_duration_ns(step)
            if step_ns <= 0:
                raise BadInput(
                    "zero or negative query resolution step widths are not accepted. "
                    "Try a positive integer"
                )
        else:
            # query_range's default: about 250 points, whole seconds.
            step_ns = max(math.floor((end - start) / 1e9 / 250), 1) * 10**9
        step_ns = max(step_ns, MIN_PATTERN_STEP_NS)
        report = await run_in_threadpool(
            self.analysis.patterns, query, start, end, baseline=(start, start), step_ns=step_ns
        )
        # One entry per (pattern, level): the same template of two services is one Loki pattern.
        merged: dict[tuple[str, str], dict[int, int]] = {}
        for p in report.patterns:
            buckets = merged.setdefault((loki_pattern(p.template), p.level), {})
            for at, n in p.buckets.items():
                buckets[at] = buckets.get(at, 0) + n
        data = [
            {
                "pattern": pattern,
                "level": level,
                "samples": [[at // 10**9, n] for at, n in sorted(buckets.items())],
            }
            for (pattern, level), buckets in _by_volume(merged)
        ]
        return JSONResponse({"status": "success", "data": data})


def _by_volume(
    merged: Mapping[tuple[str, str], dict[int, int]],
) -> list[tuple[tuple[str, str], dict[int, int]]]:
    return sorted(merged.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))


__all__ = ["LogAnalysisAPI", "rfc3339", "window_of"]
