"""Jaeger's HTTP query API over a ``TraceReader``: what the Jaeger UI and Grafana's Jaeger data
source call.

- ``GET /api/services``: service names;
- ``GET /api/services/{service}/operations``: the service's operation names (any span kind);
- ``GET /api/operations?service=&spanKind=``: ``{"name", "spanKind"}`` items;
- ``GET /api/traces?service=&operation=&tags=&minDuration=&maxDuration=&limit=&start=&end=``:
  a search (start and end in microseconds; without ``start``, ``end`` minus ``lookback`` when
  that is a Go duration, else the last two days, as Jaeger); or ``?traceID=...`` (repeated)
  for those traces, a ``{"msg": "trace not found", "traceID"}`` error for each unknown one;
- ``GET /api/traces/{traceID}``: one trace, 404 ``trace not found`` when unknown;
- ``GET /api/dependencies?endTs=&lookback=`` (milliseconds; endTs now and lookback 24 h by
  default, ``service=`` keeps the edges touching it): ``{"parent", "child", "callCount"}`` items.

Every answer is Jaeger's envelope ``{"data", "total", "limit", "offset", "errors"}``, with the
counts Jaeger puts there (``total`` on the two lists, 0 elsewhere); errors are the same envelope
with ``errors: [{"code", "msg"}]`` and Jaeger's status (400 for a bad parameter, 404, 500) and
messages. Reads run in a worker thread.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from spyglass.core.errors import BadInput, SpyglassError
from spyglass.core.spans import Span
from spyglass.storage.ports import TraceQuery, TraceReader
from spyglass.traces import (
    Dependency,
    jaeger_error,
    jaeger_response,
    jaeger_trace,
    parse_go_duration,
    parse_tags,
    parse_trace_id,
)

DEFAULT_LIMIT = 100  # Jaeger's defaultQueryLimit
DEFAULT_TRACE_LOOKBACK_NS = 2 * 86_400 * 10**9  # Jaeger's defaultTraceQueryLookbackDuration
DEFAULT_DEPENDENCY_LOOKBACK_MS = 86_400_000  # Jaeger's defaultDependencyLookbackDuration
_KINDS = {"server": "Server", "client": "Client", "producer": "Producer",
          "consumer": "Consumer", "internal": "Internal", "unspecified": "Unspecified"}  # fmt: skip
_JAEGER_KINDS = {v: k for k, v in _KINDS.items() if k != "unspecified"}


@dataclass(frozen=True)
class JaegerAPI:
    """Jaeger's query routes over ``reader``; ``clock`` gives now in nanoseconds."""

    reader: TraceReader
    clock: Callable[[], int] = time.time_ns

    def routes(self) -> list[BaseRoute]:
        """The query API under ``/api``, where Jaeger serves it."""
        return [
            Route("/api/services", self.services, methods=["GET"]),
            Route(
                "/api/services/{service:path}/operations", self.service_operations, methods=["GET"]
            ),
            Route("/api/operations", self.operations, methods=["GET"]),
            Route("/api/traces", self.search, methods=["GET"]),
            Route("/api/traces/{trace_id}", self.get_trace, methods=["GET"]),
            Route("/api/dependencies", self.dependencies, methods=["GET"]),
        ]

    async def services(self, request: Request) -> Response:
        """Every service that sent spans."""
        del request
        return await self._answer(lambda: _listed(self.reader.services()))

    async def service_operations(self, request: Request) -> Response:
        """The service's operation names, each once, whatever its span kind."""
        service = request.path_params["service"]

        def read() -> dict[str, Any]:
            names = sorted({op.name for op in self.reader.operations(service)})
            return _listed(names)

        return await self._answer(read)

    async def operations(self, request: Request) -> Response:
        """The service's operations with their span kinds (``spanKind`` keeps one kind)."""
        service = request.query_params.get("service", "")
        if not service:
            return _error(400, "parameter 'service' is required")
        wanted = request.query_params.get("spanKind", "")
        kind = _KINDS.get(wanted, wanted)

        def read() -> dict[str, Any]:
            items = [
                {"name": op.name, "spanKind": _JAEGER_KINDS.get(op.kind, "")}
                for op in self.reader.operations(service, kind)
            ]
            return _listed(items)

        return await self._answer(read)

    async def search(self, request: Request) -> Response:
        """A trace search, or the traces named by ``traceID`` parameters."""
        params = request.query_params
        try:
            ids = [_trace_id(t, "cannot parse traceID param: ") for t in params.getlist("traceID")]
            query = self._query(request)
        except BadInput as exc:
            return _error(400, str(exc))
        if ids:
            return await self._answer(lambda: self._by_ids(ids))
        if not query.service:
            return _error(400, "parameter 'service' is required")

        def read() -> dict[str, Any]:
            traces = self.reader.find_traces(query)
            return jaeger_response([jaeger_trace(t) for t in traces], total=0)

        return await self._answer(read)

    async def get_trace(self, request: Request) -> Response:
        """One trace by id; 404 when no span of it is stored."""
        try:
            trace_id = parse_trace_id(request.path_params["trace_id"])
        except BadInput as exc:
            return _error(400, str(exc))
        try:
            spans: list[Span] = await run_in_threadpool(self.reader.trace, trace_id)
        except BadInput as exc:
            return _error(400, str(exc))
        except SpyglassError as exc:
            return _error(500, str(exc))
        if not spans:
            return _error(404, "trace not found")
        return JSONResponse(jaeger_response([jaeger_trace(spans)], total=0))

    async def dependencies(self, request: Request) -> Response:
        """Calls between services in the ``lookback`` milliseconds up to ``endTs``."""
        params = request.query_params
        try:
            # Both integers of milliseconds, as Jaeger reads them: endTs defaults to now.
            end_ns = _int_param(params, "endTs", self.clock() // 1_000_000) * 1_000_000
            lookback_ms = _int_param(params, "lookback", DEFAULT_DEPENDENCY_LOOKBACK_MS)
        except BadInput as exc:
            return _error(400, str(exc))
        service = params.get("service", "")
        start_ns = end_ns - lookback_ms * 1_000_000

        def read() -> dict[str, Any]:
            calls = self.reader.service_calls(start_ns, end_ns)
            edges = [
                Dependency(c.parent, c.child, c.calls).as_jaeger()
                for c in calls
                if not service or service in (c.parent, c.child)
            ]
            return jaeger_response(edges, total=0)

        return await self._answer(read)

    # -- helpers ----------------------------------------------------------------------------
    def _query(self, request: Request) -> TraceQuery:
        params = request.query_params
        now = self.clock()
        end = _micros(params, "end", now)
        start_text = params.get("start", "")
        if start_text:
            start = _micros(params, "start", now)
        else:
            start = now - DEFAULT_TRACE_LOOKBACK_NS
            lookback = params.get("lookback", "")
            if lookback and lookback != "custom":
                # Jaeger ignores lookback; an unreadable one changes nothing here either.
                with contextlib.suppress(BadInput):
                    start = end - parse_go_duration(lookback)
        tags = parse_tags(params.getlist("tag"), params.getlist("tags"))
        limit_text = params.get("limit", "")
        # Jaeger reads a 32-bit limit and gives the bare strconv error, without the param's name.
        limit = _go_int(limit_text, bits=32) if limit_text else DEFAULT_LIMIT
        min_d = _duration(params, "minDuration")
        max_d = _duration(params, "maxDuration")
        if min_d and max_d and max_d < min_d:
            raise BadInput("'maxDuration' should be greater than 'minDuration'")
        return TraceQuery(
            service=params.get("service", ""),
            operation=params.get("operation", ""),
            start_ns=start,
            end_ns=end,
            tags=tuple(sorted(tags.items())),
            min_duration_ns=min_d or None,
            max_duration_ns=max_d or None,
            # Jaeger hands 0 (or less) to storage, which reads it as its default.
            limit=limit if limit > 0 else DEFAULT_LIMIT,
        )

    def _by_ids(self, ids: list[str]) -> dict[str, Any]:
        traces = []
        errors = []
        for trace_id in ids:
            spans = self.reader.trace(trace_id)
            if spans:
                traces.append(jaeger_trace(spans))
            else:
                errors.append({"msg": "trace not found", "traceID": trace_id})
        body = jaeger_response(traces, total=0)
        body["errors"] = errors or None
        return body

    async def _answer(self, read: Callable[[], dict[str, Any]]) -> Response:
        try:
            body = await run_in_threadpool(read)
        except BadInput as exc:
            return _error(400, str(exc))
        except SpyglassError as exc:
            return _error(500, str(exc))
        return JSONResponse(body)


def _listed(items: list[Any]) -> dict[str, Any]:
    return jaeger_response(items, total=len(items))


def _error(status: int, message: str) -> Response:
    return JSONResponse(jaeger_error(status, message), status_code=status)


def _trace_id(text: str, prefix: str) -> str:
    try:
        return parse_trace_id(text)
    except BadInput as exc:
        raise BadInput(prefix + str(exc)) from None


def _go_int(text: str, bits: int = 64) -> int:
    """An int as Go's ``strconv.ParseInt(text, 10, bits)`` reads it, with its error text."""
    body = text[1:] if text[:1] in ("+", "-") else text
    if not body.isdigit() or not body.isascii():
        raise BadInput(f'strconv.ParseInt: parsing "{text}": invalid syntax')
    value = int(text)
    if not -(2 ** (bits - 1)) <= value < 2 ** (bits - 1):
        raise BadInput(f'strconv.ParseInt: parsing "{text}": value out of range')
    return value


def _int_param(params: Any, name: str, default: int) -> int:
    """Parameter ``name`` as a Go int64 (``default`` when absent or empty), its error naming it
    as Jaeger's ``unable to parse param '<name>': ...`` does."""
    text = params.get(name, "")
    if not text:
        return default
    try:
        return _go_int(text)
    except BadInput as exc:
        raise BadInput(f"unable to parse param '{name}': {exc}") from None


def _micros(params: Any, name: str, now_ns: int) -> int:
    if not params.get(name, ""):
        return now_ns
    return _int_param(params, name, 0) * 1000


def _duration(params: Any, name: str) -> int:
    text = params.get(name, "")
    if not text:
        return 0
    try:
        return parse_go_duration(text)
    except BadInput as exc:
        raise BadInput(f"unable to parse param '{name}': {exc}") from None


__all__ = ["DEFAULT_LIMIT", "JaegerAPI"]
