"""Traces through a real ``spyglass serve``: OTLP span ingest (spans/s) and Jaeger API latency
(trace by id, search by service + minDuration) over a store of ``--stored`` spans.

1. **Ingest**: ``--spans`` spans as the OpenTelemetry SDK's batch processor exports them
   (``ExportTraceServiceRequest`` protobuf, ``--batch`` spans a request, 512 by default as the
   SDK's ``max_export_batch_size``; traces of 8 spans over 3 services with HTTP attributes, one
   in ten with an exception event), built before the clock starts and posted to ``/v1/traces``
   by ``--senders`` concurrent clients. spans/s from the first request to the last
   acknowledgement (each means the spans are fsynced in the WAL), and the server's peak RSS.
2. **Queries**: a fresh data dir gets ``--stored`` spans (traces of 10 spans over 20 services,
   spread over the ``--hours`` before now, durations 1 ms-1 s) written straight into the trace
   tables with ``INSERT ... SELECT`` in ClickHouse (ingesting 10M spans over HTTP would take the
   shared machine for many minutes; the rows and lookup tables are those the inserter writes),
   then a ``spyglass serve`` on it answers ``--repeat`` rounds of: ``/api/traces/<id>`` for a
   random stored trace, and ``/api/traces?service=...&minDuration=900ms&limit=20`` over the last
   hour and over all ``--hours``, and ``/api/spyglass/v1/why`` over 15 minutes against the hour
   before (its trace-operation finder: a p95 per operation in each window, in ClickHouse).
   Medians and 95th percentiles over HTTP on loopback.
3. **The trace page**: one trace of ``--page-spans`` spans (5,000: a root, 50 children, each
   with 99 children of its own; 5 attributes and a resource each, one in ten with an exception
   event) sent over OTLP/HTTP JSON, then ``/traces/<id>`` and ``/api/traces/<id>`` fetched with and
   without ``Accept-Encoding: gzip``: bytes over the wire, time and server CPU to render, and
   one span's details (``/traces/<id>/spans/<span>``, which the page fetches on a click).

    scripts/bench traces [--spans 200000] [--rounds 1] [--stored 1000000] [--repeat 50]
        [--baseline-src ../old/src] [--skip-ingest] [--skip-queries] [--merge]

With ``--baseline-src`` another checkout's server takes the same ingest rounds, alternating with
this one's, and answers the same queries over the same data dir after it.

Nothing here asserts; it reports. No Jaeger is installable here (Debian has no package and
nothing but the package registries is reachable), so nothing is compared with one; the issue's
goals are 30,000 spans/s ingest on 2 cores and a trace by id under 50 ms at 10M spans.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from tests.support.servers import spyglass

from spyglass.storage.backends import CHDB_SUBDIR, ChdbBackend
from spyglass.storage.schema import (
    TRACE_ID_TS,
    TRACE_OPERATIONS,
    TRACE_TABLES,
    TRACES,
    Schema,
    apply_schema,
)

SPANS_PER_TRACE = 8
ROUTES = ["/api/orders", "/api/users/{id}", "/login", "/api/cart", "/health"]


def export_requests(n_spans: int, batch: int, now_ns: int) -> list[bytes]:
    """``n_spans`` spans in requests of ``batch`` spans (whole traces), protobuf-encoded."""
    rng = random.Random(7)
    bodies = []
    made = 0
    trace_no = 0
    while made < n_spans:
        req = ExportTraceServiceRequest()
        by_service = {}
        for service in ("frontend", "orders", "payments"):
            rs = req.resource_spans.add()
            for k, v in (("service.name", service), ("host.name", f"{service}-1"),
                         ("service.version", "1.4.2")):  # fmt: skip
                kv = rs.resource.attributes.add()
                kv.key, kv.value.string_value = k, v
            ss = rs.scope_spans.add()
            ss.scope.name, ss.scope.version = "opentelemetry.instrumentation.fastapi", "0.48b0"
            by_service[service] = ss.spans
        in_request = 0
        while in_request < batch and made < n_spans:
            trace_no += 1
            trace_id = rng.getrandbits(128).to_bytes(16, "big")
            start = now_ns - rng.randrange(3_600 * 10**9)
            parent = b""
            for k in range(SPANS_PER_TRACE):
                service = ("frontend", "orders", "payments")[min(k // 3, 2)]
                span = by_service[service].add()
                span.trace_id = trace_id
                span.span_id = rng.getrandbits(64).to_bytes(8, "big")
                span.parent_span_id = parent
                parent = span.span_id
                route = ROUTES[trace_no % len(ROUTES)]
                span.name = f"GET {route}" if k % 3 == 0 else f"SELECT {service}"
                span.kind = 2 if k % 3 == 0 else 3
                span.start_time_unix_nano = start + k * 1_000_000
                span.end_time_unix_nano = start + k * 1_000_000 + rng.randrange(10**6, 10**9)
                for key, value in (("http.method", "GET"), ("http.route", route),
                                   ("net.peer.name", "10.0.0.7"),
                                   ("http.user_agent", "python-httpx/0.27")):  # fmt: skip
                    a = span.attributes.add()
                    a.key, a.value.string_value = key, value
                a = span.attributes.add()
                a.key, a.value.int_value = "http.status_code", 500 if trace_no % 10 == 0 else 200
                if trace_no % 10 == 0 and k == SPANS_PER_TRACE - 1:
                    span.status.code = 2
                    ev = span.events.add()
                    ev.name, ev.time_unix_nano = "exception", span.end_time_unix_nano
                    for key, value in (("exception.type", "ValueError"),
                                       ("exception.message", "card declined"),
                                       ("exception.stacktrace", "Traceback\n" * 20)):  # fmt: skip
                        a = ev.attributes.add()
                        a.key, a.value.string_value = key, value
                made += 1
                in_request += 1
        bodies.append(req.SerializeToString())
    return bodies


async def send(url: str, bodies: list[bytes], senders: int) -> float:
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for b in bodies:
        queue.put_nowait(b)
    headers = {"Content-Type": "application/x-protobuf"}

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            body = queue.get_nowait()
            r = await client.post(url, content=body, headers=headers)
            if r.status_code != 200:
                raise RuntimeError(f"{r.status_code}: {r.content[:200]!r}")

    async with httpx.AsyncClient(timeout=120) as client:
        began = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(senders)))
        return time.perf_counter() - began


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time the process (all its threads) has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def fill(
    data_dir: Path, spans: int, hours: float, now_ns: int, *, merge: bool = False
) -> list[str]:
    """Write ``spans`` spans into the trace tables of ``data_dir``; some stored trace ids."""
    backend = ChdbBackend(data_dir / CHDB_SUBDIR)
    try:
        apply_schema(backend, Schema(TRACE_TABLES))
        traces = spans // 10
        span_ns = int(hours * 3_600 * 10**9)
        first = now_ns - span_ns
        step = max(1, span_ns // max(traces, 1))
        chunk = 500_000  # within the backend's 1 GiB a query
        for lo in range(0, spans, chunk):
            hi = min(spans, lo + chunk)
            backend.command(
                f"""
INSERT INTO {TRACES} (Timestamp, TraceId, SpanId, ParentSpanId, TraceState, SpanName, SpanKind,
    ServiceName, ResourceAttributes, ScopeName, ScopeVersion, SpanAttributes, Duration,
    StatusCode, StatusMessage)
SELECT
    fromUnixTimestamp64Nano(
        toInt64({first} + intDiv(number, 10) * {step} + (number % 10) * 1000000)),
    concat(leftPad(lower(hex(cityHash64(intDiv(number, 10), 1))), 16, '0'),
           leftPad(lower(hex(cityHash64(intDiv(number, 10), 2))), 16, '0')),
    leftPad(lower(hex(cityHash64(number, 3))), 16, '0'),
    if(number % 10 = 0, '', leftPad(lower(hex(cityHash64(number - 1, 3))), 16, '0')),
    '',
    concat('op-', toString(number % 10)),
    if(number % 10 = 0, 'Server', 'Client'),
    concat('svc-', toString((intDiv(number, 10) + number % 10) % 20)) AS service,
    map('service.name', service, 'host.name', concat('host-', toString(number % 50))),
    'bench', '1.0',
    map('http.method', 'GET', 'http.status_code', if(number % 97 = 0, '500', '200')),
    toUInt64(1000000 * (1 + cityHash64(number, 5) % 1000)),
    if(number % 97 = 0, 'Error', 'Unset'),
    ''
FROM numbers({lo}, {hi - lo})"""
            )
        backend.command(
            f"INSERT INTO {TRACE_ID_TS} SELECT TraceId, toDateTime(min(Timestamp)), "
            f"toDateTime(max(Timestamp)) FROM {TRACES} GROUP BY TraceId"
        )
        backend.command(
            f"INSERT INTO {TRACE_OPERATIONS} SELECT DISTINCT toDate(Timestamp), ServiceName, "
            f"SpanName, SpanKind FROM {TRACES}"
        )
        if merge:
            # Steady state: what background merges reach some time after ingest settles.
            backend.command(f"OPTIMIZE TABLE {TRACES} FINAL")
        sample = backend.query_arrow(
            f"SELECT TraceId FROM {TRACE_ID_TS} ORDER BY cityHash64(TraceId) LIMIT 1000"
        )
        parts = (
            backend.query_arrow(
                "SELECT count() AS n FROM system.parts WHERE active AND table = {t:String}",
                {"t": TRACES},
            )
            .column("n")[0]
            .as_py()
        )
        print(f"stored {spans:,} spans ({traces:,} traces) in {parts} parts")
        return [str(t) for t in sample.column("TraceId").to_pylist()]
    finally:
        backend.close()


def timed(client: httpx.Client, path: str, params: dict[str, object]) -> tuple[float, list[Any]]:
    """Milliseconds to the whole answer (parsed), and its traces."""
    began = time.perf_counter()
    r = client.get(path, params=params)  # type: ignore[arg-type]
    data: list[Any] = r.json()["data"]
    elapsed = time.perf_counter() - began
    if r.status_code != 200:
        raise RuntimeError(f"{path}: {r.status_code} {r.text[:200]}")
    return elapsed * 1000, data


def report(name: str, ms: list[float], found: list[int], what: str, cpu_ms: float) -> None:
    ms = sorted(ms)
    p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))]
    print(f"{name:44} median {statistics.median(ms):7.1f} ms  p95 {p95:7.1f} ms  server CPU "
          f"{cpu_ms:6.1f} ms/query  {what} {statistics.median(found):.0f}")  # fmt: skip


def ingest_round(
    bodies: list[bytes], spans: int, senders: int, source: str | None
) -> tuple[float, float, float]:
    """One ingest into a fresh server: spans/s, server CPU µs a span, peak RSS in MiB."""
    with (
        tempfile.TemporaryDirectory(prefix="spyglass-bench-") as tmp,
        spyglass(Path(tmp) / "data", source=source) as sg,
    ):
        cpu = cpu_seconds(sg.pid)
        seconds = asyncio.run(send(sg.url + "/v1/traces", bodies, senders))
        # Until every accepted span is in ClickHouse: the insert is part of the cost.
        while "spyglass_storage_pending_spans 0.0" not in httpx.get(sg.url + "/metrics").text:
            time.sleep(0.2)
        cpu = cpu_seconds(sg.pid) - cpu
        rss = sg.peak_rss_bytes() / 2**20
    return spans / seconds, cpu * 1e6 / spans, rss


def queries(sg: Any, ids: list[str], args: argparse.Namespace, now: int, label: str) -> None:
    """``--repeat`` traces by id and searches against the server ``sg``, reported."""
    rng = random.Random(11)
    with httpx.Client(base_url=sg.url, timeout=120) as client:
        end_us = now // 1000
        searches = {
            "search svc + minDuration=900ms, last 1h": end_us - 3_600 * 10**6,
            f"search svc + minDuration=900ms, last {args.hours:g}h": end_us
            - int(args.hours * 3_600 * 10**6),
        }
        timed(client, f"/api/traces/{ids[0]}", {})  # first request: connection, caches
        by_id: tuple[list[float], list[int]] = ([], [])
        cpu = cpu_seconds(sg.pid)
        for _ in range(args.repeat):
            ms, traces = timed(client, f"/api/traces/{rng.choice(ids)}", {})
            by_id[0].append(ms)
            by_id[1].append(len(traces[0]["spans"]))
        cpu_ms = (cpu_seconds(sg.pid) - cpu) * 1000 / args.repeat
        report(
            f"{label}trace by id ({args.stored:,} spans)", by_id[0], by_id[1], "spans/trace", cpu_ms
        )
        for name, start_us in searches.items():
            ms_list, found = [], []
            cpu = cpu_seconds(sg.pid)
            for _ in range(args.repeat):
                params = {"service": f"svc-{rng.randrange(20)}", "minDuration": "900ms",
                          "limit": 20, "start": start_us, "end": end_us}  # fmt: skip
                ms, traces = timed(client, "/api/traces", params)
                ms_list.append(ms)
                found.append(len(traces))
            cpu_ms = (cpu_seconds(sg.pid) - cpu) * 1000 / args.repeat
            report(label + name, ms_list, found, "traces/answer", cpu_ms)
        # "Why did this change" over a metric-less expression: its cost is the finders', the
        # trace operations' two p95 queries (window and baseline) above all. A server without
        # the finder (an older --baseline-src) answers it all the same, with fewer findings.
        ms_list, found = [], []
        cpu = cpu_seconds(sg.pid)
        for _ in range(args.repeat):
            params = {"query": "vector(1)", "window": "15m", "baseline": "1h",
                      "time": str(now / 1e9 - rng.uniform(0, 3_600))}  # fmt: skip
            ms, answer = timed(client, "/api/spyglass/v1/why", params)
            ms_list.append(ms)
            found.append(len(answer["findings"]))  # type: ignore[call-overload]
        cpu_ms = (cpu_seconds(sg.pid) - cpu) * 1000 / args.repeat
        report(label + "why (trace operations, 15m vs 1h)", ms_list, found, "findings", cpu_ms)


PAGE_TRACE = "5a6e" * 8


def page_trace(n_spans: int, now_ns: int) -> dict[str, Any]:
    """One trace of ``n_spans`` spans as OTLP/HTTP JSON: a root, 50 subtrees below it."""
    spans = []
    t0 = now_ns - 60 * 10**9
    for i in range(n_spans):
        # Span ids from 1: OTLP drops a span whose id is all zeros.
        parent = "" if i == 0 else f"{(1 if i <= 50 else (i - 1) % 50 + 2):016x}"
        start = t0 + i * 100_000
        span: dict[str, Any] = {
            "traceId": PAGE_TRACE, "spanId": f"{i + 1:016x}", "parentSpanId": parent,
            "name": f"SELECT orders {i % 37}", "kind": 3,
            "startTimeUnixNano": str(start), "endTimeUnixNano": str(start + 2_000_000),
            "attributes": [
                {"key": k, "value": {"stringValue": v}}
                for k, v in (("db.system", "postgresql"), ("db.name", "shop"),
                             ("db.statement", f"SELECT * FROM orders WHERE id = {i}"),
                             ("net.peer.name", "db-1"), ("thread.name", "worker-3"))
            ],
        }  # fmt: skip
        if i % 10 == 9:
            stack = {"key": "exception.stacktrace", "value": {"stringValue": "Traceback\n" * 20}}
            event = {"name": "exception", "timeUnixNano": str(start + 1_000_000)}
            span["events"] = [{**event, "attributes": [stack]}]
        spans.append(span)
    pairs = (("service.name", "orders"), ("host.name", "orders-1"), ("service.version", "1.4.2"))
    resource = {"attributes": [{"key": k, "value": {"stringValue": v}} for k, v in pairs]}
    return {"resourceSpans": [{"resource": resource, "scopeSpans": [{"spans": spans}]}]}


def trace_page(sg: Any, n_spans: int, repeat: int, label: str) -> None:
    """The trace page of an ``n_spans``-span trace: bytes, render time, one span's details."""
    with httpx.Client(base_url=sg.url, timeout=120) as client:
        path = f"/api/traces/{PAGE_TRACE}"
        found = client.get(path)
        if found.status_code != 200 or len(found.json()["data"][0]["spans"]) < n_spans:
            r = client.post("/v1/traces", json=page_trace(n_spans, time.time_ns()))
            r.raise_for_status()
            while "spyglass_storage_pending_spans 0.0" not in client.get("/metrics").text:
                time.sleep(0.2)
        pages = {
            "trace page": f"/traces/{PAGE_TRACE}",
            "Jaeger JSON": path,
            "a span's details": f"/traces/{PAGE_TRACE}/spans/{n_spans:016x}",
        }
        for name, url in pages.items():
            sizes = {}
            for encoding in ("identity", "gzip"):
                r = client.get(url, headers={"Accept-Encoding": encoding})
                sizes[encoding] = (r.num_bytes_downloaded, r.status_code)
            if sizes["gzip"][1] != 200:  # a server without span details (an older baseline)
                print(f"{label}{name}: status {sizes['gzip'][1]}")
                continue
            ms = []
            cpu = cpu_seconds(sg.pid)
            for _ in range(repeat):
                began = time.perf_counter()
                client.get(url, headers={"Accept-Encoding": "gzip"}).raise_for_status()
                ms.append((time.perf_counter() - began) * 1000)
            cpu_ms = (cpu_seconds(sg.pid) - cpu) * 1000 / repeat
            print(
                f"{label}{name} ({n_spans:,} spans): {sizes['identity'][0]:,} bytes plain, "
                f"{sizes['gzip'][0]:,} with gzip (status {sizes['gzip'][1]}); "
                f"median {statistics.median(ms):.1f} ms, server CPU {cpu_ms:.1f} ms"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--senders", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=1, help="ingest rounds (each side)")
    parser.add_argument("--stored", type=int, default=1_000_000)
    parser.add_argument("--hours", type=float, default=6.0)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--page-spans", type=int, default=5_000, help="0: no trace page")
    parser.add_argument("--page-repeat", type=int, default=5)
    parser.add_argument("--skip-ingest", action="store_true")
    parser.add_argument("--skip-queries", action="store_true")
    parser.add_argument(
        "--merge", action="store_true", help="merge the stored spans into one part per day first"
    )
    parser.add_argument(
        "--data",
        help="fill this data dir once and reuse it in later runs (10M spans take minutes to "
        "write); the spans' times are those of the first run",
    )
    parser.add_argument(
        "--baseline-src",
        help="another checkout's src folder: its server runs the same rounds, alternating",
    )
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} at start")
    now = time.time_ns()
    sides: list[tuple[str, str | None]] = [("", None)]
    if args.baseline_src:
        sides = [("spyglass", None), ("baseline", args.baseline_src)]
    if not args.skip_ingest:
        bodies = export_requests(args.spans, args.batch, now)
        mb = sum(map(len, bodies)) / 2**20
        print(
            f"OTLP/HTTP protobuf ingest of {args.spans:,} spans, {args.batch} a request, "
            f"{args.senders} in flight ({mb:.1f} MiB of bodies), to the last insert:"
        )
        results: dict[str, list[tuple[float, float, float]]] = {name: [] for name, _ in sides}
        for r in range(args.rounds):
            for name, source in sides:
                rate, us, rss = ingest_round(bodies, args.spans, args.senders, source)
                results[name].append((rate, us, rss))
                print(
                    f"  round {r + 1} {name or 'spyglass':9} {rate:9,.0f} spans/s  server CPU "
                    f"{us:5.1f} us/span ({1e6 / us:,.0f} spans per CPU-second)  peak RSS "
                    f"{rss:,.0f} MiB  (load {os.getloadavg()[0]:.1f})"
                )
        for name, rows in results.items():
            print(
                f"  median {name or 'spyglass':9} {statistics.median(r[0] for r in rows):9,.0f} "
                f"spans/s  server CPU {statistics.median(r[1] for r in rows):5.1f} us/span"
            )
    if args.skip_queries:
        return
    with tempfile.TemporaryDirectory(prefix="spyglass-bench-") as tmp:
        data = Path(args.data) if args.data else Path(tmp) / "data"
        ids_file = data / "bench-trace-ids.txt"
        if ids_file.exists():
            # The first line is the time the spans were written up to: the searches' "now".
            first, *ids = ids_file.read_text().split()
            now = int(first)
            print(f"reusing the spans stored in {data}")
        else:
            data.mkdir(parents=True)
            began = time.perf_counter()
            ids = fill(data, args.stored, args.hours, now, merge=args.merge)
            ids_file.write_text("\n".join([str(now), *ids]))
            print(f"filled in {time.perf_counter() - began:.0f} s")
        for name, source in sides:
            with spyglass(data, source=source) as sg:
                queries(sg, ids, args, now, f"{name}: " if name else "")
                if args.page_spans:
                    trace_page(sg, args.page_spans, args.page_repeat, f"{name}: " if name else "")
        print(f"load average {os.getloadavg()[0]:.1f} at end")


if __name__ == "__main__":
    main()
