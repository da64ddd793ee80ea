"""Random well-formed queries over random data: the engine answers or raises a QueryError,
never crashes, and instant results agree with the same step of a range query."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spyglass.core.errors import ParseError, QueryError
from spyglass.core.labels import labels_of
from spyglass.core.samples import STALE_NAN
from spyglass.promql import Engine, EngineOptions
from spyglass.storage.memory import MemoryStore

_SELECTORS = ["a", "b", 'a{x="1"}', '{__name__=~"a|b"}', "missing", 'b{y!="2"}']
_RANGE_FUNCS = [
    "rate",
    "irate",
    "increase",
    "delta",
    "idelta",
    "deriv",
    "resets",
    "changes",
    "avg_over_time",
    "sum_over_time",
    "min_over_time",
    "max_over_time",
    "count_over_time",
    "last_over_time",
    "stddev_over_time",
    "present_over_time",
]
_FUNCS = [
    "abs",
    "ceil",
    "floor",
    "sqrt",
    "exp",
    "ln",
    "round",
    "sgn",
    "timestamp",
    "sort",
    "sort_desc",
    "absent",
]
_AGGS = ["sum", "avg", "min", "max", "count", "stddev", "stdvar", "group"]
_OPS = ["+", "-", "*", "/", "%", "^", "==", "!=", ">", "<", ">=", "<=", "and", "or", "unless"]


def _vector(depth: int) -> st.SearchStrategy[str]:
    base = st.sampled_from(_SELECTORS)
    if depth <= 0:
        return base
    sub = _vector(depth - 1)
    return st.one_of(
        base,
        st.builds(
            lambda f, s, r: f"{f}({s}[{r}])",
            st.sampled_from(_RANGE_FUNCS),
            st.sampled_from(_SELECTORS),
            st.sampled_from(["30s", "1m", "5m"]),
        ),
        st.builds(lambda f, v: f"{f}({v})", st.sampled_from(_FUNCS), sub),
        st.builds(
            lambda a, g, v: f"{a} by ({g}) ({v})",
            st.sampled_from(_AGGS),
            st.sampled_from(["x", "y", "x, y", ""]),
            sub,
        ),
        st.builds(lambda k, v: f"topk({k}, {v})", st.integers(0, 3), sub),
        st.builds(lambda q, v: f"quantile({q}, {v})", st.sampled_from(["0", "0.5", "1", "2"]), sub),
        st.builds(
            lambda lhs, o, m, rhs: f"({lhs}) {o} {m} ({rhs})",
            sub,
            st.sampled_from(_OPS),
            st.sampled_from(["", "on(x)", "ignoring(y)", "on() group_left()"]),
            sub,
        ),
        st.builds(lambda v, n: f"({v}) * {n}", sub, st.sampled_from(["2", "-1", "NaN", "0"])),
        st.builds(lambda f, v: f"{f}(({v})[3m:1m])", st.sampled_from(_RANGE_FUNCS[7:]), sub),
        st.builds(lambda v: f"({v}) offset 1m", st.sampled_from(_SELECTORS)),
        st.builds(
            lambda v, a: f"{v} @ {a}",
            st.sampled_from(_SELECTORS),
            st.sampled_from(["100", "start()", "end()"]),
        ),
        st.builds(
            lambda q, v: f"histogram_quantile({q}, {v})",
            st.sampled_from(["0.5", "0.99", "NaN"]),
            sub,
        ),
        st.builds(lambda v: f'label_replace({v}, "z", "$1", "x", "(.*)")', sub),
        st.builds(lambda v: f'count_values("v", {v})', sub),
        st.builds(
            lambda q, s: f"quantile_over_time({q}, {s}[2m])",
            st.sampled_from(["0", "0.3", "1"]),
            st.sampled_from(_SELECTORS),
        ),
        st.builds(lambda s: f"predict_linear({s}[2m], 60)", st.sampled_from(_SELECTORS)),
        st.builds(lambda v: f"clamp({v}, 0, 5)", sub),
        st.builds(lambda v: f"max_over_time(({v})[2m:30s] offset 30s)", sub),
        st.builds(lambda v: f"absent_over_time({v}[1m])", st.sampled_from(_SELECTORS)),
    )


@pytest.fixture(scope="module")
def engine() -> Engine:
    store = MemoryStore()
    series = [
        ({"__name__": "a", "x": "1"}, [1, 2, 3, STALE_NAN, 5, 6, 0, 1, math.nan, 2]),
        ({"__name__": "a", "x": "2", "y": "2"}, [10, 5, 20, 30, 40, 50, 60, 70, 80, 90]),
        ({"__name__": "b", "x": "1"}, [0.5, math.inf, -1, 2, 3, -math.inf, 4, 5, 6, 7]),
        ({"__name__": "b", "y": "3"}, [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]),
    ]
    for labels, values in series:
        store.add(labels_of(labels), [i * 30_000 for i in range(len(values))], values)
    return Engine(store, EngineOptions(max_samples=100_000))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(query=_vector(2), t=st.integers(0, 330))
def test_random_queries_answer_or_fail_cleanly(engine: Engine, query: str, t: int) -> None:
    time_ms = t * 1000
    try:
        instant = engine.instant_query(query, time_ms)
    except (ParseError, QueryError):
        return
    try:
        rng = engine.range_query(query, time_ms - 60_000, time_ms + 60_000, 60_000)
    except (ParseError, QueryError):
        return
    if instant.result_type != "vector" or "start()" in query or "end()" in query:
        return  # @ start()/end() depend on the query's range by definition
    at_t = {}
    for labels, ts, vs in rng.matrix:
        for when, value in zip(ts.tolist(), vs.tolist(), strict=True):
            if when == time_ms:
                at_t[labels] = value
    got = dict(instant.vector)
    assert set(got) == set(at_t), query
    for labels, value in got.items():
        other = at_t[labels]
        assert (math.isnan(value) and math.isnan(other)) or math.isclose(
            value, other, rel_tol=1e-9, abs_tol=1e-12
        ), query
