""" "Why did this change" over HTTP (Spyglass's own API).

``GET /api/spyglass/v1/why?query=<PromQL>&time=<t>&window=15m&baseline=1h&limit=10`` compares
the window before ``time`` (default now) with the baseline before it and answers the label
values that carry the change, with their shares, and the findings of the other signals. Errors
are ``{"status": "error", "error": ...}``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from spyglass.core.errors import BadInput, SpyglassError
from spyglass.core.times import parse_api_duration_ms, parse_api_time_ms
from spyglass.promql import Engine
from spyglass.why import DEFAULT_BASELINE_MS, DEFAULT_WINDOW_MS, Explanation, Finder, explain

PATH = "/api/spyglass/v1/why"


def explanation_json(e: Explanation) -> dict[str, object]:
    """An explanation as the API (and ``spyglass why --json``) writes it."""
    return {
        "query": e.query,
        "explained": e.explained,
        "time": e.time_ms / 1000,
        "window": [e.window[0] / 1000, e.window[1] / 1000],
        "baseline": [e.baseline[0] / 1000, e.baseline[1] / 1000],
        "series": e.series,
        "totalWindow": e.total_window,
        "totalBaseline": e.total_baseline,
        "contributors": [
            {
                "labels": c.labels,
                "window": c.window,
                "baseline": c.baseline,
                "delta": c.delta,
                "share": c.share,
            }
            for c in e.contributors
        ],
        "findings": [{"kind": f.kind, "title": f.title, "detail": f.detail} for f in e.findings],
    }


class WhyAPI:
    """The one route, over a PromQL engine and the finders of the other signals."""

    def __init__(self, engine: Engine, finders: Sequence[Finder] = ()) -> None:
        self.engine = engine
        self.finders = list(finders)

    def routes(self) -> list[BaseRoute]:
        """``/api/spyglass/v1/why``."""
        return [Route(PATH, self.why, methods=["GET"])]

    async def why(self, request: Request) -> Response:
        """Explain a change (see the module docstring)."""
        params = request.query_params
        try:
            query = params.get("query", "")
            if not query:
                raise BadInput("query is required")
            at = parse_api_time_ms(params["time"]) if "time" in params else int(time.time() * 1000)
            window = (
                parse_api_duration_ms(params.get("window", ""))
                if params.get("window")
                else DEFAULT_WINDOW_MS
            )
            baseline = (
                parse_api_duration_ms(params["baseline"])
                if params.get("baseline")
                else DEFAULT_BASELINE_MS
            )
            limit = int(params.get("limit", "10"))
            if not 1 <= limit <= 100:
                raise BadInput("limit must be from 1 to 100")
            found = await asyncio.to_thread(
                explain, self.engine, query, at, window_ms=window, baseline_ms=baseline,
                limit=limit, finders=self.finders,
            )  # fmt: skip
        except ValueError as exc:
            return _error(str(exc), 400)
        except SpyglassError as exc:
            return _error(str(exc), 400 if isinstance(exc, BadInput) else 500)
        return JSONResponse({"status": "success", "data": explanation_json(found)})


def _error(message: str, code: int) -> Response:
    return JSONResponse({"status": "error", "error": message}, status_code=code)


__all__ = ["WhyAPI", "explanation_json"]
