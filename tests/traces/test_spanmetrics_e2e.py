"""Spans pushed to a real ``spyglass serve`` turn into span metrics queryable with PromQL."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
from tests.support.servers import spyglass


def span(
    trace: str, span_id: str, parent: str, name: str, kind: int, error: bool = False
) -> dict[str, Any]:
    now = time.time_ns()
    return {
        "traceId": trace,
        "spanId": span_id,
        "parentSpanId": parent,
        "name": name,
        "kind": kind,
        "startTimeUnixNano": str(now - 30_000_000),
        "endTimeUnixNano": str(now),
        "status": {"code": 2 if error else 1},
    }


def resource_spans(service: str, spans: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]},
        "scopeSpans": [{"scope": {"name": "test"}, "spans": spans}],
    }


def test_pushed_spans_become_red_metrics_and_a_service_graph(tmp_path: Path) -> None:
    with spyglass(tmp_path / "data") as sg:
        for i in range(3):
            trace = f"{i + 1:032x}"
            body = {
                "resourceSpans": [
                    resource_spans("shop", [
                        span(trace, f"{10 * i + 1:016x}", "", "GET /cart", 2),
                        span(trace, f"{10 * i + 2:016x}", f"{10 * i + 1:016x}", "POST /pay", 3),
                    ]),
                    resource_spans("payments", [
                        span(trace, f"{10 * i + 3:016x}", f"{10 * i + 2:016x}", "POST /pay", 2,
                             error=i == 0),
                    ]),
                ]
            }  # fmt: skip
            r = httpx.post(sg.url + "/v1/traces", json=body, timeout=30)
            assert r.status_code == 200, r.text

        def query(expr: str) -> dict[str, float]:
            body = httpx.get(sg.url + "/api/v1/query", params={"query": expr}, timeout=30).json()
            return {
                ",".join(f"{k}={v}" for k, v in sorted(s["metric"].items())): float(s["value"][1])
                for s in body["data"]["result"]
            }

        deadline = time.monotonic() + 60
        calls: dict[str, float] = {}
        while time.monotonic() < deadline:
            calls = query("sum by (service, status_code) (traces_spanmetrics_calls_total)")
            if len(calls) == 3:
                break
            time.sleep(1)
        assert calls == {
            "service=payments,status_code=STATUS_CODE_ERROR": 1.0,
            "service=payments,status_code=STATUS_CODE_OK": 2.0,
            "service=shop,status_code=STATUS_CODE_OK": 6.0,
        }
        edges = query("sum by (client, server) (traces_service_graph_request_total)")
        assert edges == {"client=shop,server=payments": 3.0}
        failed = query("sum by (client, server) (traces_service_graph_request_failed_total)")
        assert failed == {"client=shop,server=payments": 1.0}
