"""``spyglass demo`` end to end: real service, real traffic, real scrapes and real OTLP pushes,
answered by PromQL."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from typing import Any

import httpx
import pytest
from tests.support.servers import free_port

pytest.importorskip("fastapi", reason="the demo service needs the sdk extra (fastapi)")


def _query(base: str, q: str) -> list[dict[str, Any]]:
    body = httpx.get(f"{base}/api/v1/query", params={"query": q}, timeout=10).json()
    assert body["status"] == "success", body
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


def test_demo_serves_scraped_and_otlp_pushed_metrics_of_the_instrumented_service() -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "spyglass", "demo", "--listen-address", f"127.0.0.1:{port}",
           "--scrape-interval", "1s", "--rate", "30", "--duration", "40"]  # fmt: skip
    demo = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        seen: dict[tuple[str, str], float] = {}
        up: dict[str, str] = {}
        orders: dict[str, float] = {}
        order_instances: set[str] = set()
        scraped_instances: set[str] = set()
        payments: list[dict[str, Any]] = []
        wanted = {("/items/{item_id}", "200"), ("/items/{item_id}", "404"), ("/checkout", "200")}
        deadline = time.monotonic() + 35
        while time.monotonic() < deadline:
            try:
                rows = _query(
                    base, 'sum by (route, status_code) (http_requests_total{job="demo-shop"})'
                )
                up = {r["metric"]["job"]: r["value"][1] for r in _query(base, "up")}
                # Pushed by the shop's OpenTelemetry MeterProvider over OTLP/HTTP, not scraped.
                pushed = _query(base, 'shop_orders_total{job="demo-shop"}')
                orders = {r["metric"]["outcome"]: float(r["value"][1]) for r in pushed}
                order_instances = {r["metric"]["instance"] for r in pushed}
                scraped_instances = {
                    r["metric"]["instance"] for r in _query(base, 'up{job="demo-shop"}')
                }
                payments = _query(
                    base, 'shop_payment_duration_seconds_count{job="demo-shop",outcome="placed"}'
                )
            except httpx.HTTPError:
                rows = []
            seen = {
                (r["metric"]["route"], r["metric"]["status_code"]): float(r["value"][1])
                for r in rows
            }
            if wanted <= set(seen) and len(up) == 2 and "placed" in orders and payments:
                break
            time.sleep(1)
        # Route templates, never raw paths; both successes and errors of the generated traffic.
        assert wanted <= set(seen), seen
        assert not any(route.startswith("/items/1") for route, _ in seen), seen
        assert up == {"demo-shop": "1", "spyglass": "1"}
        assert orders.get("placed", 0) > 0, orders
        assert float(payments[0]["value"][1]) > 0, payments
        # The pushed series name the shop as the scrape does, so the two join on instance.
        assert order_instances == scraped_instances, (order_instances, scraped_instances)
        # Its spans reach the Jaeger API and its JSON logs the Loki API.
        services: list[str] = []
        lines = 0
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not (services and lines):
            try:
                services = httpx.get(f"{base}/api/services", timeout=10).json()["data"] or []
                logs = httpx.get(
                    f"{base}/loki/api/v1/query_range",
                    params={"query": '{service_name="demo-shop"}', "limit": 10},
                    timeout=10,
                ).json()
                lines = sum(len(s["values"]) for s in logs["data"]["result"])
            except httpx.HTTPError:
                pass
            time.sleep(1)
        assert "demo-shop" in services, services
        assert lines > 0
    finally:
        # Stopped as Ctrl+C stops it (SIGINT), once everything was seen: the demo exits then,
        # not at the end of its --duration.
        stopped = time.monotonic()
        demo.send_signal(signal.SIGINT)
        out, _ = demo.communicate(timeout=60)
    assert time.monotonic() - stopped < 20, out
    assert demo.returncode == 0, out
    assert "Spyglass demo" in out
    assert "demo traffic:" in out
