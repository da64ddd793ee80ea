"""The demo service: a FastAPI shop instrumented with one ``instrument()`` call.

Its routes behave like a real service's: most requests are quick, some are slow, some fail, and
one route has a path parameter so the metrics show route templates. Run it alone with
``python -m spyglass.demo --port 8000``.

Besides what ``/metrics`` serves for scraping, the shop counts its orders with the OpenTelemetry
metrics SDK and pushes them over OTLP/HTTP when given ``--otlp-metrics-endpoint``: the way a
service already using OpenTelemetry metrics ships them to Spyglass, unchanged.
"""

from __future__ import annotations

import argparse
import asyncio
import random
from time import perf_counter
from typing import Any

from fastapi import FastAPI, HTTPException

from spyglass.sdk import get_logger, instrument, timed

ITEMS = {i: f"item-{i}" for i in range(1, 101)}


SERVICE = "demo-shop"


def create_app(
    *,
    otlp_endpoint: str | None = None,
    otlp_metrics_endpoint: str | None = None,
    metrics_interval_s: float = 5.0,
    seed: int | None = None,
    instance: str | None = None,
) -> FastAPI:
    """The shop app, instrumented as service ``demo-shop``.

    ``otlp_endpoint`` (a base URL) receives its spans and its JSON logs (both off without it);
    ``otlp_metrics_endpoint``
    (a full ``.../v1/metrics`` URL) receives its order metrics every ``metrics_interval_s``.
    ``instance`` (the ``host:port`` the shop serves on) becomes the pushed metrics'
    ``service.instance.id``, so they carry the scraped series' ``instance`` label.
    """
    rng = random.Random(seed)
    orders = _OrderMetrics(otlp_metrics_endpoint, metrics_interval_s, instance)
    app = FastAPI(title="Spyglass demo shop")
    log = get_logger("demo.shop")

    @app.get("/items/{item_id}")
    async def get_item(item_id: int) -> dict[str, object]:
        if item_id not in ITEMS:
            raise HTTPException(status_code=404, detail="no such item")
        await asyncio.sleep(rng.uniform(0.001, 0.02))
        return {"id": item_id, "name": ITEMS[item_id]}

    @app.get("/items")
    async def list_items() -> list[int]:
        return list(ITEMS)[:20]

    @app.post("/checkout")
    async def checkout() -> dict[str, str]:
        start = perf_counter()
        with timed("checkout_payment"):
            # One in ten payments is slow, one in twenty fails: something to see on the graphs.
            await asyncio.sleep(rng.uniform(0.3, 1.2) if rng.random() < 0.1 else 0.02)
            if rng.random() < 0.05:
                log.warning("payment declined", provider="demo-pay")
                orders.record("declined", perf_counter() - start)
                raise HTTPException(status_code=502, detail="payment provider failed")
        log.info("order placed")
        orders.record("placed", perf_counter() - start)
        return {"status": "ok"}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("the demo's unhandled error")

    options: dict[str, object] = {"access_log": False}
    if otlp_endpoint:
        options["otlp_endpoint"] = otlp_endpoint
        options["ship_logs"] = True
    else:
        options["tracing"] = False
    instrument(app, service=SERVICE, **options)
    return app


class _OrderMetrics:
    """Orders by outcome and payment time, as OpenTelemetry metrics pushed over OTLP/HTTP.

    Spyglass turns them into ``shop_orders_total{job="demo-shop",outcome=...}`` and the
    ``shop_payment_duration_seconds`` histogram. Without an endpoint nothing is recorded.
    """

    def __init__(self, endpoint: str | None, interval_s: float, instance: str | None) -> None:
        self._provider: Any = None
        if not endpoint:
            return
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import (  # noqa: PLC0415
            OTLPMetricExporter,
        )
        from opentelemetry.sdk.metrics import MeterProvider  # noqa: PLC0415
        from opentelemetry.sdk.metrics.export import (  # noqa: PLC0415
            PeriodicExportingMetricReader,
        )
        from opentelemetry.sdk.resources import Resource  # noqa: PLC0415

        reader = PeriodicExportingMetricReader(
            OTLPMetricExporter(endpoint=endpoint, timeout=5),
            export_interval_millis=interval_s * 1000,
        )
        # Not the global provider, and no last push at exit: the demo stops Spyglass before
        # the shop, so that push could only fail. The reader's thread is a daemon.
        attributes = {"service.name": SERVICE}
        if instance:
            # OpenTelemetry's SDK would make up a random ID, a new series on every restart
            # that joins nothing; this is what the scrape calls the same process.
            attributes["service.instance.id"] = instance
        self._provider = MeterProvider(
            metric_readers=[reader],
            resource=Resource.create(attributes),
            shutdown_on_exit=False,
        )
        meter = self._provider.get_meter("spyglass.demo.shop")
        self._orders = meter.create_counter(
            "shop.orders", unit="{order}", description="Checkouts, by outcome."
        )
        self._payment = meter.create_histogram(
            "shop.payment.duration", unit="s", description="Time the payment provider took."
        )

    def record(self, outcome: str, seconds: float) -> None:
        if self._provider is None:
            return
        self._orders.add(1, {"outcome": outcome})
        self._payment.record(seconds, {"outcome": outcome})


def main() -> None:
    """Serve the demo app with uvicorn."""
    import uvicorn  # noqa: PLC0415 - only the standalone entry point needs the server

    parser = argparse.ArgumentParser(description="Spyglass demo shop")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument(
        "--otlp-endpoint",
        default=None,
        help="OTLP/HTTP base URL spans and logs go to (default: off)",
    )
    parser.add_argument(
        "--otlp-metrics-endpoint", default=None, help="OTLP/HTTP URL the order metrics go to"
    )
    parser.add_argument("--metrics-interval", type=float, default=5.0, help="seconds")
    args = parser.parse_args()
    uvicorn.run(
        create_app(
            otlp_endpoint=args.otlp_endpoint,
            otlp_metrics_endpoint=args.otlp_metrics_endpoint,
            metrics_interval_s=args.metrics_interval,
            instance=f"{args.host}:{args.port}",
        ),
        host=args.host,
        port=args.port,
        log_level="warning",
        # The app (and instrument()'s JSON logging) exists before uvicorn starts; its default
        # log config would put its own handlers back on its loggers.
        log_config=None,
    )


if __name__ == "__main__":
    main()
