"""SLOs over HTTP (Spyglass's own API): where each SLO stands, and one SLO in detail.

``GET /api/spyglass/v1/slos`` lists every SLO of ``--slo-files`` with its SLI, error budget
left (ratio and seconds) and burn rate per window; ``GET /api/spyglass/v1/slos/{id}`` adds the
burn-down over the period and the episodes that spent the budget. ``time`` (RFC 3339 or Unix
seconds, default now) asks for another moment. ``/slo-specs/{name}`` keeps specs in the state
store; ``POST /api/spyglass/v1/slo-preview`` is its dry run: it checks a spec as a ``PUT`` would
and answers the rule file it would generate and its SLOs' fields, storing nothing (the web
editor's preview and its form). Errors are ``{"status": "error", "error": ...}``; a spec's error
adds the ``file``, ``line`` and ``field`` it names.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from spyglass.core.errors import BadInput, ConfigError, SpyglassError
from spyglass.core.times import parse_api_time_ms
from spyglass.promql import Engine
from spyglass.slo import (
    SLO,
    SLOService,
    SLOStatus,
    generate_rule_file,
    parse_slo_file,
    period_text,
    status,
)

PREFIX = "/api/spyglass/v1"


def _num(v: float | None) -> float | None:
    return None if v is None else round(v, 12)


def status_json(s: SLOStatus, *, detail: bool) -> dict[str, object]:
    """One SLO's status as the API writes it."""
    slo = s.slo
    out: dict[str, object] = {
        "id": slo.id,
        "service": slo.service,
        "name": slo.name,
        "description": slo.description,
        "objective": slo.objective,
        "period": period_text(slo),
        "calendar": slo.calendar or None,
        "periodStart": s.period_start_ms / 1000,
        "time": s.time_ms / 1000,
        "sli": _num(s.sli),
        "errorBudget": _num(slo.error_budget),
        "budgetRemaining": _num(s.budget_remaining),
        "budgetRemainingSeconds": _num(s.budget_remaining_s),
        "burnRates": {w: _num(v) for w, v in s.burn_rates.items()},
        "spec": slo.spec,
        "file": slo.file,
    }
    if detail:
        out["burndown"] = [[t / 1000, _num(v)] for t, v in s.burndown]
        out["episodes"] = [
            {
                "start": e.start_ms / 1000,
                "end": e.end_ms / 1000,
                "peakBurnRate": _num(e.peak_burn_rate),
                "budgetSpent": _num(e.budget_spent),
            }
            for e in s.episodes
        ]
    return out


def spec_json(slo: SLO) -> dict[str, object]:
    """One SLO of a spec as the editor's form holds it (``/slo-preview``)."""
    return {
        "id": slo.id,
        "service": slo.service,
        "name": slo.name,
        "description": slo.description,
        "objective": slo.objective,
        "period": slo.calendar or period_text(slo),
        "errorQuery": slo.error_query,
        "totalQuery": slo.total_query,
        "errorRatioQuery": "" if slo.error_query else slo.error_ratio,
        "alertName": slo.alert_name,
        "pageLabels": slo.page.labels,
        "ticketLabels": slo.ticket.labels,
        "pageDisabled": slo.page.disable,
        "ticketDisabled": slo.ticket.disable,
        "spec": slo.spec,
    }


class SLOAPI:
    """The SLO routes over the SLO service and a PromQL engine."""

    def __init__(
        self,
        service: SLOService,
        engine: Engine,
        reload: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.service = service
        self.engine = engine
        self.reload = reload  # runs the rules again after a stored spec changed

    def routes(self) -> list[BaseRoute]:
        """The status routes and the stored specs' routes."""
        return [
            Route(PREFIX + "/slos", self.list, methods=["GET"]),
            Route(PREFIX + "/slos/{id}", self.one, methods=["GET"]),
            Route(PREFIX + "/slo-preview", self.preview, methods=["POST"]),
            Route(PREFIX + "/slo-specs", self.specs, methods=["GET"]),
            Route(PREFIX + "/slo-specs/{name}", self.spec, methods=["GET"]),
            Route(PREFIX + "/slo-specs/{name}", self.put_spec, methods=["PUT"]),
            Route(PREFIX + "/slo-specs/{name}", self.delete_spec, methods=["DELETE"]),
        ]

    async def specs(self, request: Request) -> Response:
        """The specs kept through the API: name and the SLO ids each defines."""
        stored = await asyncio.to_thread(self.service.stored)
        data = [
            {
                "name": name,
                "slos": sorted(s.id for s in self.service.slos.values() if s.file == f"api:{name}"),
            }
            for name in sorted(stored)
        ]
        return JSONResponse({"status": "success", "data": data})

    async def spec(self, request: Request) -> Response:
        """One stored spec's text, as it was put."""
        text = (await asyncio.to_thread(self.service.stored)).get(request.path_params["name"])
        if text is None:
            return _error(f"no SLO spec {request.path_params['name']!r}", 404)
        return PlainTextResponse(text, media_type="application/yaml")

    async def put_spec(self, request: Request) -> Response:
        """Check and keep a Sloth or OpenSLO spec (the body, YAML or JSON), then run its rules."""
        raw = await request.body()
        try:
            text = raw.decode("utf-8")
            slos = await asyncio.to_thread(self.service.put, request.path_params["name"], text)
        except UnicodeDecodeError:
            return _error("the spec must be UTF-8 text", 400)
        except (ConfigError, BadInput) as exc:
            return _spec_error(exc)
        if self.reload is not None:
            await self.reload()
        return JSONResponse({"status": "success", "data": {"slos": [s.id for s in slos]}})

    async def preview(self, request: Request) -> Response:
        """Check a spec (the body) as ``PUT /slo-specs/{name}`` would and answer the rule file
        it generates and its SLOs, keeping nothing. ``name`` defaults to the first SLO's id."""
        raw = await request.body()
        try:
            text = raw.decode("utf-8")
            name = request.query_params.get("name", "")

            def check() -> tuple[str, list[SLO]]:
                chosen = name or next((s.id for s in parse_slo_file(text, "api:")), "")
                return chosen, self.service.check(chosen, text)

            name, slos = await asyncio.to_thread(check)
            rules = generate_rule_file(slos)
        except UnicodeDecodeError:
            return _error("the spec must be UTF-8 text", 400)
        except (ConfigError, BadInput) as exc:
            return _spec_error(exc)
        data = {"name": name, "slos": [spec_json(s) for s in slos], "rules": rules}
        return JSONResponse({"status": "success", "data": data})

    async def delete_spec(self, request: Request) -> Response:
        """Forget a stored spec and its rules."""
        gone = await asyncio.to_thread(self.service.delete, request.path_params["name"])
        if not gone:
            return _error(f"no SLO spec {request.path_params['name']!r}", 404)
        if self.reload is not None:
            await self.reload()
        return Response(status_code=204)

    def _time(self, request: Request) -> int:
        text = request.query_params.get("time")
        return parse_api_time_ms(text) if text else int(time.time() * 1000)

    async def list(self, request: Request) -> Response:
        """Every SLO's status."""
        try:
            now = self._time(request)
            slos = list(self.service.slos.values())
            found = await asyncio.to_thread(
                lambda: [status_json(status(s, self.engine, now), detail=False) for s in slos]
            )
        except SpyglassError as exc:
            return _error(str(exc), 400 if isinstance(exc, BadInput) else 500)
        return JSONResponse({"status": "success", "data": found})

    async def one(self, request: Request) -> Response:
        """One SLO's status with its burn-down and episodes."""
        slo = self.service.slos.get(request.path_params["id"])
        if slo is None:
            return _error(f"no SLO {request.path_params['id']!r}", 404)
        try:
            now = self._time(request)
            found = await asyncio.to_thread(status, slo, self.engine, now, detail=True)
        except SpyglassError as exc:
            return _error(str(exc), 400 if isinstance(exc, BadInput) else 500)
        return JSONResponse({"status": "success", "data": status_json(found, detail=True)})


def _error(message: str, code: int) -> Response:
    return JSONResponse({"status": "error", "error": message}, status_code=code)


def _spec_error(exc: ConfigError | BadInput) -> Response:
    body: dict[str, object] = {"status": "error", "error": str(exc)}
    if isinstance(exc, ConfigError):
        body.update(file=exc.file, line=exc.line, field=exc.field, message=exc.message)
    return JSONResponse(body, status_code=400)


__all__ = ["SLOAPI", "spec_json", "status_json"]
