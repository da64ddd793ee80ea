"""The single-process HTTP metrics render what prometheus_client's own metrics would.

``RequestMetrics`` replaces prometheus_client's Counter/Histogram/Gauge objects on the request
path for speed; a scrape must not be able to tell the difference. Each case records the same
requests into both and compares the exposition pages (text and OpenMetrics, exemplars included);
only creation times and exemplar timestamps, which are clock readings, are left out.
"""

from __future__ import annotations

import re
import threading
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, disable_created_metrics, enable_created_metrics

from spyglass.sdk._metrics import (
    DURATION_BUCKETS,
    SIZE_BUCKETS,
    HttpRecorder,
    RequestMetrics,
    http_metrics,
    render,
)

OPENMETRICS = "application/openmetrics-text; version=1.0.0"
# Exemplar timestamps and *_created values are times of day, different in each registry.
_EXEMPLAR_TS = re.compile(r"(# \{[^}]*\} \S+) \S+$")

durations = st.one_of(
    st.sampled_from(DURATION_BUCKETS),  # exactly on a bound: counted in that "le" bucket
    st.floats(min_value=0.0, max_value=30.0, allow_nan=False),
)
sizes = st.one_of(st.sampled_from([int(b) for b in SIZE_BUCKETS]), st.integers(0, 20_000_000))
requests = st.lists(
    st.tuples(
        st.sampled_from(["GET", "POST", "OTHER"]),
        st.sampled_from(["/items/{item_id}", "/", "<unmatched>"]),
        st.sampled_from([200, 201, 404, 500]),
        durations,
        sizes,
        sizes,
        st.booleans(),  # sampled: carries an exemplar
        st.booleans(),  # still in progress at scrape time
    ),
    max_size=40,
)
bucket_sets = st.sampled_from([DURATION_BUCKETS, (0.1, 1.0, float("inf")), (2.5,)])


def page_lines(registry: CollectorRegistry, accept: str) -> list[str]:
    body, _ = render(registry, accept)
    out = []
    for line in body.decode().splitlines():
        if "_created" in line:
            continue
        out.append(_EXEMPLAR_TS.sub(r"\1", line))
    return sorted(out)


Request = tuple[str, str, int, float, int, int, bool, bool]


def record(recorder: HttpRecorder, reqs: list[Request]) -> None:
    for method, route, code, elapsed, qbytes, rbytes, sampled, running in reqs:
        exemplar = {"trace_id": "ab" * 16, "span_id": f"{code:016x}"} if sampled else None
        stats = recorder.route(method, route)
        stats.start()
        if running:
            continue
        stats.record(code, elapsed, qbytes, rbytes, exemplar)
        stats.done()


@settings(max_examples=100, deadline=None)
@given(reqs=requests, buckets=bucket_sets)
def test_same_pages_as_prometheus_client(reqs: list[Request], buckets: tuple[float, ...]) -> None:
    ours, reference = CollectorRegistry(), CollectorRegistry()
    record(RequestMetrics(ours, buckets), reqs)
    record(http_metrics(reference, buckets), reqs)
    for accept in ("", OPENMETRICS):
        assert page_lines(ours, accept) == page_lines(reference, accept)
    families = [(m.name, m.type, m.documentation) for m in ours.collect()]
    assert families == [(m.name, m.type, m.documentation) for m in reference.collect()]
    created = {(s.name, tuple(sorted(s.labels.items()))) for m in ours.collect() for s in m.samples}
    assert created == {
        (s.name, tuple(sorted(s.labels.items()))) for m in reference.collect() for s in m.samples
    }


def test_created_series_follow_prometheus_clients_switch() -> None:
    registry = CollectorRegistry()
    record(RequestMetrics(registry), [("GET", "/", 200, 0.01, 0, 10, False, False)])
    assert registry.get_sample_value(
        "http_requests_created", {"method": "GET", "route": "/", "status_code": "200"}
    )
    disable_created_metrics()  # type: ignore[no-untyped-call]
    try:
        assert "_created" not in render(registry, "")[0].decode()
    finally:
        enable_created_metrics()  # type: ignore[no-untyped-call]


def test_metrics_cannot_be_registered_twice() -> None:
    registry = CollectorRegistry()
    RequestMetrics(registry)
    with pytest.raises(ValueError, match="Duplicated"):
        RequestMetrics(registry)
    with pytest.raises(ValueError, match="Duplicated"):
        http_metrics(registry)


@pytest.mark.parametrize("buckets", [(), (1.0, 0.5), (0.5, 0.5)])
def test_unusable_duration_buckets_are_refused(buckets: tuple[float, ...]) -> None:
    with pytest.raises(ValueError, match="buckets"):
        RequestMetrics(CollectorRegistry(), buckets)


def test_thousands_of_requests_from_several_threads_all_count() -> None:
    """Requests recorded in bulk (many more than are ever queued before being counted), from
    four threads at once, with scrapes in between, give the same page as prometheus_client;
    a status code's _created is the time of its first request, not of the scrape."""
    ours, reference = CollectorRegistry(), CollectorRegistry()
    recorder, client_metrics = RequestMetrics(ours), http_metrics(reference)
    reqs: list[Request] = [
        ("GET", "/items/{item_id}", (200, 404, 500)[i % 3], (i % 97) / 10, i * 7, i % 5000,
         i % 10 == 0, False)
        for i in range(3000)
    ]  # fmt: skip
    before = time.time()
    record(recorder, reqs[:1])
    first = time.time()
    chunks = [reqs[1 + i :: 4] for i in range(4)]
    threads = [threading.Thread(target=record, args=(recorder, chunk)) for chunk in chunks]
    for thread in threads:
        thread.start()
    for _ in range(20):
        render(ours, "")  # scrapes while the threads record
    for thread in threads:
        thread.join()
    record(client_metrics, reqs)

    def exact(lines: list[str]) -> list[str]:
        # Sums of floats added in another order (the threads interleave) may differ in the
        # last bit: those are compared below, to rounding.
        return [line for line in lines if "_sum{" not in line]

    # The text format: which request's exemplar is a bucket's latest depends on the threads'
    # interleaving too (the sequential test above compares exemplars).
    assert exact(page_lines(ours, "")) == exact(page_lines(reference, ""))
    for name in ("http_request_duration_seconds_sum", "http_request_size_bytes_sum"):
        labels = {"method": "GET", "route": "/items/{item_id}"}
        assert ours.get_sample_value(name, labels) == pytest.approx(
            reference.get_sample_value(name, labels), rel=1e-12
        )
    created = ours.get_sample_value(
        "http_requests_created",
        {"method": "GET", "route": "/items/{item_id}", "status_code": "200"},
    )
    assert created is not None
    assert before <= created <= first
