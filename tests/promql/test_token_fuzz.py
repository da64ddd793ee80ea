"""Token soup: strings built from PromQL's own tokens, mostly malformed, through the engine.

Whatever the text, instant and range queries answer or raise one of Spyglass' own errors (a
parse or query error with its message), never an internal exception. Unlike the well-formed
fuzz in test_engine_fuzz.py this aims at the parser and the edges: hostile numbers (``1e308``,
``-Inf``), durations past int64, ``@`` and ``offset`` in odd places, experimental functions on
and off. A bounded run is in the default suite; ``scripts/test --slow`` runs a long one.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spyglass.core.errors import SpyglassError
from spyglass.core.labels import labels_of
from spyglass.promql import Engine, EngineOptions
from spyglass.storage.memory import MemoryStore

_TOKENS = [
    "m", "g", "nope", "{", "}", 'job="j0"', 'job=~"j.*"', 'le!="1"', "[", "]", "5m", "1m:30s",
    "0s", "1y", "offset", "-5m", "@", "start()", "end()", "100", "(", ")", ",", "+", "-", "*",
    "/", "%", "^", "==", "!=", "> bool", "<", "and", "or", "unless", "on(job)", "ignoring(le)",
    "group_left", "group_right(job)", "by (job)", "without (le)", "sum", "avg", "topk(2,",
    "bottomk(", "quantile(0.5,", 'count_values("x",', "stddev", "group", "limitk(1,",
    "limit_ratio(0.5,", "rate(", "irate(", "increase(", "delta(", "deriv(", "predict_linear(",
    "double_exponential_smoothing(", "histogram_quantile(0.9,", "label_replace(", "label_join(",
    '"a"', '""', '".*"', '"("', "absent(", "absent_over_time(", "scalar(", "vector(", "time()",
    "timestamp(", "sort_by_label(", "clamp(", "round(", "0.5", "NaN", "Inf", "-Inf", "1e308",
    "0x10", "changes(", "resets(", "last_over_time(", "mad_over_time(", "quantile_over_time(0.5,",
    "info(", "minute(", "sgn(", "ln(", "exp(", "acos(", "atan2", "#", "\n", " ",
]  # fmt: skip
_STEP_MS = 15_000


def _store() -> MemoryStore:
    store = MemoryStore()
    times = [j * _STEP_MS for j in range(40)]
    for i in range(6):
        le = ["0.1", "1", "+Inf"][i % 3]
        values = [float(j * (i + 1)) if j != 20 else math.nan for j in range(40)]
        store.add(labels_of({"__name__": "m", "job": f"j{i % 2}", "le": le}), times, values)
        gauge = [float((j * 7919) % 13) - 6 for j in range(40)]
        store.add(labels_of({"__name__": "g", "instance": f"i{i}"}), times, gauge)
    return store


_STORE = _store()
_ENGINES = (Engine(_STORE), Engine(_STORE, EngineOptions(experimental_functions=True)))
_QUERIES = st.lists(st.sampled_from(_TOKENS), min_size=1, max_size=14).map(" ".join)
_TIMES = st.sampled_from([0, 300_000, 585_000, -1, 10**15])


def _answers_or_raises_own_error(query: str, experimental: int, at_ms: int) -> None:
    engine = _ENGINES[experimental]
    messages = []
    try:
        engine.instant_query(query, at_ms)
    except SpyglassError as e:
        messages.append(str(e))
    try:
        engine.range_query(query, 0, 600_000, 30_000)
    except SpyglassError as e:
        messages.append(str(e))
    # An error says what is wrong.
    assert all(messages), messages


@settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))
@given(_QUERIES, st.integers(0, 1), _TIMES)
def test_token_soup_answers_or_raises_own_errors(query: str, experimental: int, at: int) -> None:
    _answers_or_raises_own_error(query, experimental, at)


@pytest.mark.slow
@settings(max_examples=30_000, deadline=None, suppress_health_check=list(HealthCheck))
@given(_QUERIES, st.integers(0, 1), _TIMES)
def test_token_soup_long_run(query: str, experimental: int, at: int) -> None:
    _answers_or_raises_own_error(query, experimental, at)
