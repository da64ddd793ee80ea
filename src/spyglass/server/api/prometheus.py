"""Prometheus' HTTP API (``/api/v1/...``): queries, series metadata, targets, status.

Routes follow Prometheus' documented behaviour: GET and POST (form) alike; ``time``, ``start`` and
``end`` as RFC 3339 or unix seconds; its validation messages; its error shape
``{"status": "error", "errorType", "error"}`` with the matching HTTP status. Everything that touches
storage or evaluates a query runs in a worker thread: a slow query never stalls ingest.

Also ``/federate`` (``_federate``), Prometheus' federation endpoint, which lives outside
``/api/v1`` but reads the same ``Querier``.

The API depends only on small interfaces: a ``Querier``, ``MetadataReader`` and
``SeriesStatsReader`` from ``storage.ports``, a ``QueryEngine`` (the PromQL engine), and
callables for targets and status.
"""

from __future__ import annotations

import asyncio
import gc
import os
import platform
import resource
import threading
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np
import numpy.typing as npt
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from spyglass.core.config import redact_secrets
from spyglass.core.errors import BadInput, SpyglassError, Unavailable
from spyglass.core.labels import LABEL_NAME_RE, Labels
from spyglass.core.matchers import Matcher
from spyglass.core.samples import MetricMetadata
from spyglass.promql import parse_query, prettify, selectors
from spyglass.rules import RuleGroup
from spyglass.server.api._federate import CONTENT_TYPE as FEDERATE_CONTENT_TYPE
from spyglass.server.api._federate import federate
from spyglass.server.api._params import (
    MAX_TIME_MS,
    MIN_TIME_MS,
    duration_param,
    limit_param,
    now_ms,
    read_params,
    time_param,
)
from spyglass.server.api._promjson import error_for, format_time, format_value, success
from spyglass.server.api._queryjson import (
    LabelJson,
    answer_json,
    format_values,
    matrix_json,
    point_json,
    vector_json,
)
from spyglass.server.api._rules_json import alerts_json, rules_json
from spyglass.server.api._selectors import parse_selectors
from spyglass.storage.ports import (
    ExemplarReader,
    MetadataReader,
    NameCount,
    Querier,
    SeriesStatsReader,
)

# Prometheus refuses range queries that would return more points per series than this.
MAX_POINTS_PER_SERIES = 11_000
# /api/v1/status/tsdb counts the series active in this window before now, standing in for
# Prometheus' head block (which holds the last two to three hours).
TSDB_STATUS_WINDOW_MS = 2 * 3_600_000
TSDB_STATUS_DEFAULT_LIMIT = 10
_INT64_MAX = 2**63 - 1


class QueryOutcome(Protocol):
    """What the PromQL engine returns for one query."""

    result_type: Literal["vector", "matrix", "scalar", "string"]
    vector: list[tuple[Labels, float]]
    matrix: list[tuple[Labels, npt.NDArray[np.int64], npt.NDArray[np.float64]]]
    scalar: float | None
    string: str | None
    warnings: list[str]
    infos: list[str]
    samples_processed: int


class QueryEngine(Protocol):
    """The PromQL engine as the API uses it."""

    def instant_query(self, query: str, time_ms: int) -> QueryOutcome:
        """Evaluate ``query`` at ``time_ms``."""
        ...

    def range_query(self, query: str, start_ms: int, end_ms: int, step_ms: int) -> QueryOutcome:
        """Evaluate ``query`` at every step from ``start_ms`` to ``end_ms``."""
        ...


@dataclass(frozen=True, slots=True)
class BuildInfo:
    """``/api/v1/status/buildinfo``.

    ``version`` is the Prometheus API version Spyglass answers like, so clients such as Grafana that
    switch features on by version treat it as a current Prometheus; ``spyglass_version`` is ours.
    """

    version: str
    spyglass_version: str
    revision: str = ""
    branch: str = ""


def _no_targets(state: str = "any") -> Mapping[str, object]:
    del state
    return {"activeTargets": [], "droppedTargets": [], "droppedTargetCounts": {}}


def _no_pools() -> list[str]:
    return []


def _no_target_metadata(metric: str | None = None) -> list[dict[str, object]]:
    del metric
    return []


def _no_config() -> str:
    return ""


def _no_alertmanagers() -> Mapping[str, object]:
    return {"activeAlertmanagers": [], "droppedAlertmanagers": []}


def _no_rule_groups() -> Sequence[RuleGroup]:
    return ()


def _ignore(endpoint: str, seconds: float) -> None:
    del endpoint, seconds


def _no_replay() -> Mapping[str, int]:
    return {"min": 0, "max": 0, "current": 0}


def _no_external_labels() -> Labels:
    return ()


def _no_storage_status() -> Mapping[str, object]:
    return {}


@dataclass(frozen=True)
class PrometheusAPI:
    """The ``/api/v1`` routes over their collaborators."""

    querier: Querier
    metadata: MetadataReader
    engine: QueryEngine
    build_info: BuildInfo
    targets: Callable[[str], Mapping[str, object]] = _no_targets
    scrape_pools: Callable[[], list[str]] = _no_pools
    targets_metadata: Callable[[str | None], list[dict[str, object]]] = _no_target_metadata
    config_yaml: Callable[[], str] = _no_config
    alertmanagers: Callable[[], Mapping[str, object]] = _no_alertmanagers
    rule_groups: Callable[[], Sequence[RuleGroup]] = _no_rule_groups
    flags: Mapping[str, str] = field(default_factory=dict)
    retention: str = ""
    observe_query: Callable[[str, float], None] = _ignore
    start_time: float = field(default_factory=time.time)
    # (whether the latest config load succeeded, when the config in force was loaded)
    config_status: Callable[[], tuple[bool, float]] | None = None
    series_stats: SeriesStatsReader | None = None
    wal_replay: Callable[[], Mapping[str, int]] = _no_replay
    external_labels: Callable[[], Labels] = _no_external_labels
    lookback_delta_ms: int = 300_000
    storage_status: Callable[[], Mapping[str, object]] = _no_storage_status
    # The same engine without the range query cache, for ``nocache=1``; and what empties the
    # cache (``/internal/resetRollupResultCache``). ``None``: there is no cache.
    uncached_engine: QueryEngine | None = None
    reset_cache: Callable[[], None] | None = None
    # Where ``/api/v1/query_exemplars`` reads; ``None``: no exemplars are stored (empty answers).
    exemplars: ExemplarReader | None = None
    # Each series' labels as JSON, kept across queries (``_queryjson``).
    label_json: LabelJson = field(default_factory=LabelJson)

    def routes(self) -> list[BaseRoute]:
        """Starlette routes, each accepting GET and POST like Prometheus."""
        both = ["GET", "POST"]
        table: list[tuple[str, Callable[[Request], Awaitable[Response]]]] = [
            ("/api/v1/query", self.query),
            ("/api/v1/query_range", self.query_range),
            ("/api/v1/series", self.series),
            ("/api/v1/labels", self.labels),
            ("/api/v1/label/{name}/values", self.label_values),
            ("/api/v1/metadata", self.metadata_route),
            ("/api/v1/targets", self.targets_route),
            ("/api/v1/targets/metadata", self.targets_metadata_route),
            ("/api/v1/scrape_pools", self.scrape_pools_route),
            ("/api/v1/query_exemplars", self.query_exemplars),
            ("/api/v1/rules", self.rules),
            ("/api/v1/alertmanagers", self.alertmanagers_route),
            ("/api/v1/alerts", self.alerts),
            ("/api/v1/status/buildinfo", self.status_buildinfo),
            ("/api/v1/status/config", self.status_config),
            ("/api/v1/status/flags", self.status_flags),
            ("/api/v1/status/runtimeinfo", self.status_runtimeinfo),
            ("/api/v1/status/tsdb", self.status_tsdb),
            ("/api/v1/status/walreplay", self.status_walreplay),
            ("/api/v1/format_query", self.format_query),
            # VictoriaMetrics' path, so tools that reset its cache after a backfill work here.
            ("/internal/resetRollupResultCache", self.reset_rollup_cache),
        ]
        routes: list[BaseRoute] = [Route(path, _guarded(fn), methods=both) for path, fn in table]
        # Prometheus serves federation for GET only.
        routes.append(Route("/federate", self.federate_route, methods=["GET"]))
        return routes

    # -- queries -----------------------------------------------------------------------------
    async def query(self, request: Request) -> Response:
        """``/api/v1/query``: instant query at ``time`` (default now)."""
        params = await read_params(request)
        at = time_param(params, "time", now_ms())
        duration_param(params, "timeout")  # validated like Prometheus; the engine's own applies
        text = params.get("query", "")
        body, seconds = await run_in_threadpool(
            self._answer, self.engine.instant_query, (text, at), at, params.get("stats")
        )
        self.observe_query("query", seconds)
        return Response(body, media_type="application/json")

    async def query_range(self, request: Request) -> Response:
        """``/api/v1/query_range``: evaluate at each step of ``[start, end]``."""
        params = await read_params(request)
        start = _required_time(params, "start")
        end = _required_time(params, "end")
        if end < start:
            raise BadInput("end timestamp must not be before start time")
        step = _required_duration(params, "step")
        if step <= 0:
            raise BadInput(
                "zero or negative query resolution step widths are not accepted. "
                "Try a positive integer"
            )
        if (end - start) // step > MAX_POINTS_PER_SERIES:
            raise BadInput(
                "exceeded maximum resolution of 11,000 points per timeseries. "
                "Try decreasing the query resolution (?step=XX)"
            )
        duration_param(params, "timeout")
        text = params.get("query", "")
        engine = self.engine
        if self.uncached_engine is not None and params.get("nocache", "") in ("1", "true"):
            engine = self.uncached_engine  # VictoriaMetrics' nocache=1: evaluate every step
        body, seconds = await run_in_threadpool(
            self._answer, engine.range_query, (text, start, end, step), end, params.get("stats")
        )
        self.observe_query("query_range", seconds)
        return Response(body, media_type="application/json")

    def _answer(
        self,
        evaluate: Callable[..., QueryOutcome],
        args: tuple[Any, ...],
        at_ms: int,
        stats: str | None,
    ) -> tuple[bytes, float]:
        """Evaluate and write the answer in the same worker thread (one hop, and the event
        loop never encodes a large answer); returns the JSON and the evaluation's seconds."""
        started = time.perf_counter()
        outcome = evaluate(*args)
        seconds = time.perf_counter() - started
        return _query_body(outcome, at_ms, stats, self.label_json), seconds

    async def reset_rollup_cache(self, request: Request) -> Response:
        """``/internal/resetRollupResultCache``: forget every cached range query result (as
        VictoriaMetrics does: an empty 200 reply)."""
        del request
        if self.reset_cache is not None:
            self.reset_cache()
        return Response(b"")

    async def format_query(self, request: Request) -> Response:
        """``/api/v1/format_query``: the query as Prometheus' pretty printer writes it."""
        params = await read_params(request)
        try:
            return success(prettify(params.get("query", "")))
        except BadInput as exc:
            raise BadInput(f'invalid parameter "query": {exc}') from None

    async def query_exemplars(self, request: Request) -> Response:
        """``/api/v1/query_exemplars``: the exemplars in ``[start, end]`` of the series the
        query's selectors match, grouped by series, as Prometheus answers."""
        params = await read_params(request)
        # Prometheus words this check differently here than for its other endpoints.
        start, end = _time_range(params, "end timestamp must not be before start timestamp")
        expr = parse_query(params.get("query", ""))  # a ParseError answers bad_data
        matcher_sets = [list(sel.matchers) for sel in selectors(expr)]
        if not matcher_sets:
            # Prometheus' handler returns no data at all here, which its API writes as an
            # empty 204 (so does Spyglass; clients that expect JSON get what they get there).
            return Response(status_code=204)
        if self.exemplars is None:
            return success([])
        found = await run_in_threadpool(self.exemplars.select_exemplars, matcher_sets, start, end)
        data: list[dict[str, object]] = []
        current: Labels | None = None
        items: list[dict[str, object]] = []
        for e in found:
            if e.series != current:
                current, items = e.series, []
                data.append({"seriesLabels": dict(e.series), "exemplars": items})
            items.append(
                {
                    "labels": dict(e.labels),
                    "value": format_value(e.value),
                    "timestamp": format_time(e.timestamp_ms),
                }
            )
        return success(data)

    # -- series metadata ---------------------------------------------------------------------
    async def series(self, request: Request) -> Response:
        """``/api/v1/series``: label sets matching any ``match[]``."""
        params = await read_params(request)
        selectors = params.getlist("match[]")
        if not selectors:
            raise BadInput("no match[] parameter provided")
        matcher_sets = parse_selectors(selectors)
        start, end = _time_range(params)
        limit = limit_param(params)
        found = await run_in_threadpool(self.querier.series, matcher_sets, start, end)
        found = sorted(found)
        data = [dict(ls) for ls in found]
        return _limited(data, limit, "results truncated due to limit")

    async def labels(self, request: Request) -> Response:
        """``/api/v1/labels``: label names, optionally of series matching ``match[]``."""
        params = await read_params(request)
        matcher_sets = _optional_selectors(params)
        start, end = _time_range(params)
        limit = limit_param(params)
        names = await run_in_threadpool(self.querier.label_names, matcher_sets, start, end)
        return _limited(list(names), limit, "results truncated due to limit")

    async def label_values(self, request: Request) -> Response:
        """``/api/v1/label/<name>/values``."""
        name = request.path_params["name"]
        if not LABEL_NAME_RE.match(name):
            raise BadInput(f'invalid label name: "{name}"')
        params = await read_params(request)
        matcher_sets = _optional_selectors(params)
        start, end = _time_range(params)
        limit = limit_param(params)
        values = await run_in_threadpool(self.querier.label_values, name, matcher_sets, start, end)
        return _limited(list(values), limit, "results truncated due to limit")

    async def metadata_route(self, request: Request) -> Response:
        """``/api/v1/metadata``: type, help and unit per metric family."""
        params = await read_params(request)
        limit = _signed_limit(params, "limit")
        per_metric = _signed_limit(params, "limit_per_metric")
        metric = params.get("metric") or None
        found = await run_in_threadpool(self.metadata.metadata, metric)
        data: dict[str, list[dict[str, str]]] = {}
        for name, entries in sorted(found.items()):
            if 0 <= limit <= len(data):
                break
            shown = entries if per_metric < 0 else entries[:per_metric]
            data[name] = [_metadata_json(md) for md in shown]
        return success(data)

    async def targets_route(self, request: Request) -> Response:
        """``/api/v1/targets`` with ``state`` = active, dropped or any (default)."""
        params = await read_params(request)
        state = (params.get("state") or "any").lower()
        if state not in ("any", "active", "dropped"):
            state = "any"  # Prometheus treats an unknown state like "any"
        return success(dict(self.targets(state)))

    async def targets_metadata_route(self, request: Request) -> Response:
        """``/api/v1/targets/metadata``: metadata as each target exposed it."""
        params = await read_params(request)
        limit = _signed_limit(params, "limit")
        entries = self.targets_metadata(params.get("metric") or None)
        if limit >= 0:
            entries = entries[:limit]
        return success(entries)

    async def scrape_pools_route(self, request: Request) -> Response:
        """``/api/v1/scrape_pools``: the configured job names."""
        del request
        return success({"scrapePools": self.scrape_pools()})

    async def federate_route(self, request: Request) -> Response:
        """``/federate``: the latest sample of each series matching a ``match[]``, as text."""
        try:
            params = await read_params(request)
            matcher_sets = parse_selectors(params.getlist("match[]"))
        except BadInput as exc:
            return PlainTextResponse(f"{exc}\n", status_code=400)
        page = await run_in_threadpool(
            federate,
            self.querier,
            matcher_sets,
            now_ms(),
            self.lookback_delta_ms,
            self.external_labels(),
        )
        return Response(page, media_type=FEDERATE_CONTENT_TYPE)

    # -- rules and alerts --------------------------------------------------------------------
    async def rules(self, request: Request) -> Response:
        """``/api/v1/rules``: the running rule groups with each rule's health and alerts."""
        params = await read_params(request)
        form = {key: params.getlist(key) for key in params}
        return success(rules_json(self.rule_groups(), form))

    async def alerts(self, request: Request) -> Response:
        """``/api/v1/alerts``: every pending and firing alert."""
        del request
        return success(alerts_json(self.rule_groups()))

    # -- status ------------------------------------------------------------------------------
    async def alertmanagers_route(self, request: Request) -> Response:
        """``/api/v1/alertmanagers``: where alerts are sent, and the Alertmanagers relabeling
        dropped."""
        del request
        return success(dict(self.alertmanagers()))

    def build_info_json(self) -> dict[str, str]:
        """What ``/api/v1/status/buildinfo`` answers (and the Status page shows)."""
        info = self.build_info
        return {
            "version": info.version,
            "revision": info.revision,
            "branch": info.branch,
            "buildUser": "",
            "buildDate": "",
            "goVersion": "",
            "spyglassVersion": info.spyglass_version,
            "pythonVersion": platform.python_version(),
        }

    async def status_buildinfo(self, request: Request) -> Response:
        """``/api/v1/status/buildinfo``."""
        del request
        return success(self.build_info_json())

    def config_shown(self) -> str:
        """The loaded prometheus.yml with its secrets shown as ``<secret>``, as Prometheus
        shows its own."""
        return redact_secrets(self.config_yaml())

    async def status_config(self, request: Request) -> Response:
        """``/api/v1/status/config``: the loaded prometheus.yml, secrets hidden."""
        del request
        return success({"yaml": self.config_shown()})

    async def status_flags(self, request: Request) -> Response:
        """``/api/v1/status/flags``: effective settings, by command-line option name."""
        del request
        return success(dict(self.flags))

    async def status_tsdb(self, request: Request) -> Response:
        """``/api/v1/status/tsdb``: cardinality of the series active in the last two hours."""
        params = await read_params(request)
        raw = params.get("limit") or str(TSDB_STATUS_DEFAULT_LIMIT)
        try:
            limit = int(raw)
        except ValueError:
            limit = 0
        if limit < 1:
            raise BadInput("limit must be a positive number")
        return success(await run_in_threadpool(self.tsdb_status, limit))

    def tsdb_status(self, limit: int = TSDB_STATUS_DEFAULT_LIMIT) -> dict[str, Any]:
        """What ``/api/v1/status/tsdb`` answers (blocking: call it from a worker thread)."""
        if self.series_stats is None:
            raise Unavailable("no series index to read statistics from")
        now = now_ms()
        stats = self.series_stats.series_stats(now - TSDB_STATUS_WINDOW_MS, now, limit)
        return {
            "headStats": {
                "numSeries": stats.num_series,
                "numLabelPairs": stats.num_label_pairs,
                # Spyglass keeps no head chunks: samples go to ClickHouse parts.
                "chunkCount": 0,
                "minTime": _INT64_MAX if stats.min_time_ms is None else stats.min_time_ms,
                "maxTime": -_INT64_MAX - 1 if stats.max_time_ms is None else stats.max_time_ms,
            },
            "seriesCountByMetricName": _counts(stats.series_count_by_metric_name),
            "labelValueCountByLabelName": _counts(stats.label_value_count_by_label_name),
            "memoryInBytesByLabelName": _counts(stats.memory_in_bytes_by_label_name),
            "seriesCountByLabelValuePair": _counts(stats.series_count_by_label_value_pair),
        }

    async def status_walreplay(self, request: Request) -> Response:
        """``/api/v1/status/walreplay``: how far the start-up replay of the metrics WAL got."""
        del request
        return success(dict(self.wal_replay()))

    async def status_runtimeinfo(self, request: Request) -> Response:
        """``/api/v1/status/runtimeinfo``."""
        del request
        return success(self.runtime_info())

    def runtime_info(self) -> dict[str, Any]:
        """What ``/api/v1/status/runtimeinfo`` answers: Prometheus' fields, with Python's
        counterparts where Go's have none (``goroutineCount`` counts asyncio tasks and
        threads), plus Spyglass's own under ``spyglass``."""
        ok, loaded = (True, self.start_time) if self.config_status is None else self.config_status()
        tasks = _task_count()
        threads = threading.active_count()
        info: dict[str, Any] = {
            "startTime": _rfc3339(self.start_time),
            "CWD": os.getcwd(),
            "reloadConfigSuccess": ok,
            "lastConfigTime": _rfc3339(loaded),
            "corruptionCount": 0,
            "goroutineCount": tasks + threads,
            "GOMAXPROCS": os.cpu_count() or 1,
            "GOGC": "",
            "GODEBUG": "",
            "storageRetention": self.retention,
        }
        info["spyglass"] = {
            "asyncioTasks": tasks,
            "threads": threads,
            "residentMemoryBytes": _rss_bytes(),
            "gcCollections": sum(g["collections"] for g in gc.get_stats()),
            "gcThresholds": list(gc.get_threshold()),
            "storage": dict(self.storage_status()),
        }
        return info


# -- helpers ------------------------------------------------------------------------------------
def _guarded(
    handler: Callable[[Request], Awaitable[Response]],
) -> Callable[[Request], Awaitable[Response]]:
    """Turn Spyglass errors into Prometheus' error shape."""

    async def run(request: Request) -> Response:
        try:
            return await handler(request)
        except SpyglassError as exc:
            return error_for(exc)

    run.__name__ = handler.__name__
    run.__doc__ = handler.__doc__
    return run


def _required_time(params: Any, name: str) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        raise BadInput(f'invalid parameter "{name}": cannot parse "" to a valid timestamp')
    return time_param(params, name, 0)


def _required_duration(params: Any, name: str) -> int:
    value = duration_param(params, name)
    if value is None:
        raise BadInput(f'invalid parameter "{name}": cannot parse "" to a valid duration')
    return value


def _time_range(
    params: Any, inverted: str = "end timestamp must not be before start time"
) -> tuple[int, int]:
    start = time_param(params, "start", MIN_TIME_MS)
    end = time_param(params, "end", MAX_TIME_MS)
    if end < start:
        raise BadInput(inverted)
    return start, end


def _optional_selectors(params: Any) -> list[list[Matcher]]:
    return parse_selectors(params.getlist("match[]"))


def _signed_limit(params: Any, name: str) -> int:
    """Metadata limits: negative (default -1) means no limit, as in Prometheus."""
    raw = params.get(name)
    if raw is None or raw == "":
        return -1
    try:
        return int(raw)
    except ValueError:
        raise BadInput(f'invalid parameter "{name}": limit must be a number') from None


def _limited(data: list[Any], limit: int, warning: str) -> Response:
    if limit and len(data) > limit:
        return success(data[:limit], warnings=[warning])
    return success(data)


def _counts(rows: list[NameCount]) -> list[dict[str, object]]:
    return [{"name": r.name, "value": r.count} for r in rows]


def _metadata_json(md: MetricMetadata) -> dict[str, str]:
    return {"type": md.type, "help": md.help, "unit": md.unit}


def _task_count() -> int:
    try:
        return len(asyncio.all_tasks())
    except RuntimeError:  # no running loop (a worker thread)
        return 0


def _rss_bytes() -> int:
    """Resident memory now (Linux), else the peak the kernel reports."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


def _rfc3339(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def _query_body(
    outcome: QueryOutcome, at_ms: int, stats: str | None, label_json: LabelJson
) -> bytes:
    if outcome.result_type == "vector":
        result = vector_json(outcome.vector, at_ms, label_json)
    elif outcome.result_type == "matrix":
        result = matrix_json(outcome.matrix, label_json)
    elif outcome.result_type == "scalar":
        scalar = outcome.scalar if outcome.scalar is not None else 0.0
        result = point_json(at_ms, format_value(scalar))
    else:
        result = point_json(at_ms, outcome.string or "")
    counted = None
    if stats:
        counted = {
            "samples": {
                "totalQueryableSamples": outcome.samples_processed,
                "peakSamples": outcome.samples_processed,
            }
        }
    return answer_json(outcome.result_type, result, counted, outcome.warnings, outcome.infos)


__all__ = [
    "MAX_POINTS_PER_SERIES",
    "TSDB_STATUS_WINDOW_MS",
    "BuildInfo",
    "PrometheusAPI",
    "QueryEngine",
    "QueryOutcome",
    "format_values",
]
