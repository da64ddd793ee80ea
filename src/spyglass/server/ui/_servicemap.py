"""The service map (``/traces/map``): services as boxes, who calls whom as arrows, over a range.

The page is a plain GET form holding ``from``/``to`` (as Explore takes them) and ``service``
(the box whose figures are open); ``frontend/src/servicemap.js`` reads the same URL and asks
this server's own APIs, so the page needs no API of its own:

- the arrows and their call counts come from Jaeger's ``/api/dependencies`` (``endTs`` the
  range's end, ``lookback`` its length), which counts the stored spans themselves, so the
  counts are exact for any range;
- a service's request rate, error share and p95 come from span metrics through
  ``/api/v1/query`` (server and consumer spans: the requests a service answers), and an
  arrow's error share from the service graph's ``traces_service_graph_request_failed_total``
  over ``..._request_total``. With span metrics off (``--no-span-metrics``) those series do
  not exist: a box then shows the rate of the calls the map's arrows bring it, and no error
  share or p95 (docs/decisions.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request

from spyglass.server.ui._pages import Page


def service_map_page(*, span_metrics: bool) -> Page:
    """``/traces/map``; ``span_metrics`` says whether the span-metric series are written."""

    async def context(request: Request) -> Mapping[str, Any]:
        params = request.query_params
        return {
            "range_from": params.get("from") or "now-1h",
            "range_to": params.get("to") or "now",
            "service": params.get("service", ""),
            "span_metrics": span_metrics,
        }

    return Page(
        path="/traces/map",
        title="Service map",
        template="servicemap.html",
        section="Traces",
        script="servicemap",
        context=context,
    )


__all__ = ["service_map_page"]
