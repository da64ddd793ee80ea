"""SpanStore on real ClickHouse engines (chDB, and a server over HTTP): what is appended reads
back through the ``TraceReader`` (trace by id, search, services, operations, service calls), the
same before and after it is flushed and after a restart; the tables follow the exporter's layout
and the retention."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from spyglass.core.errors import BadInput
from spyglass.core.spans import Span, SpanBatch, SpanEvent, SpanLink
from spyglass.storage import MemorySpanStore, TraceQuery
from spyglass.storage.backends import Backend
from spyglass.storage.schema import (
    TRACE_ID_TS,
    TRACE_TABLES,
    TRACES,
    Schema,
    stored_ttl_seconds,
)
from spyglass.storage.traces import SpanStore

DAY_MS = 86_400_000
S = 1_000_000_000
T0 = 1_760_000_000 * S  # 2025-10-09: fixed, so results do not depend on the clock
RETENTION = 10 * 365 * DAY_MS  # ClickHouse applies the TTL on insert: keep the fixed day
FRONT = {"service.name": "frontend", "host.name": "f1"}
BACK = {"service.name": "backend", "deployment.environment": "prod"}
T1, T2, T3 = "1" * 32, "2" * 32, "3" * 32


def sp(trace: str, sid: str, name: str, start_s: float, dur_ms: int, res: dict[str, str],
       parent: str = "", **kw: object) -> Span:  # fmt: skip
    return Span(
        trace_id=trace,
        span_id=sid * 16,
        parent_span_id=parent * 16 if parent else "",
        name=name,
        start_ns=T0 + int(start_s * S),
        duration_ns=dur_ms * 1_000_000,
        service_name=res["service.name"],
        resource=res,
        **kw,  # type: ignore[arg-type]
    )


SPANS = [
    # Trace 1: frontend GET /checkout -> backend POST /pay (error, with an exception event)
    # -> a database the backend calls (peer.service, sends no spans itself).
    sp(T1, "a", "GET /checkout", 0, 120, FRONT, kind="Server",
       attributes={"http.method": "GET", "http.route": "/checkout"}),
    sp(T1, "b", "POST /pay", 0.01, 100, FRONT, "a", kind="Client",
       attributes={"peer.service": "backend"}),
    sp(T1, "c", "POST /pay", 0.02, 90, BACK, "b", kind="Server", status_code="Error",
       status_message="card declined", scope_name="shop.pay", scope_version="1.2",
       events=(SpanEvent(T0 + 50_000_000, "exception",
                         {"exception.type": "ValueError", "exception.message": "declined"}),)),
    sp(T1, "d", "SELECT orders", 0.03, 40, BACK, "c", kind="Client",
       attributes={"peer.service": "postgres", "db.system": "postgresql"}),
    # Trace 2: a slow frontend request alone, later; linked to trace 1.
    sp(T2, "e", "GET /checkout", 10, 900, FRONT, kind="Server",
       attributes={"http.method": "GET"},
       links=(SpanLink(T1, "a" * 16, "k=v", {"link.reason": "retry"}),)),
    # Trace 3: an internal job of the backend, latest of all.
    sp(T3, "f", "sweep", 20, 5, BACK, kind="Internal"),
]  # fmt: skip


def run(backend: Backend, data_dir: Path, check: Callable[[SpanStore], None], flush: bool) -> None:
    async def go() -> None:
        store = SpanStore(backend, data_dir, retention_ms=RETENTION, flush_interval_ms=3_600_000)
        await store.start()
        try:
            await store.append(SpanBatch(tuple(SPANS[:3])))
            await store.append(SpanBatch(tuple(SPANS[3:])))
            if flush:
                await asyncio.to_thread(store.flush_now)
                assert store.pending.items == 0
            check(store)
        finally:
            await store.close()

    asyncio.run(go())


@pytest.fixture(params=["pending", "flushed"])
def flush(request: pytest.FixtureRequest) -> bool:
    """Every read is checked on spans still in the pending buffer and on stored ones."""
    return request.param == "flushed"


def q(**kw: object) -> TraceQuery:
    args: dict[str, object] = {"service": "", "start_ns": T0, "end_ns": T0 + 100 * S}
    args.update(kw)
    return TraceQuery(**args)  # type: ignore[arg-type]


def ids(found: list[list[Span]]) -> list[str]:
    return [t[0].trace_id for t in found]


def test_a_trace_by_id_comes_back_whole_and_exact(
    traces_backend: Backend, tmp_path: Path, flush: bool
) -> None:
    def check(store: SpanStore) -> None:
        assert store.trace(T1) == SPANS[:4]  # by start time, every field as sent
        assert store.trace(T2) == [SPANS[4]]
        assert store.trace("9" * 32) == []

    run(traces_backend, tmp_path / "data", check, flush)


def test_search_by_service_operation_tags_and_duration(
    traces_backend: Backend, tmp_path: Path, flush: bool
) -> None:
    def check(store: SpanStore) -> None:
        # Latest matching span first; each trace whole.
        assert ids(store.find_traces(q(service="frontend"))) == [T2, T1]
        assert store.find_traces(q(service="frontend"))[1] == SPANS[:4]
        assert ids(store.find_traces(q(service="backend"))) == [T3, T1]
        assert ids(store.find_traces(q(service="frontend", limit=1))) == [T2]
        assert ids(store.find_traces(q(service="backend", operation="POST /pay"))) == [T1]
        assert ids(store.find_traces(q(service="frontend", min_duration_ns=500_000_000))) == [T2]
        assert ids(store.find_traces(q(service="frontend", max_duration_ns=150_000_000))) == [T1]
        both = q(service="backend", min_duration_ns=40_000_000, max_duration_ns=40_000_000)
        assert ids(store.find_traces(both)) == [T1]
        # Tags: span attributes, resource attributes, and the tags Jaeger derives.
        assert ids(store.find_traces(q(service="frontend", tags=(("http.method", "GET"),)))) == [
            T2,
            T1,
        ]
        env = (("deployment.environment", "prod"),)
        assert ids(store.find_traces(q(service="backend", tags=env))) == [T3, T1]
        for tag in [("error", "true"), ("otel.status_code", "ERROR"),
                    ("otel.status_description", "card declined"), ("otel.scope.name", "shop.pay"),
                    ("otel.scope.version", "1.2")]:  # fmt: skip
            assert ids(store.find_traces(q(service="backend", tags=(tag,)))) == [T1], tag
        assert ids(store.find_traces(q(service="backend", tags=(("span.kind", "internal"),)))) == [
            T3
        ]
        two = (("http.method", "GET"), ("http.route", "/checkout"))
        assert ids(store.find_traces(q(service="frontend", tags=two))) == [T1]
        # A tag must exist: an empty value does not match a span without the attribute.
        assert store.find_traces(q(service="frontend", tags=(("missing", ""),))) == []
        assert store.find_traces(q(service="frontend", tags=(("http.method", "PUT"),))) == []
        # Time range on span start, inclusive.
        assert ids(store.find_traces(q(service="frontend", end_ns=T0 + 10 * S - 1))) == [T1]
        assert ids(store.find_traces(q(service="frontend", start_ns=T0 + 10 * S))) == [T2]
        assert store.find_traces(q(service="nobody")) == []
        assert store.find_traces(q(service="frontend", limit=0)) == []
        with pytest.raises(BadInput, match="invalid limit"):
            store.find_traces(q(service="frontend", limit=-1))

    run(traces_backend, tmp_path / "data", check, flush)


def test_services_operations_and_service_calls(
    traces_backend: Backend, tmp_path: Path, flush: bool
) -> None:
    def check(store: SpanStore) -> None:
        assert store.services() == ["backend", "frontend"]
        ops = [(o.name, o.kind) for o in store.operations("backend")]
        assert ops == [("POST /pay", "Server"), ("SELECT orders", "Client"), ("sweep", "Internal")]
        ops = [(o.name, o.kind) for o in store.operations("frontend", "Client")]
        assert ops == [("POST /pay", "Client")]
        calls = [(c.parent, c.child, c.calls) for c in store.service_calls(T0, T0 + 100 * S)]
        # frontend's client span -> backend's server span; backend -> postgres by peer.service;
        # frontend's client span names backend, which did send its child: counted once.
        assert calls == [("backend", "postgres", 1), ("frontend", "backend", 1)]
        assert store.service_calls(T0 + 5 * S, T0 + 100 * S) == []

    run(traces_backend, tmp_path / "data", check, flush)


def test_the_clickhouse_store_answers_as_the_in_memory_one(
    traces_backend: Backend, tmp_path: Path
) -> None:
    """The two TraceReader implementations agree (the API's unit tests run on the memory one)."""
    memory = MemorySpanStore()
    memory.load(SPANS)
    queries = [q(service=s, limit=n) for s in ("frontend", "backend", "") for n in (1, 2, 10)]

    def check(store: SpanStore) -> None:
        for query in queries:
            assert store.find_traces(query) == memory.find_traces(query), query
        assert store.services() == memory.services()
        for service in ("frontend", "backend"):
            assert store.operations(service) == memory.operations(service)
        assert store.service_calls(T0, T0 + 100 * S) == memory.service_calls(T0, T0 + 100 * S)
        for lo, hi, n in (
            (T0, T0 + 100 * S, 1000),
            (T0 + 5 * S, T0 + 100 * S, 1000),
            (T0, T0 + 100 * S, 2),
        ):
            assert store.operation_latencies(lo, hi, n) == memory.operation_latencies(lo, hi, n)

    run(traces_backend, tmp_path / "data", check, flush=True)


def test_operation_latencies_count_each_span_once_with_its_p95(
    traces_backend: Backend, tmp_path: Path, flush: bool
) -> None:
    """Per (service, span name): spans started in the window and the p95 of their durations,
    interpolated between ranks (GET /checkout lasted 120 and 900 ms: p95 = 120 + 0.95 * 780)."""

    def check(store: SpanStore) -> None:
        if flush:
            store._inserter([SpanBatch(tuple(SPANS))])  # inserted twice: still counted once
        found = {
            (o.service, o.operation): (o.spans, round(o.p95_ns / 1e6, 3))
            for o in store.operation_latencies(T0, T0 + 100 * S)
        }
        assert found == {
            ("backend", "POST /pay"): (1, 90.0),
            ("backend", "SELECT orders"): (1, 40.0),
            ("backend", "sweep"): (1, 5.0),
            ("frontend", "GET /checkout"): (2, 861.0),
            ("frontend", "POST /pay"): (1, 100.0),
        }
        later = store.operation_latencies(T0 + 5 * S, T0 + 100 * S)
        assert [(o.service, o.operation, o.spans) for o in later] == [
            ("backend", "sweep", 1),
            ("frontend", "GET /checkout", 1),
        ]
        # The busiest operation first when cut: GET /checkout has two spans.
        assert [o.operation for o in store.operation_latencies(T0, T0 + 100 * S, 1)] == [
            "GET /checkout"
        ]
        assert store.operation_latencies(T0 + 100 * S, T0) == []

    run(traces_backend, tmp_path / "data", check, flush)


def test_a_replayed_or_resent_span_reads_once(traces_backend: Backend, tmp_path: Path) -> None:
    """A span inserted twice (a WAL replay after a crash between insert and checkpoint, a
    client's retry) is one span in every read, merged or not."""

    def check(store: SpanStore) -> None:
        store.flush_now()
        store._inserter([SpanBatch(tuple(SPANS))])  # the same spans inserted a second time
        assert store.trace(T1) == SPANS[:4]
        assert [len(t) for t in store.find_traces(q(service="frontend"))] == [1, 4]
        calls = [(c.parent, c.child, c.calls) for c in store.service_calls(T0, T0 + 100 * S)]
        assert calls == [("backend", "postgres", 1), ("frontend", "backend", 1)]

    run(traces_backend, tmp_path / "data", check, flush=False)


def test_spans_survive_a_restart_and_the_tables_follow_the_layout(
    traces_backend: Backend, tmp_path: Path
) -> None:
    data = tmp_path / "data"

    async def go() -> None:
        store = SpanStore(traces_backend, data, retention_ms=RETENTION)
        await store.start()
        await store.append(SpanBatch(tuple(SPANS)))
        await store.close()  # flushes
        again = SpanStore(traces_backend, data, retention_ms=RETENTION)
        await again.start()
        try:
            assert again.pipeline.stats().replayed_items == 0
            assert again.trace(T1) == SPANS[:4]
            lookup = traces_backend.query_arrow(
                f"SELECT TraceId, toUInt32(Start) AS s, toUInt32(End) AS e FROM {TRACE_ID_TS} "
                "ORDER BY TraceId"
            ).to_pylist()
            t0 = T0 // S
            assert lookup == [
                {"TraceId": T1, "s": t0, "e": t0},
                {"TraceId": T2, "s": t0 + 10, "e": t0 + 10},
                {"TraceId": T3, "s": t0 + 20, "e": t0 + 20},
            ]
            engine = (
                traces_backend.query_arrow(
                    "SELECT engine_full FROM system.tables WHERE name = {t:String} "
                    "AND database = currentDatabase()",
                    {"t": TRACES},
                )
                .column("engine_full")[0]
                .as_py()
            )
            assert stored_ttl_seconds(engine) == RETENTION // 1000
            # Other tools read the exporter's column names.
            row = traces_backend.query_arrow(
                f"SELECT ServiceName, SpanName, Duration, StatusCode, `Events.Name` AS ev "
                f"FROM {TRACES} WHERE SpanId = {{s:String}}",
                {"s": "c" * 16},
            ).to_pylist()
            assert row == [
                {"ServiceName": "backend", "SpanName": "POST /pay", "Duration": 90_000_000,
                 "StatusCode": "Error", "ev": ["exception"]}
            ]  # fmt: skip
        finally:
            await again.close()

    asyncio.run(go())


def test_a_data_dir_from_before_keeps_its_replacing_table_and_reads_the_same(
    traces_backend: Backend, tmp_path: Path
) -> None:
    """``otel_traces`` used to be a ReplacingMergeTree; a data dir made then keeps that table
    (nothing is recreated), takes new spans and reads them as a new one does."""
    old = Schema(TRACE_TABLES, retention_ms=RETENTION).create_statements()[0]
    traces_backend.command(old.replace("ENGINE = MergeTree()", "ENGINE = ReplacingMergeTree()"))

    def check(store: SpanStore) -> None:
        store.flush_now()
        store._inserter([SpanBatch(tuple(SPANS))])  # inserted twice, as after a replay
        assert store.trace(T1) == SPANS[:4]
        assert ids(store.find_traces(q())) == [T3, T2, T1]
        engine = traces_backend.query_arrow(
            "SELECT engine FROM system.tables WHERE name = {t:String} "
            "AND database = currentDatabase()",
            {"t": TRACES},
        )
        assert engine.column("engine")[0].as_py() == "ReplacingMergeTree"

    run(traces_backend, tmp_path / "data", check, flush=False)


def test_a_span_past_datetime64s_end_does_not_fail_its_flush(
    traces_backend: Backend, tmp_path: Path
) -> None:
    """OTLP times are unsigned 64-bit nanoseconds; DateTime64(9) ends in 2262. A span past that
    is cut to the end rather than failing its flush (and every retry of it): the spans inserted
    with it are stored."""

    def check(store: SpanStore) -> None:
        late = replace(sp("9" * 32, "9", "late", 0, 1, FRONT), start_ns=2**64 - 1)
        late = replace(late, duration_ns=2**64 - 1)
        store._inserter([SpanBatch((late, *SPANS))])
        assert store.trace(T1) == SPANS[:4]
        durations = traces_backend.query_arrow(
            f"SELECT Duration FROM {TRACES} WHERE SpanName = 'late'"
        ).column("Duration")
        # ClickHouse's server drops the row on insert by its TTL (past 2106 as a DateTime).
        assert durations.to_pylist() in ([], [2**63 - 1])

    run(traces_backend, tmp_path / "data", check, flush=False)
