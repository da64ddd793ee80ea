"""Grafana's dashboard HTTP API, so Grafana's own tooling can import and export dashboards.

Routes (Grafana's paths, bodies and status codes):

- ``POST /api/dashboards/db``: ``{"dashboard", "overwrite", "folderUid", "message"}`` →
  ``{"id", "uid", "url", "status": "success", "version", "slug"}``; 412
  ``{"message", "status": "version-mismatch" | "name-exists"}``; 400 ``{"message"}`` for what
  is not a dashboard; 413 for a body over the size limit.
- ``POST /api/dashboards/import``: ``{"dashboard", "overwrite", "inputs", "folderUid"}``, the
  dashboard's ``${DS_...}`` references replaced by the ``inputs``' values (a data source input
  left out takes Spyglass's Prometheus) → Grafana's import result ``{"uid", "title",
  "imported", "importedUrl", "dashboardId", ...}``; errors as the save's.
- ``GET /api/dashboards/uid/<uid>``: ``{"dashboard", "meta"}``; 404 ``{"message":
  "Dashboard not found"}``.
- ``DELETE /api/dashboards/uid/<uid>``: ``{"title", "message", "id"}``.
- ``GET /api/search?query=&tag=&type=dash-db&limit=``: Grafana's search hits.

And one of Spyglass's own, behind the dashboard page:
``GET /api/dashboards/uid/<uid>/view?from=&to=&var-<name>=``: the dashboard ready to draw
(``spyglass.dashboards.dashboard_view``): variables resolved, repeats expanded, PromQL
interpolated with ``$__interval``/``$__rate_interval``, each target's step.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from spyglass.core.errors import BadInput, LimitExceeded, SpyglassError, Unavailable
from spyglass.dashboards import (
    DEFAULT_FROM,
    DEFAULT_SCRAPE_INTERVAL_S,
    DEFAULT_TO,
    MAX_DASHBOARD_BYTES,
    DashboardConflict,
    DashboardError,
    DashboardRefused,
    DashboardService,
    DashboardTooLarge,
    apply_inputs,
    dashboard_view,
    decode_json,
    input_values,
    parse_range,
    slugify,
)
from spyglass.server.api._selectors import parse_selector
from spyglass.server.api.prometheus import QueryEngine
from spyglass.storage.ports import Querier

# The save request wraps the dashboard in a small envelope (overwrite, folderUid, message).
_ENVELOPE_BYTES = 64 * 1024


def _error(code: int, message: str, status: str = "") -> JSONResponse:
    """Grafana's error body: ``{"message"}``, plus ``status`` for 412s."""
    body = {"message": message, **({"status": status} if status else {})}
    return JSONResponse(body, status_code=code)


class PrometheusVariables:
    """Template variable queries answered by the PromQL engine and the series store."""

    def __init__(self, querier: Querier, engine: QueryEngine) -> None:
        self.querier = querier
        self.engine = engine

    def label_values(self, label: str, match: str | None, start_ms: int, end_ms: int) -> list[str]:
        """Values of ``label`` over series matching ``match``."""
        sets = [parse_selector(match)] if match else []
        return self.querier.label_values(label, sets, start_ms, end_ms)

    def label_names(self, match: str | None, start_ms: int, end_ms: int) -> list[str]:
        """Label names over series matching ``match``."""
        sets = [parse_selector(match)] if match else []
        return self.querier.label_names(sets, start_ms, end_ms)

    def instant(self, expr: str, time_ms: int) -> list[tuple[dict[str, str], float]]:
        """An instant query's series and values."""
        outcome = self.engine.instant_query(expr, time_ms)
        if outcome.result_type == "vector":
            return [(dict(labels), float(v)) for labels, v in outcome.vector]
        if outcome.result_type == "scalar" and outcome.scalar is not None:
            return [({}, float(outcome.scalar))]
        return []


class GrafanaAPI:
    """The dashboard routes over a ``DashboardService`` (see the module docstring)."""

    def __init__(
        self,
        service: DashboardService,
        variables: PrometheusVariables,
        *,
        clock: Callable[[], float] = time.time,
        scrape_interval_s: Callable[[], float] = lambda: DEFAULT_SCRAPE_INTERVAL_S,
    ) -> None:
        """``scrape_interval_s`` is what Grafana calls the data source's scrape interval
        (``timeInterval``): the server passes the interval it scrapes at."""
        self.service = service
        self.variables = variables
        self.clock = clock
        self.scrape_interval_s = scrape_interval_s

    def routes(self) -> Sequence[BaseRoute]:
        """Grafana's dashboard and search routes, and the dashboard page's view."""
        return [
            Route("/api/dashboards/db", self.save, methods=["POST"]),
            Route("/api/dashboards/import", self.import_, methods=["POST"]),
            Route("/api/dashboards/uid/{uid}", self.get, methods=["GET"]),
            Route("/api/dashboards/uid/{uid}", self.delete, methods=["DELETE"]),
            Route("/api/dashboards/uid/{uid}/view", self.view, methods=["GET"]),
            Route("/api/search", self.search, methods=["GET"]),
        ]

    async def save(self, request: Request) -> Response:
        """``POST /api/dashboards/db``."""
        try:
            envelope = await _envelope(request)
            folder = envelope.get("folderUid") or ""
            message = envelope.get("message") or ""
            result = await run_in_threadpool(
                self.service.save,
                envelope["dashboard"],
                overwrite=envelope.get("overwrite") is True,
                folder_uid=folder if isinstance(folder, str) else "",
                message=message if isinstance(message, str) else "",
            )
        except ClientDisconnect:
            return Response(status_code=400)
        except LimitExceeded as exc:
            return _error(413, str(exc))
        except DashboardConflict as exc:
            return _error(412, str(exc), status=exc.status)
        except (BadInput, DashboardRefused) as exc:
            return _error(400, str(exc))
        except Unavailable as exc:
            return _error(503, str(exc))
        return JSONResponse(result.as_json())

    async def import_(self, request: Request) -> Response:
        """``POST /api/dashboards/import``: Grafana's import, inputs put in."""
        try:
            envelope = await _envelope(request)
            dashboard = envelope["dashboard"]
            if not isinstance(dashboard, dict):
                raise DashboardError("a dashboard is a JSON object")
            inputs = envelope.get("inputs")
            if inputs is not None and not isinstance(inputs, list):
                raise DashboardError("inputs must be a list")
            dashboard = apply_inputs(dashboard, input_values(dashboard, inputs or []))
            # Grafana's import makes a new dashboard unless the uid is kept: the id goes.
            dashboard.pop("id", None)
            folder = envelope.get("folderUid") or ""
            result = await run_in_threadpool(
                self.service.save,
                dashboard,
                overwrite=envelope.get("overwrite") is True,
                folder_uid=folder if isinstance(folder, str) else "",
                message="",
            )
        except ClientDisconnect:
            return Response(status_code=400)
        except LimitExceeded as exc:
            return _error(413, str(exc))
        except DashboardConflict as exc:
            return _error(412, str(exc), status=exc.status)
        except (BadInput, DashboardRefused) as exc:
            return _error(400, str(exc))
        except Unavailable as exc:
            return _error(503, str(exc))
        title = str(dashboard.get("title", ""))
        plugin = envelope.get("pluginId")
        path = envelope.get("path")
        return JSONResponse(
            {
                "uid": result.uid,
                "pluginId": plugin if isinstance(plugin, str) else "",
                "title": title,
                "imported": True,
                "importedUri": f"db/{slugify(title)}",
                "importedUrl": result.url,
                "slug": result.slug,
                "dashboardId": result.id,
                "folderId": 0,
                "folderUid": result.folder_uid,
                "description": str(dashboard.get("description") or ""),
                "path": path if isinstance(path, str) else "",
                "removed": False,
            }
        )

    async def get(self, request: Request) -> Response:
        """``GET /api/dashboards/uid/<uid>``."""
        found = await run_in_threadpool(self.service.get, request.path_params["uid"])
        if found is None:
            return _error(404, "Dashboard not found")
        return JSONResponse({"dashboard": found.dashboard, "meta": found.meta})

    async def delete(self, request: Request) -> Response:
        """``DELETE /api/dashboards/uid/<uid>``."""
        try:
            gone = await run_in_threadpool(self.service.delete, request.path_params["uid"])
        except DashboardRefused as exc:
            return _error(400, str(exc))
        if gone is None:
            return _error(404, "Dashboard not found")
        return JSONResponse(
            {
                "title": gone.title,
                "message": f"Dashboard {gone.title} deleted",
                "id": gone.dashboard.get("id"),
            }
        )

    async def search(self, request: Request) -> Response:
        """``GET /api/search``: dashboards only (Spyglass has no folders to list)."""
        params = request.query_params
        kind = params.get("type", "")
        if kind and kind != "dash-db":
            return JSONResponse([])
        try:
            limit = int(params.get("limit", "1000") or 1000)
        except ValueError:
            return _error(400, "limit must be a number")
        hits = await run_in_threadpool(
            self.service.search,
            params.get("query", ""),
            tuple(params.getlist("tag")),
            max(min(limit, 5000), 1),
        )
        uids = set(params.getlist("dashboardUIDs"))
        if uids:
            hits = [h for h in hits if h["uid"] in uids]
        return JSONResponse(hits)

    async def view(self, request: Request) -> Response:
        """The dashboard ready to draw, for the page's script."""
        found = await run_in_threadpool(self.service.get, request.path_params["uid"])
        if found is None:
            return _error(404, "Dashboard not found")
        params = request.query_params
        saved = found.dashboard.get("time")
        saved_time = saved if isinstance(saved, dict) else {}
        start = params.get("from") or str(saved_time.get("from") or DEFAULT_FROM)
        end = params.get("to") or str(saved_time.get("to") or DEFAULT_TO)
        url_values = {
            k.removeprefix("var-"): params.getlist(k) for k in params if k.startswith("var-")
        }
        try:
            lo, hi = parse_range(start, end, int(self.clock() * 1000))
            data = await run_in_threadpool(
                lambda: dashboard_view(
                    found.dashboard,
                    start_ms=lo,
                    end_ms=hi,
                    url_values=url_values,
                    source=self.variables,
                    scrape_interval_s=self.scrape_interval_s(),
                )
            )
        except DashboardError as exc:
            return _error(400, str(exc))
        except SpyglassError as exc:
            return _error(503 if isinstance(exc, Unavailable) else 400, str(exc))
        data["time"] = {"from": start, "to": end}
        data["meta"] = found.meta
        return JSONResponse(data)


async def _envelope(request: Request) -> dict[str, Any]:
    """The save or import request's JSON object, which must carry a ``dashboard``."""
    body = await _read_limited(request, MAX_DASHBOARD_BYTES + _ENVELOPE_BYTES)
    envelope = decode_json(body) if len(body) <= MAX_DASHBOARD_BYTES else None
    if envelope is None:
        raise DashboardTooLarge(
            "max_dashboard_bytes",
            MAX_DASHBOARD_BYTES,
            f"dashboard is larger than the limit of {MAX_DASHBOARD_BYTES} bytes",
        )
    if not isinstance(envelope, dict) or "dashboard" not in envelope:
        raise DashboardError('the body must be an object with a "dashboard" field')
    return envelope


async def _read_limited(request: Request, limit: int) -> bytes:
    """The body, or ``LimitExceeded`` as soon as it passes ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise LimitExceeded("max_dashboard_bytes", MAX_DASHBOARD_BYTES, _too_large(int(declared)))
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise LimitExceeded("max_dashboard_bytes", MAX_DASHBOARD_BYTES, _too_large(size))
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(size: int) -> str:
    return f"request body of {size} bytes is over the dashboard limit of {MAX_DASHBOARD_BYTES}"


__all__ = ["GrafanaAPI", "PrometheusVariables"]
