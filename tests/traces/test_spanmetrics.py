"""Span metrics: accepted spans become Tempo's RED series and service graph, cumulative, bounded,
stamped at each collection, and answer PromQL like any other metric."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spyglass.core.errors import Unavailable
from spyglass.core.exemplars import Exemplar
from spyglass.core.labels import Labels, labels_of
from spyglass.core.matchers import Matcher
from spyglass.core.samples import SampleBatch
from spyglass.core.spans import Span, SpanBatch
from spyglass.promql import Engine
from spyglass.server.component import Component
from spyglass.storage.memory import MemoryStore
from spyglass.traces import SPAN_METRICS_BUCKETS, SpanMetrics

T0 = 1_700_000_000.0  # seconds
TRACE = "5b8efff798038103d269b633813fc60c"


class Clock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Exemplars:
    def __init__(self) -> None:
        self.got: list[Exemplar] = []

    async def append_exemplars(self, exemplars: Sequence[Exemplar]) -> None:
        self.got += exemplars


def span(
    service: str = "api",
    name: str = "GET /items",
    *,
    ms: float = 5.0,
    kind: str = "Server",
    status: str = "Unset",
    trace: str = TRACE,
    sid: str = "a" * 16,
    parent: str = "",
) -> Span:
    return Span(
        trace_id=trace,
        span_id=sid,
        parent_span_id=parent,
        name=name,
        start_ns=int(T0 * 1e9),
        duration_ns=int(ms * 1e6),
        service_name=service,
        kind=kind,
        status_code=status,
    )


def samples(store: MemoryStore, name: str, at_ms: int) -> dict[Labels, float]:
    """Every series of ``name`` with its sample at exactly ``at_ms``."""
    out = {}
    for s in store.select([Matcher.of("__name__", "=", name)], at_ms, at_ms):
        out[tuple(p for p in s.labels if p[0] != "__name__")] = float(s.values[-1])
    return out


def flush(metrics: SpanMetrics) -> None:
    asyncio.run(metrics.flush())


API = labels_of(
    {
        "service": "api",
        "span_name": "GET /items",
        "span_kind": "SPAN_KIND_SERVER",
        "status_code": "STATUS_CODE_UNSET",
    }
)


def test_spans_become_calls_and_a_duration_histogram_in_tempos_names_and_buckets() -> None:
    store, clock = MemoryStore(), Clock()
    metrics = SpanMetrics(store, clock=clock)
    metrics(SpanBatch((span(ms=3), span(ms=3), span(ms=40), span(ms=20_000))))
    flush(metrics)
    now = int(T0 * 1000)
    assert samples(store, "traces_spanmetrics_calls_total", now) == {API: 4.0}
    assert samples(store, "traces_spanmetrics_duration_seconds_count", now) == {API: 4.0}
    assert samples(store, "traces_spanmetrics_duration_seconds_sum", now)[API] == pytest.approx(
        20.046
    )
    got = samples(store, "traces_spanmetrics_duration_seconds_bucket", now)
    buckets = {
        dict(k)["le"]: v for k, v in sorted(got.items(), key=lambda kv: float(dict(kv[0])["le"]))
    }
    # Tempo's defaults: 0.002 doubling 14 times, then +Inf; a 20 s span is only in +Inf.
    assert list(buckets) == [
        "0.002", "0.004", "0.008", "0.016", "0.032", "0.064", "0.128", "0.256", "0.512",
        "1.024", "2.048", "4.096", "8.192", "16.384", "+Inf",
    ]  # fmt: skip
    assert buckets["0.002"] == 0
    assert buckets["0.004"] == 2
    assert buckets["0.032"] == 2
    assert buckets["0.064"] == 3
    assert buckets["16.384"] == 3
    assert buckets["+Inf"] == 4


def test_kind_and_status_are_otlp_enum_names_and_each_makes_its_own_series() -> None:
    store = MemoryStore()
    metrics = SpanMetrics(store, clock=Clock())
    metrics(SpanBatch((span(kind="Client", status="Error"), span(kind="Internal", status="Ok"))))
    flush(metrics)
    got = samples(store, "traces_spanmetrics_calls_total", int(T0 * 1000))
    assert {(dict(k)["span_kind"], dict(k)["status_code"]) for k in got} == {
        ("SPAN_KIND_CLIENT", "STATUS_CODE_ERROR"),
        ("SPAN_KIND_INTERNAL", "STATUS_CODE_OK"),
    }


def test_a_new_series_starts_at_zero_one_interval_before_its_first_value() -> None:
    store, clock = MemoryStore(), Clock()
    metrics = SpanMetrics(store, clock=clock, interval_ms=15_000)
    metrics(SpanBatch((span(),)))
    flush(metrics)
    now = int(T0 * 1000)
    assert samples(store, "traces_spanmetrics_calls_total", now - 15_000) == {API: 0.0}
    assert samples(store, "traces_spanmetrics_calls_total", now) == {API: 1.0}
    clock.now += 15
    flush(metrics)
    # Only once: the second collection writes the value alone.
    (series,) = store.select(
        [Matcher.of("__name__", "=", "traces_spanmetrics_calls_total")], 0, now + 60_000
    )
    assert series.timestamps.tolist() == [now - 15_000, now, now + 15_000]
    assert series.values.tolist() == [0.0, 1.0, 1.0]


def test_counters_are_cumulative_across_collections() -> None:
    store, clock = MemoryStore(), Clock()
    metrics = SpanMetrics(store, clock=clock)
    metrics(SpanBatch((span(),) * 3))
    flush(metrics)
    clock.now += 15
    metrics(SpanBatch((span(),) * 2))
    flush(metrics)
    assert samples(store, "traces_spanmetrics_calls_total", int(clock.now * 1000)) == {API: 5.0}


def test_label_sets_beyond_the_limit_are_dropped_and_counted() -> None:
    store = MemoryStore()
    metrics = SpanMetrics(store, clock=Clock(), max_series=2, service_graph=False)
    metrics(SpanBatch((*(span(name=f"op{i}") for i in range(5)), span(name="op0"))))
    flush(metrics)
    got = samples(store, "traces_spanmetrics_calls_total", int(T0 * 1000))
    assert sorted(dict(k)["span_name"] for k in got) == ["op0", "op1"]
    assert got[next(k for k in got if dict(k)["span_name"] == "op0")] == 2
    stats = metrics.stats()
    assert (stats.spans_measured, stats.spans_dropped) == (3, 3)
    # two counters' series plus two histograms of 15 buckets, _sum and _count
    assert stats.active_series == 2 + 2 * 17


def test_a_series_without_spans_for_the_stale_time_is_forgotten() -> None:
    store, clock = MemoryStore(), Clock()
    metrics = SpanMetrics(store, clock=clock, stale_after_ms=60_000)
    metrics(SpanBatch((span(service="old"),)))
    flush(metrics)
    clock.now += 45
    metrics(SpanBatch((span(service="new"),)))
    clock.now += 30  # "old" last updated 75 s ago, "new" 30 s ago
    flush(metrics)
    got = samples(store, "traces_spanmetrics_calls_total", int(clock.now * 1000))
    assert [dict(k)["service"] for k in got] == ["new"]


def test_each_bucket_carries_its_latest_span_as_exemplar_once() -> None:
    store, exemplars = MemoryStore(), Exemplars()
    clock = Clock()
    metrics = SpanMetrics(store, exemplars, clock=clock, service_graph=False)
    t1, t2, t3 = "1" * 32, "2" * 32, "3" * 32
    metrics(SpanBatch((span(ms=3, trace=t1), span(ms=3.5, trace=t2), span(ms=100, trace=t3))))
    flush(metrics)
    got = {(dict(e.series)["le"], dict(e.labels)["trace_id"], e.value) for e in exemplars.got}
    assert got == {("0.004", t2, 0.0035), ("0.128", t3, 0.1)}
    assert {e.timestamp_ms for e in exemplars.got} == {int(T0 * 1000)}
    assert all(
        dict(e.series)["__name__"] == "traces_spanmetrics_duration_seconds_bucket"
        for e in exemplars.got
    )
    clock.now += 15
    flush(metrics)  # no new spans: no new exemplars
    assert len(exemplars.got) == 2


def test_the_service_graph_pairs_client_and_server_spans_across_batches() -> None:
    store, clock = MemoryStore(), Clock()
    metrics = SpanMetrics(store, clock=clock)
    # frontend calls orders twice (one fails on the server side) and payments once
    metrics(
        SpanBatch(
            (
                span("frontend", kind="Client", sid="c1" * 8, ms=30),
                span("frontend", kind="Client", sid="c2" * 8, ms=30),
                span("frontend", kind="Client", sid="c3" * 8, ms=300),
            )
        )
    )
    metrics(
        SpanBatch(
            (
                span("orders", kind="Server", sid="s1" * 8, parent="c1" * 8, ms=20),
                span("orders", kind="Server", sid="s2" * 8, parent="c2" * 8, status="Error"),
            )
        )
    )
    metrics(SpanBatch((span("payments", kind="Server", sid="s3" * 8, parent="c3" * 8, ms=250),)))
    flush(metrics)
    now = int(T0 * 1000)
    orders = labels_of({"client": "frontend", "server": "orders"})
    payments = labels_of({"client": "frontend", "server": "payments"})
    assert samples(store, "traces_service_graph_request_total", now) == {
        orders: 2.0,
        payments: 1.0,
    }
    assert samples(store, "traces_service_graph_request_failed_total", now) == {orders: 1.0}
    server = samples(store, "traces_service_graph_request_server_seconds_bucket", now)
    server_p = {dict(k)["le"]: v for k, v in server.items() if dict(k)["server"] == "payments"}
    assert (server_p["0.2"], server_p["0.4"], server_p["+Inf"]) == (0.0, 1.0, 1.0)
    client_sum = samples(store, "traces_service_graph_request_client_seconds_sum", now)
    assert client_sum[payments] == pytest.approx(0.3)


def test_a_half_edge_that_waits_in_vain_is_unpaired_and_a_full_wait_list_drops() -> None:
    store, clock = MemoryStore(), Clock()
    metrics = SpanMetrics(
        store, clock=clock, service_graph_wait_ms=10_000, service_graph_max_pending=2
    )
    metrics(
        SpanBatch(
            (
                span("a", kind="Client", sid="1" * 16),
                span("a", kind="Client", sid="2" * 16),
                span("a", kind="Client", sid="3" * 16),  # a third waiting half: dropped
            )
        )
    )
    assert metrics.graph is not None
    assert (metrics.graph.pending, metrics.graph.dropped) == (2, 1)
    clock.now += 11
    metrics(SpanBatch((span("b", kind="Server", sid="9" * 16, parent="1" * 16),)))
    flush(metrics)  # both clients waited 11 s: the late server half finds nobody
    assert metrics.graph.unpaired == 2
    assert metrics.graph.pending == 1
    assert samples(store, "traces_service_graph_request_total", int(clock.now * 1000)) == {}


def test_a_refused_collection_is_counted_and_the_next_one_catches_up() -> None:
    class Flaky(MemoryStore):
        refuse = True

        async def append(self, batch: SampleBatch) -> None:
            if self.refuse:
                raise Unavailable("buffer full")
            await super().append(batch)

    store, clock = Flaky(), Clock()
    metrics = SpanMetrics(store, clock=clock)
    metrics(SpanBatch((span(),) * 2))
    flush(metrics)
    assert metrics.stats().flush_failures == 1
    store.refuse = False
    clock.now += 15
    metrics(SpanBatch((span(),)))
    flush(metrics)
    assert samples(store, "traces_spanmetrics_calls_total", int(clock.now * 1000)) == {API: 3.0}


def test_stop_writes_a_last_collection() -> None:
    """SpanMetrics is a component (the runtime starts and stops it with the others)."""
    store = MemoryStore()
    metrics = SpanMetrics(store, clock=Clock())
    component: Component = metrics
    assert component.routes() == ()
    assert component.name == "span-metrics"

    async def run() -> None:
        await metrics.start()
        metrics(SpanBatch((span(),)))
        await metrics.stop()

    asyncio.run(run())
    assert samples(store, "traces_spanmetrics_calls_total", int(T0 * 1000)) == {API: 1.0}


def test_red_metrics_answer_promql_rate_and_histogram_quantile() -> None:
    """Ten minutes of traffic: api serves 2 spans/s (90% at 10 ms, 10% at 1 s), db 1 span/s;
    collections every 15 s. The engine reads the same rates and quantiles Tempo's would give."""
    store, clock = MemoryStore(), Clock()
    metrics = SpanMetrics(store, clock=clock, interval_ms=15_000)
    for step in range(40):
        spans = []
        for i in range(30):  # 15 s at 2/s
            spans.append(span("api", ms=1000 if i % 10 == 0 else 10))
        spans += [span("db", "SELECT", kind="Client", ms=2)] * 15
        metrics(SpanBatch(tuple(spans)))
        clock.now = T0 + 15 * (step + 1)
        flush(metrics)
    engine = Engine(store)
    now_ms = int(clock.now * 1000)
    r = engine.instant_query("sum by (service) (rate(traces_spanmetrics_calls_total[1m]))", now_ms)
    rates = {dict(labels)["service"]: value for labels, value in r.vector}
    assert rates == {"api": pytest.approx(2.0), "db": pytest.approx(1.0)}
    r = engine.instant_query(
        "histogram_quantile(0.9, sum by (le) "
        '(rate(traces_spanmetrics_duration_seconds_bucket{service="api"}[1m])))',
        now_ms,
    )
    ((_, p90),) = r.vector
    # 90% of spans are in the 16 ms bucket (8-16 ms): the 0.9 quantile is its upper bound
    assert p90 == pytest.approx(0.016)
    r = engine.instant_query(
        "histogram_quantile(0.95, sum by (le) "
        '(rate(traces_spanmetrics_duration_seconds_bucket{service="api"}[1m])))',
        now_ms,
    )
    ((_, p95),) = r.vector
    # the top 10% sit in (0.512, 1.024]: the 0.95 quantile interpolates to its middle
    assert p95 == pytest.approx(0.768)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0, 40, allow_nan=False), min_size=1, max_size=40))
def test_histogram_buckets_are_cumulative_and_agree_with_count_and_sum(ms: list[float]) -> None:
    store = MemoryStore()
    metrics = SpanMetrics(store, clock=Clock(), service_graph=False)
    metrics(SpanBatch(tuple(span(ms=m * 1000) for m in ms)))
    flush(metrics)
    now = int(T0 * 1000)
    buckets = samples(store, "traces_spanmetrics_duration_seconds_bucket", now)
    by_le = sorted(
        (math.inf if dict(k)["le"] == "+Inf" else float(dict(k)["le"]), v)
        for k, v in buckets.items()
    )
    values = [v for _, v in by_le]
    assert values == sorted(values)
    assert values[-1] == len(ms)
    durations = [int(m * 1000 * 1e6) / 1e9 for m in ms]
    for le, v in by_le:
        assert v == sum(1 for d in durations if d <= le)
    assert samples(store, "traces_spanmetrics_duration_seconds_count", now) == {API: len(ms)}
    total = samples(store, "traces_spanmetrics_duration_seconds_sum", now)[API]
    assert total == pytest.approx(sum(durations))
    assert len(by_le) == len(SPAN_METRICS_BUCKETS) + 1
