"""The trace search's pure module (``frontend/src/tracesummary.js``) run in Node on the JSON
Spyglass's Jaeger API writes: a trace's summary (root, span count, services, errors, start,
duration) agrees with the waterfall the trace page draws from the same spans, for any tree;
sorting follows the page's sort choices; durations read as Jaeger's UI writes them; and the
search parameters are Jaeger's, in microseconds, empty fields left out."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.support.required import need_tool
from tests.support.venvs import REPO

from spyglass.core.spans import Span
from spyglass.server.ui._waterfall import waterfall
from spyglass.traces import jaeger_trace

SRC = REPO / "frontend" / "src"
RUN = """
import * as summary from %s;
let input = '';
process.stdin.on('data', (d) => { input += d; });
process.stdin.on('end', () => {
  const out = JSON.parse(input).map(([name, ...args]) => summary[name](...args));
  process.stdout.write(JSON.stringify(out));
});
"""
JS_SETTINGS = settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
TRACE = "0af7651916cd43dd8448eb211c80319c"
T0 = 1_765_000_000_000_000_000


@pytest.fixture(scope="module")
def node() -> str:
    return need_tool("node", "install Node.js 18+ (Debian: nodejs)")


def call_js(node: str, calls: list[list[Any]]) -> list[Any]:
    script = RUN % json.dumps((SRC / "tracesummary.js").as_uri())
    out = subprocess.run(
        [node, "--input-type=module", "-e", script],
        input=json.dumps(calls),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    result: list[Any] = json.loads(out.stdout)
    return result


def _span(sid: str, parent: str, start_us: int, dur_us: int, service: str, error: bool) -> Span:
    return Span(
        trace_id=TRACE,
        span_id=sid,
        parent_span_id=parent,
        name=f"op-{sid}",
        start_ns=T0 + start_us * 1000,
        duration_ns=dur_us * 1000,
        service_name=service,
        status_code="Error" if error else "Unset",
    )


IDS = [f"{i:016x}" for i in range(1, 10)]
SPANS = st.lists(
    st.tuples(
        st.sampled_from(IDS),
        st.sampled_from(["", "ffffffffffffffff", *IDS]),
        st.integers(0, 10_000),
        st.integers(0, 10_000),
        st.sampled_from(["api", "db", "<b>x</b>"]),
        st.booleans(),
    ),
    min_size=1,
    max_size=9,
    unique_by=lambda t: t[0],
)


@JS_SETTINGS
@given(st.lists(SPANS, min_size=1, max_size=5))
def test_a_summary_agrees_with_the_waterfall(node: str, traces: list[list[Any]]) -> None:
    span_lists = [[_span(*t) for t in spec] for spec in traces]
    out = call_js(node, [["summarise", jaeger_trace(spans)] for spans in span_lists])
    for spans, summary in zip(span_lists, out, strict=True):
        w = waterfall(spans)
        assert summary["spans"] == len(spans)
        assert summary["errors"] == w.errors
        assert summary["durationUs"] == w.duration_ns // 1000
        assert summary["startUs"] == w.start_ns // 1000
        assert [tuple(s) for s in summary["services"]] == list(w.services)
        # The root is the earliest span without a parent in the trace, as the waterfall's.
        assert summary["operation"] == w.root.span.name
        assert summary["service"] == w.root.span.service_name


def test_sorting_follows_the_pages_choices(node: str) -> None:
    items = [
        {"traceID": "a", "startUs": 1, "durationUs": 30, "spans": 2},
        {"traceID": "b", "startUs": 3, "durationUs": 10, "spans": 5},
        {"traceID": "c", "startUs": 2, "durationUs": 20, "spans": 1},
    ]
    sorts = ["recent", "longest", "shortest", "most-spans", "fewest-spans", "nonsense"]
    out = call_js(node, [["sortSummaries", items, s] for s in sorts])
    order = [[i["traceID"] for i in result] for result in out]
    assert order == [
        ["b", "c", "a"],
        ["a", "c", "b"],
        ["b", "c", "a"],
        ["b", "a", "c"],
        ["c", "a", "b"],
        ["b", "c", "a"],  # an unknown sort is the default, most recent first
    ]


def test_durations_and_search_parameters(node: str) -> None:
    state = {"service": "api", "operation": "", "tags": " error=true ", "minDuration": "100ms",
             "maxDuration": "", "limit": "20"}  # fmt: skip
    out = call_js(
        node,
        [
            ["formatMicros", 850],
            ["formatMicros", 12_345],
            ["formatMicros", 1_500_000],
            ["formatMicros", 123_000_000],
            ["searchParams", state, 1_765_000_000_000, 1_765_000_600_000.7],
        ],
    )
    assert out[:4] == ["850μs", "12.35ms", "1.5s", "2m 3s"]
    assert out[4] == {
        "service": "api",
        "tags": "error=true",
        "minDuration": "100ms",
        "limit": "20",
        "start": "1765000000000000",
        "end": "1765000600000000",
    }
