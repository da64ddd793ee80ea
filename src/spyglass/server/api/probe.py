"""The blackbox exporter's ``/probe`` endpoint, and the state of the probes Spyglass runs.

``GET /probe?target=<t>&module=<m>`` answers exactly what the blackbox exporter answers (the
probe's gauges in the text exposition format, errors as plain-text 400s), so the usual
``prometheus.yml`` recipe that relabels ``__address__`` into ``__param_target`` and scrapes a
blackbox exporter can scrape Spyglass instead; ``debug=true`` returns the probe's log and
gauges as text, and ``hostname=`` sets the HTTP Host header. ``GET /api/spyglass/v1/probes``
lists the last run of every scheduled probe target (Spyglass's own API, JSON).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from spyglass.probes import Module, ProbeScheduler, ProbesConfig, probe, timeout_for

PREFIX = "/api/spyglass/v1"
EXPOSITION = "text/plain; version=0.0.4; charset=utf-8"


class ProbeAPI:
    """``/probe`` over the current probes file's modules, and the scheduled probes' status."""

    def __init__(
        self, scheduler: ProbeScheduler, config: Callable[[], ProbesConfig] | None = None
    ) -> None:
        self.scheduler = scheduler
        self._config = config or (lambda: scheduler.config)

    def routes(self) -> list[BaseRoute]:
        """``/probe`` and the status list."""
        return [
            Route("/probe", self.probe, methods=["GET"]),
            Route(PREFIX + "/probes", self.list, methods=["GET"]),
        ]

    async def probe(self, request: Request) -> Response:
        """One probe, answered as the exporter answers it."""
        params = request.query_params
        name = params.get("module") or "http_2xx"
        config = self._config()
        module = config.modules.get(name)
        if module is None:
            return _text_error(f'Unknown module "{name}"')
        try:
            timeout = timeout_for(
                module, request.headers.get("x-prometheus-scrape-timeout-seconds")
            )
        except ValueError as exc:
            return PlainTextResponse(
                f"Failed to parse timeout from Prometheus header: {exc}\n", status_code=500
            )
        target = params.get("target", "")
        if not target:
            return _text_error("Target parameter is missing")
        hostname = params.get("hostname", "")
        if module.prober == "http" and hostname:
            headers = dict(module.http.headers)
            for key, value in headers.items():
                if key.lower() == "host" and value != hostname:
                    return _text_error(
                        f"host header defined both in module configuration ({value}) and with "
                        f"URL-parameter 'hostname' ({hostname})"
                    )
            headers = {k: v for k, v in headers.items() if k.lower() != "host"}
            headers["Host"] = hostname
            module = _with_headers(module, headers)
        result = await probe(name, module, target, timeout)
        if params.get("debug") == "true":
            text = (
                "Logs for the probe:\n" + "\n".join(result.log) + "\n\n\n\n"
                "Metrics that would have been returned:\n" + result.exposition()
            )
            return PlainTextResponse(text)
        return Response(result.exposition(), media_type=EXPOSITION)

    async def list(self, request: Request) -> Response:
        """Every scheduled target's last run."""
        out = [
            {
                "probe": s.probe,
                "module": s.module,
                "target": s.target,
                "success": s.success,
                "durationSeconds": s.duration_s,
                "lastRun": s.last_run_s,
                "runs": s.runs,
                "failures": s.failures,
                "lastError": s.last_error,
            }
            for s in sorted(self.scheduler.status.values(), key=lambda s: (s.probe, s.target))
        ]
        return JSONResponse({"status": "success", "data": out})


def _text_error(message: str) -> Response:
    # Go's http.Error: the message, a newline, text/plain, status 400.
    return PlainTextResponse(message + "\n", status_code=400)


def _with_headers(module: Module, headers: dict[str, str]) -> Module:
    http = dataclasses.replace(module.http, headers=tuple(headers.items()))
    return dataclasses.replace(module, http=http)


__all__ = ["ProbeAPI"]
