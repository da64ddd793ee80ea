"""Exemplars end to end: the same remote_write requests with exemplars go to the real Prometheus
(Debian's 2.42, ``--enable-feature=exemplar-storage``) and to a real ``spyglass serve``, and
``/api/v1/query_exemplars`` answers the same for every query; what Spyglass acknowledged is
still there after ``kill -9``."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.support.required import need_prometheus
from tests.support.servers import Server, prometheus, spyglass, stop

from spyglass.core.exemplars import Exemplar
from spyglass.core.labels import Labels, labels_of
from spyglass.ingest.remote_write import encode_write_request

pytestmark = pytest.mark.prometheus

HEADERS = {
    "Content-Type": "application/x-protobuf",
    "Content-Encoding": "snappy",
    "X-Prometheus-Remote-Write-Version": "0.1.0",
}


def bucket(job: str, le: str) -> Labels:
    return labels_of({"__name__": "http_latency_seconds_bucket", "job": job, "le": le})


def requests(now_ms: int) -> list[bytes]:
    """Three pushes 15 s apart: latency buckets of two jobs and a counter, each sample with an
    exemplar on some series (trace and span ids, one with a third label), newer each push."""
    bodies = []
    for push in range(3):
        t = now_ms - 60_000 + push * 15_000
        series = [
            (bucket("api", "0.1"), [(t, 5.0 + push)]),
            (bucket("api", "1"), [(t, 9.0 + push)]),
            (bucket("web", "0.1"), [(t, 2.0 + push)]),
            (labels_of({"__name__": "orders_total", "job": "api"}), [(t, 100.0 + push)]),
            (labels_of({"__name__": "up", "job": "api"}), [(t, 1.0)]),
        ]
        exemplars = [
            Exemplar(bucket("api", "0.1"), (("trace_id", f"{push:032x}"),), 0.05 + push, t),
            Exemplar(
                bucket("api", "1"),
                (("span_id", f"{push + 7:016x}"), ("trace_id", f"{push + 9:032x}")),
                0.75,
                t - 250,
            ),
            Exemplar(
                labels_of({"__name__": "orders_total", "job": "api"}),
                (("customer", "c-42"), ("trace_id", f"{push + 100:032x}")),
                1.0,
                t,
            ),
        ]
        if push == 1:
            exemplars.append(
                Exemplar(bucket("web", "0.1"), (("trace_id", "f" * 32),), 0.031, t + 123)
            )
        bodies.append(encode_write_request(series, exemplars=exemplars))
    return bodies


def query_exemplars(server: Server, query: str, start: float, end: float) -> Any:
    r = httpx.get(
        server.url + "/api/v1/query_exemplars",
        params={"query": query, "start": f"{start:.3f}", "end": f"{end:.3f}"},
        timeout=30,
    )
    if not r.content:
        return r.status_code, r.text
    body = r.json()
    if body.get("status") == "success" and isinstance(body["data"], list):
        body["data"].sort(key=lambda d: sorted(d["seriesLabels"].items()))
    return r.status_code, {k: v for k, v in body.items() if k != "error"}


QUERIES = [
    "http_latency_seconds_bucket",
    'http_latency_seconds_bucket{job="api"}',
    'histogram_quantile(0.9, rate(http_latency_seconds_bucket{le=~"0.1|1"}[5m]))',
    'orders_total or http_latency_seconds_bucket{job=~"w.*"}',
    '{__name__=~"orders.*"}',
    "up",  # series without exemplars
    "1 + 1",  # no selector: null
    "nonexistent_metric",
    "rate(",  # bad query: bad_data
]


def test_query_exemplars_answers_as_prometheus_does_and_survives_kill_9(tmp_path: Path) -> None:
    need_prometheus()
    now_ms = int(time.time() * 1000)
    bodies = requests(now_ms)
    now = now_ms / 1000
    ranges = [(now - 3600, now + 60), (now - 50, now - 20), (now - 45.1, now - 45.0)]
    data_dir = tmp_path / "spyglass"
    flags = ("--web.enable-remote-write-receiver", "--enable-feature=exemplar-storage")
    config = "global:\n  scrape_interval: 1h\n"
    with (
        prometheus(tmp_path / "prometheus", config, *flags) as prom,
        spyglass(data_dir, "--flush-interval", "1h") as sg,
    ):
        for body in bodies:
            for server in (prom, sg):
                r = httpx.post(server.url + "/api/v1/write", content=body, headers=HEADERS)
                assert r.status_code == 204, (server.url, r.text)
        want_all = None
        for query in QUERIES:
            for start, end in ranges:
                want = query_exemplars(prom, query, start, end)
                got = query_exemplars(sg, query, start, end)
                assert got == want, (query, start, end)
                if query == QUERIES[0] and start == ranges[0][0]:
                    want_all = want
        # the comparison is not of two empty answers
        assert want_all is not None
        status, body = want_all
        assert status == 200
        assert len(body["data"]) == 3
        assert sum(len(d["exemplars"]) for d in body["data"]) == 7
        assert stop(sg, signal.SIGKILL) == -signal.SIGKILL
    # Nothing was flushed (--flush-interval 1h): the WAL alone brings the exemplars back.
    with spyglass(data_dir, port=None) as again:
        assert query_exemplars(again, QUERIES[0], *ranges[0]) == want_all
