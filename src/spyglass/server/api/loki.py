"""Loki's query HTTP API (``/loki/api/v1/...``): LogQL queries, labels, series, index stats.

What Grafana's Loki data source and ``logcli`` call, answered the way Loki answers: GET and POST
(form) alike; times as Unix nanoseconds, Unix seconds (up to ten digits, or with a fraction),
or RFC 3339; ``since``, ``step`` and ``interval`` as float seconds or durations; ``direction``
in any case (logcli sends ``BACKWARD``); results in Loki's JSON shape with a ``stats`` block;
and errors as Loki's plain-text body with status 400 for a bad request. "Save & test" in
Grafana runs ``vector(1)+vector(1)`` through ``/loki/api/v1/query`` and reads ``2`` back.

The API depends only on a ``storage.ports.LogReader``; queries run in a worker thread so a slow
one never stalls ingest.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MultiDict
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from spyglass.core.errors import (
    BadInput,
    QueryError,
    QueryTimeout,
    SpyglassError,
    Unavailable,
)
from spyglass.core.matchers import Matcher
from spyglass.core.version import __version__
from spyglass.logs import (
    Engine,
    EngineOptions,
    LogQuery,
    QueryResult,
    Stats,
    parse_duration,
    parse_query,
)
from spyglass.server.api._params import read_params
from spyglass.server.api._promjson import format_value
from spyglass.storage.ports import LogCounter, LogCountRequest, LogReader, LogSelection

# The Loki version Spyglass answers like on /loki/api/v1/status/buildinfo: Grafana switches
# features on by it, so it names a current Loki 3.
LOKI_API_VERSION = "3.4.0"
DEFAULT_LIMIT = 100
# Loki's default max_entries_limit_per_query.
MAX_ENTRIES_LIMIT = 5000
MAX_POINTS_PER_SERIES = 11_000
# Loki's tail limits: at most 5 s of delay_for, and what one poll may send.
MAX_TAIL_DELAY_S = 5
TAIL_BATCH = 1000
# Metadata endpoints look back this far when no start is given (Loki's default).
METADATA_LOOKBACK_NS = 6 * 3600 * 10**9
QUERY_LOOKBACK_NS = 3600 * 10**9
_DURATION = re.compile(r"^(?:[0-9]+(?:\.[0-9]+)?(?:ns|us|µs|ms|s|m|h|d|w|y))+$")


# -- parameters --------------------------------------------------------------------------------
def parse_time_ns(value: str) -> int:
    """A Loki timestamp: Unix ns, Unix seconds (<= 10 digits or with a fraction), RFC 3339."""
    if "." in value:
        try:
            seconds = float(value)
        except ValueError:
            pass
        else:
            whole = math.floor(seconds)
            # Loki keeps millisecond precision of a fractional-seconds timestamp.
            frac = round((seconds - whole) * 1000) / 1000
            return int(whole) * 10**9 + round(frac * 1e9)
    if re.fullmatch(r"[+-]?[0-9]+", value):
        number = int(value)
        return number * 10**9 if len(value) <= 10 else number
    # Loki reports the integer parse's error when the value is not RFC 3339 either.
    unparsable = BadInput(f'strconv.ParseInt: parsing "{value}": invalid syntax')
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise unparsable from None
    if parsed.tzinfo is None:
        raise unparsable
    nanos = _fraction_ns(value)
    return int(parsed.timestamp()) * 10**9 + nanos


def _fraction_ns(value: str) -> int:
    m = re.search(r"[0-9]{2}:[0-9]{2}:[0-9]{2}\.([0-9]+)", value)
    return int(m.group(1)[:9].ljust(9, "0")) if m else 0


def parse_duration_ns(value: str) -> int:
    """Float seconds or a Prometheus duration (``5m``, ``1h30m``), in ns."""
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        if not math.isfinite(seconds) or abs(seconds * 1e9) > 2**63 - 1:
            raise BadInput(f'cannot parse "{value}" to a valid duration. It overflows int64')
        return int(seconds * 1e9)
    if _DURATION.match(value):
        return parse_duration(value)
    raise BadInput(f'cannot parse "{value}" to a valid duration')


def _time(params: MultiDict, name: str, default: int) -> int:
    raw = params.get(name)
    return default if raw is None or raw == "" else parse_time_ns(raw)


def _duration(params: MultiDict, name: str) -> int | None:
    raw = params.get(name)
    return None if raw is None or raw == "" else parse_duration_ns(raw)


def _range(params: MultiDict, lookback_ns: int) -> tuple[int, int]:
    end = _time(params, "end", time.time_ns())
    since = _duration(params, "since")
    start = _time(params, "start", end - (since if since is not None else lookback_ns))
    return start, end


def _limit(params: MultiDict) -> int:
    raw = params.get("limit")
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    try:
        limit = int(raw)
    except ValueError:
        raise BadInput(
            f'invalid limit "{raw}": strconv.Atoi: parsing "{raw}": invalid syntax'
        ) from None
    if limit <= 0:
        raise BadInput("limit must be a positive value")
    if limit > MAX_ENTRIES_LIMIT:
        raise BadInput(
            f"max entries limit per query exceeded, limit > max_entries_limit "
            f"({limit} > {MAX_ENTRIES_LIMIT})"
        )
    return limit


def _delay_for(raw: str) -> int:
    """A tail's ``delay_for`` in whole seconds (0 when absent), read as Go's ``strconv.Atoi``."""
    if not raw:
        return 0
    if not re.fullmatch(r"[+-]?[0-9]+", raw):
        raise BadInput(f'strconv.Atoi: parsing "{raw}": invalid syntax')
    return int(raw)


def _direction(params: MultiDict) -> str:
    raw = params.get("direction") or "backward"
    direction = raw.lower()
    if direction not in ("forward", "backward"):
        raise BadInput(f"invalid direction '{raw}'")
    return direction


def _query(params: MultiDict) -> str:
    query = str(params.get("query") or "")
    if not query:
        raise BadInput("query parameter is required")
    return query


def _selector(text: str) -> tuple[Matcher, ...]:
    """A stream selector (``{app="a"}``), as the metadata endpoints take it."""
    expr = parse_query(text)
    if not isinstance(expr, LogQuery):
        raise BadInput(f"only stream selectors are accepted here: {text}")
    return expr.matchers


# -- response shapes ---------------------------------------------------------------------------
def _seconds(ns: int) -> float | int:
    # Loki writes sample times as seconds with millisecond precision.
    ms = ns // 1_000_000
    return ms // 1000 if ms % 1000 == 0 else ms / 1000


def _metric(labels: tuple[tuple[str, str], ...]) -> dict[str, str]:
    return dict(labels)


def _stats(stats: Stats, returned: int) -> dict[str, Any]:
    exec_time = stats.exec_seconds

    def per_second(n: int) -> int:
        return int(n / exec_time) if exec_time > 0 else 0

    return {
        "summary": {
            "bytesProcessedPerSecond": per_second(stats.bytes),
            "linesProcessedPerSecond": per_second(stats.lines),
            "totalBytesProcessed": stats.bytes,
            "totalLinesProcessed": stats.lines,
            "execTime": exec_time,
            "queueTime": 0,
            "subqueries": 0,
            "totalEntriesReturned": returned,
            "splits": 0,
            "shards": 0,
            "totalPostFilterLines": stats.post_filter_lines,
            "totalStructuredMetadataBytesProcessed": 0,
        },
        "querier": {
            "store": {
                "totalChunksRef": 0,
                "totalChunksDownloaded": 0,
                "chunksDownloadTime": 0,
                "queryReferencedStructuredMetadata": False,
                "chunk": {
                    "headChunkBytes": 0,
                    "headChunkLines": 0,
                    "decompressedBytes": stats.bytes,
                    "decompressedLines": stats.lines,
                    "compressedBytes": 0,
                    "totalDuplicates": 0,
                    "postFilterLines": stats.post_filter_lines,
                    "headChunkStructuredMetadataBytes": 0,
                    "decompressedStructuredMetadataBytes": 0,
                },
            }
        },
        "ingester": {
            "totalReached": 0,
            "totalChunksMatched": 0,
            "totalBatches": 0,
            "totalLinesSent": 0,
            "store": {"chunk": {"headChunkBytes": 0, "headChunkLines": 0}},
        },
    }


def result_json(result: QueryResult) -> dict[str, Any]:
    """A query's ``data`` block in Loki's shape."""
    data: dict[str, Any] = {"resultType": result.result_type}
    returned = 0
    if result.result_type == "streams":
        body = []
        for stream in result.streams:
            returned += len(stream.entries)
            body.append(
                {
                    "stream": _metric(stream.labels),
                    "values": [[str(ts), line] for ts, line in stream.entries],
                }
            )
        data["result"] = body
        data["encodingFlags"] = []
    elif result.result_type == "vector":
        returned = len(result.vector)
        data["result"] = [
            {"metric": _metric(labels), "value": [_seconds(ts), format_value(v)]}
            for labels, ts, v in result.vector
        ]
    elif result.result_type == "matrix":
        returned = sum(len(points) for _, points in result.matrix)
        data["result"] = [
            {
                "metric": _metric(labels),
                "values": [[_seconds(ts), format_value(v)] for ts, v in points],
            }
            for labels, points in result.matrix
        ]
    else:
        assert result.scalar is not None
        ts, value = result.scalar
        data["result"] = [_seconds(ts), format_value(value)]
    data["stats"] = _stats(result.stats, returned)
    return data


def _success(data: Any) -> Response:
    return JSONResponse({"status": "success", "data": data})


def error_response(exc: SpyglassError) -> Response:
    """A Spyglass error as Loki answers it: a plain-text body with the HTTP status."""
    if isinstance(exc, QueryTimeout):
        return PlainTextResponse(
            "Request timed out, decrease the duration of the request or add more label "
            "matchers (prefer exact match over regex match) to reduce the amount of data "
            "processed.",
            status_code=504,
        )
    if isinstance(exc, (BadInput, QueryError)):
        return PlainTextResponse(str(exc), status_code=400)
    if isinstance(exc, Unavailable):
        return PlainTextResponse(str(exc), status_code=503)
    return PlainTextResponse(str(exc), status_code=500)


def _guarded(
    handler: Callable[[Request], Awaitable[Response]],
) -> Callable[[Request], Awaitable[Response]]:
    async def run(request: Request) -> Response:
        try:
            return await handler(request)
        except SpyglassError as exc:
            return error_response(exc)

    run.__name__ = handler.__name__
    run.__doc__ = handler.__doc__
    return run


def _new_entries(
    result: QueryResult, since: int, sent: set[tuple[tuple[tuple[str, str], ...], str]]
) -> tuple[list[dict[str, Any]], int, set[tuple[tuple[tuple[str, str], ...], str]]]:
    """The streams of ``result`` without the entries a tail already sent, the newest timestamp
    sent, and the entries sent at that timestamp (a read starts there again: lines of the same
    nanosecond may still arrive)."""
    streams = []
    newest = since
    for stream in result.streams:
        values = [
            [str(ts), line]
            for ts, line in stream.entries
            if not (ts == since and (stream.labels, line) in sent)
        ]
        if values:
            streams.append({"stream": _metric(stream.labels), "values": values})
            newest = max(newest, *(int(ts) for ts, _ in values))
    at_newest = {
        (stream.labels, line)
        for stream in result.streams
        for ts, line in stream.entries
        if ts == newest
    }
    if newest == since:
        at_newest |= sent
    return streams, newest, at_newest


def _stream_totals(
    reader: LogReader, matchers: tuple[Matcher, ...], start_ns: int, end_ns: int
) -> dict[tuple[tuple[str, str], ...], tuple[int, int]]:
    """Entries and line bytes per stream the selector covers in ``[start_ns, end_ns)``.

    Counted where the lines are stored when the reader is a ``LogCounter``: Grafana's query
    editor asks ``index/stats`` for the selectors of the query being edited, and reading every
    line of the range into the server for two sums (no line limit applies to these routes) took
    71 s and a 1.9 GB peak for a million lines, where counting takes 1-2 s (bench/README.md).
    Other readers (the in-memory store) have their lines read.
    """
    totals: dict[tuple[tuple[str, str], ...], tuple[int, int]] = {}
    if end_ns <= start_ns:
        return totals
    if isinstance(reader, LogCounter):
        width = end_ns - start_ns
        # One window, (end - 1 - width, end - 1]: exactly [start, end) in whole nanoseconds.
        request = LogCountRequest(matchers, (), end_ns - 1, width, 1, width, keep=())
        for counts in reader.count_logs(request):
            entries, size = totals.get(counts.stream, (0, 0))
            totals[counts.stream] = (entries + counts.lines, size + counts.line_bytes)
        return totals
    for r in reader.select_logs(LogSelection(matchers, start_ns, end_ns, direction="forward")):
        entries, size = totals.get(r.stream, (0, 0))
        totals[r.stream] = (entries + 1, size + len(r.line.encode("utf-8", "surrogatepass")))
    return totals


# -- the component -----------------------------------------------------------------------------
@dataclass
class LokiAPI:
    """The ``/loki/api/v1`` query routes over a ``LogReader``."""

    reader: LogReader
    options: EngineOptions = field(default_factory=EngineOptions)
    name: str = "loki-api"
    tail_poll_s: float = 1.0  # how often a tail reads what arrived since its last read

    def __post_init__(self) -> None:
        self.engine = Engine(self.reader, self.options)

    async def start(self) -> None:
        """Nothing to start: every request reads through the ``LogReader``."""

    async def stop(self) -> None:
        """Nothing to stop."""

    def collectors(self) -> list[Any]:
        """No collectors of its own."""
        return []

    def routes(self) -> list[BaseRoute]:
        """Starlette routes, GET and POST alike as Loki serves them."""
        both = ["GET", "POST"]
        table: list[tuple[str, Callable[[Request], Awaitable[Response]]]] = [
            ("/loki/api/v1/query", self.query),
            ("/loki/api/v1/query_range", self.query_range),
            ("/loki/api/v1/labels", self.labels),
            # Loki's older name for the same list, which older Grafana versions call.
            ("/loki/api/v1/label", self.labels),
            ("/loki/api/v1/label/{name}/values", self.label_values),
            ("/loki/api/v1/series", self.series),
            ("/loki/api/v1/index/stats", self.index_stats),
            ("/loki/api/v1/index/volume", self.index_volume),
            ("/loki/api/v1/format_query", self.format_query),
            ("/loki/api/v1/status/buildinfo", self.buildinfo),
        ]
        routes: list[BaseRoute] = [Route(path, _guarded(fn), methods=both) for path, fn in table]
        routes.append(WebSocketRoute("/loki/api/v1/tail", self.tail))
        return routes

    async def tail(self, websocket: WebSocket) -> None:
        """``/loki/api/v1/tail`` (a websocket): the lines of a log query as they arrive.

        As Loki: first the ``limit`` lines since ``start`` (default an hour ago), then every
        line newer than the last one sent, read ``delay_for`` seconds (at most 5) behind now so
        late-arriving lines are not skipped, each message ``{"streams": [...]}``. A bad query
        closes the socket with the error as its reason.
        """
        await websocket.accept()
        try:
            params = websocket.query_params
            query = params.get("query", "")
            if not query:
                raise BadInput("query must not be empty")
            if not isinstance(self.engine.parse(query), LogQuery):
                raise BadInput("tail only supports log queries, not metric queries")
            delay = _delay_for(params.get("delay_for") or "")
            if not 0 <= delay <= MAX_TAIL_DELAY_S:
                raise BadInput(f"delay_for can't be greater than {MAX_TAIL_DELAY_S}")
            limit = _limit(MultiDict(params))
            now = time.time_ns()
            start = _time(MultiDict(params), "start", now - QUERY_LOOKBACK_NS)
        except SpyglassError as exc:
            await websocket.close(code=1008, reason=str(exc)[:120])
            return
        closed = asyncio.Event()

        async def watch() -> None:
            with contextlib.suppress(WebSocketDisconnect):
                while True:
                    message = await websocket.receive()
                    if message["type"] == "websocket.disconnect":
                        break
            closed.set()

        watcher = asyncio.create_task(watch())
        sent_at_last: set[tuple[tuple[tuple[str, str], ...], str]] = set()
        last = start
        first = True
        try:
            while not closed.is_set():
                end = time.time_ns() - delay * 10**9
                if end > last:
                    result = await run_in_threadpool(
                        self.engine.range,
                        query,
                        last,
                        end,
                        10**9,
                        direction="forward",
                        limit=limit if first else TAIL_BATCH,
                    )
                    streams, last, sent_at_last = _new_entries(result, last, sent_at_last)
                    if streams:
                        await websocket.send_json({"streams": streams})
                    first = False
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(closed.wait(), self.tail_poll_s)
        except SpyglassError as exc:
            with contextlib.suppress(RuntimeError, WebSocketDisconnect):
                await websocket.close(code=1011, reason=str(exc)[:120])
        except WebSocketDisconnect:
            pass
        finally:
            watcher.cancel()

    async def query(self, request: Request) -> Response:
        """``/loki/api/v1/query``: a metric query at ``time`` (default now)."""
        params = await read_params(request)
        query = _query(params)
        at = _time(params, "time", time.time_ns())
        limit = _limit(params)
        direction = _direction(params)
        result = await run_in_threadpool(
            self.engine.instant, query, at, direction=direction, limit=limit
        )
        return _success(result_json(result))

    async def query_range(self, request: Request) -> Response:
        """``/loki/api/v1/query_range``: streams for a log query, a matrix for a metric one."""
        params = await read_params(request)
        query = _query(params)
        start, end = _range(params, QUERY_LOOKBACK_NS)
        limit = _limit(params)
        direction = _direction(params)
        if end < start:
            raise BadInput("end timestamp must not be before or equal to start time")
        step = _duration(params, "step")
        if step is None:
            # Loki's default: about 250 points, at least one second apart.
            step = max(math.floor((end - start) / 1e9 / 250), 1) * 10**9
        if step <= 0:
            raise BadInput(
                "zero or negative query resolution step widths are not accepted. "
                "Try a positive integer"
            )
        if (end - start) // step > MAX_POINTS_PER_SERIES:
            raise BadInput(
                "exceeded maximum resolution of 11,000 points per time series. Try increasing "
                "the value of the step parameter"
            )
        interval = _duration(params, "interval") or 0
        if interval < 0:
            raise BadInput("interval must be >= 0")
        result = await run_in_threadpool(
            self.engine.range,
            query,
            start,
            end,
            step,
            interval_ns=interval,
            direction=direction,
            limit=limit,
        )
        return _success(result_json(result))

    async def labels(self, request: Request) -> Response:
        """``/loki/api/v1/labels``: stream label names in the range (default: last 6 hours)."""
        params = await read_params(request)
        start, end = _range(params, METADATA_LOOKBACK_NS)
        query = params.get("query")
        if query:
            matchers = _selector(query)
            streams = await run_in_threadpool(self.reader.log_streams, [matchers], start, end)
            return _success(sorted({name for s in streams for name, _ in s}))
        names = await run_in_threadpool(self.reader.log_label_names, start, end)
        return _success(names)

    async def label_values(self, request: Request) -> Response:
        """``/loki/api/v1/label/<name>/values``: values of one stream label."""
        params = await read_params(request)
        start, end = _range(params, METADATA_LOOKBACK_NS)
        name = request.path_params["name"]
        query = params.get("query")
        matchers = _selector(query) if query else ()
        values = await run_in_threadpool(self.reader.log_label_values, name, matchers, start, end)
        return _success(values)

    async def series(self, request: Request) -> Response:
        """``/loki/api/v1/series``: streams matching any ``match[]`` (or logcli's ``match``)."""
        params = await read_params(request)
        start, end = _range(params, METADATA_LOOKBACK_NS)
        raw = params.getlist("match[]") + params.getlist("match")
        matcher_sets = [_selector(text) for text in raw]
        streams = await run_in_threadpool(self.reader.log_streams, matcher_sets, start, end)
        return _success([dict(s) for s in streams])

    async def index_stats(self, request: Request) -> Response:
        """``/loki/api/v1/index/stats``: streams, entries and bytes a selector covers.

        Spyglass stores no chunks; ``chunks`` counts the streams (one per stream).
        """
        params = await read_params(request)
        start, end = _range(params, QUERY_LOOKBACK_NS)
        matchers = _selector(_query(params))
        totals = await run_in_threadpool(_stream_totals, self.reader, matchers, start, end)
        return JSONResponse(
            {
                "streams": len(totals),
                "chunks": len(totals),
                "entries": sum(entries for entries, _ in totals.values()),
                "bytes": sum(size for _, size in totals.values()),
            }
        )

    async def index_volume(self, request: Request) -> Response:
        """``/loki/api/v1/index/volume``: bytes per series of the selector's labels (or of
        ``targetLabels``), largest first, cut to ``limit``."""
        params = await read_params(request)
        start, end = _range(params, QUERY_LOOKBACK_NS)
        matchers = _selector(_query(params))
        limit = _limit(params)
        aggregate_by = params.get("aggregateBy") or "series"
        if aggregate_by == "labels":
            raise BadInput("aggregateBy=labels is not supported by Spyglass")
        if aggregate_by != "series":
            raise BadInput("invalid aggregation option")
        targets = [t for t in (params.get("targetLabels") or "").split(",") if t]
        names = targets or list(dict.fromkeys(m.name for m in matchers))
        totals = await run_in_threadpool(_stream_totals, self.reader, matchers, start, end)
        volume: dict[tuple[tuple[str, str], ...], int] = {}
        for stream, (_, size) in totals.items():
            key = tuple((k, v) for k, v in stream if k in names)
            volume[key] = volume.get(key, 0) + size
        ranked = sorted(volume.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
        return _success(
            {
                "resultType": "vector",
                "result": [
                    {"metric": dict(k), "value": [_seconds(end), str(v)]} for k, v in ranked
                ],
            }
        )

    async def format_query(self, request: Request) -> Response:
        """``/loki/api/v1/format_query``: the query printed back in canonical form."""
        params = await read_params(request)
        query = _query(params)
        return _success(str(parse_query(query)))

    async def buildinfo(self, request: Request) -> Response:
        """``/loki/api/v1/status/buildinfo``: the Loki version Spyglass answers like."""
        del request
        return JSONResponse(
            {
                "version": LOKI_API_VERSION,
                "revision": "",
                "branch": "",
                "buildUser": "",
                "buildDate": "",
                "goVersion": "",
                "spyglassVersion": __version__,
            }
        )


__all__ = ["LokiAPI", "error_response", "parse_duration_ns", "parse_time_ns", "result_json"]
