"""Reading selections as columns with label codes changes no answer.

The engine reads a ``ColumnQuerier`` (the in-memory head) as one array of samples per selector
and groups ``by`` with the head's label codes instead of label tuples. Random queries over the
same data must answer exactly what the plain per-series path answers (values bit for bit,
labels, order, annotations and errors), with the head's series all numbered in label order and
with some created after the numbering (then they come unsorted and without codes).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spyglass.core.errors import QueryError
from spyglass.core.labels import fingerprint, labels_of
from spyglass.core.matchers import Matcher
from spyglass.core.samples import STALE_NAN, SampleBatch
from spyglass.promql import Engine, EngineOptions
from spyglass.promql._engine import QueryResult
from spyglass.storage.memory import MemoryStore
from spyglass.storage.metrics import Head
from spyglass.storage.ports import ColumnQuerier, SeriesColumns, SeriesData

STEP = 30_000
SERIES: list[tuple[dict[str, str], list[float]]] = [
    ({"__name__": "a_total", "x": "1"}, [1, 2, 3, STALE_NAN, 5, 6, 0, 1, math.nan, 2]),
    ({"__name__": "a_total", "x": "2", "y": "2"}, [10, 5, 20, 30, 40, 50, 60, 70, 80, 90]),
    ({"__name__": "a_total", "x": "3", "y": "2"}, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]),
    ({"__name__": "b", "x": "1"}, [0.5, math.inf, -1, 2, 3, -math.inf, 4, 5, 6, 7]),
    ({"__name__": "b", "y": "3"}, [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]),
    ({"__name__": "b", "x": "2", "__type__": "gauge"}, [3, 2, 1, 0, 1, 2, 3, 4, 5, 6]),
]
# Created after ``rank``: these come back unranked, so the engine sorts them itself.
LATE: list[tuple[dict[str, str], list[float]]] = [
    ({"__name__": "a_total", "x": "0"}, [5, 4, 3, 2, 1, 0, 1, 2, 3, 4]),
    ({"__name__": "b", "x": "0", "y": "9"}, [1e308, 1e308, 1e308, 0, 0, 0, 0, 0, 0, 1]),
]


class HeadQuerier:
    """``MetricsStore``'s reads when its head holds the whole range."""

    def __init__(self, head: Head) -> None:
        self.head = head

    def select(self, matchers: Sequence[Matcher], start_ms: int, end_ms: int) -> list[SeriesData]:
        _, found = self.head.select(matchers, start_ms, end_ms)
        return [SeriesData(ls, ts, vals) for _, ls, ts, vals in found]

    def select_columns(
        self, matchers: Sequence[Matcher], start_ms: int, end_ms: int
    ) -> SeriesColumns:
        return self.head.select_columns(matchers, start_ms, end_ms)[1]


def _append(head: Head, rows: list[tuple[dict[str, str], list[float]]]) -> None:
    for labels, values in rows:
        ls = labels_of(labels)
        fp = fingerprint(ls)
        head.append(
            SampleBatch(
                {fp: ls},
                np.full(len(values), fp, np.uint64),
                np.arange(len(values), dtype=np.int64) * STEP,
                np.array(values, np.float64),
            )
        )


def _head(late: bool) -> Head:
    head = Head(10 * 24 * 3_600_000, clock=lambda: 1_000.0)
    head.begin(0)
    _append(head, SERIES)
    head.mark_valid()
    head.rank()
    if late:
        _append(head, LATE)
    return head


def _engines(late: bool, delayed: bool) -> tuple[Engine, Engine]:
    store = MemoryStore()
    for labels, values in SERIES + (LATE if late else []):
        store.add(labels_of(labels), [i * STEP for i in range(len(values))], values)
    options = EngineOptions(
        max_samples=100_000, delayed_name_removal=delayed, experimental_functions=True
    )
    columns = HeadQuerier(_head(late))
    assert isinstance(columns, ColumnQuerier)
    return Engine(store, options), Engine(columns, options)  # type: ignore[arg-type]


ENGINES = {
    (late, delayed): _engines(late, delayed) for late in (False, True) for delayed in (False, True)
}

_SELECTORS = ["a_total", "b", '{__name__=~"a_total|b"}', 'a_total{y="2"}', 'b{x!="1"}', "none"]
_GROUPING = ["x", "y", "x, y", "", "__name__", "y, __name__", "nope", "x, x"]
_AGGS = ["sum", "avg", "min", "max", "count", "stddev", "group", "quantile(0.5,"]


_inner = st.one_of(
    st.sampled_from(_SELECTORS),
    st.builds(
        lambda f, s, r: f"{f}({s}[{r}])",
        st.sampled_from(["rate", "increase", "irate", "delta", "max_over_time", "resets"]),
        st.sampled_from(_SELECTORS),
        st.sampled_from(["1m", "2m", "5m"]),
    ),
)


@st.composite
def _queries(draw: st.DrawFn) -> str:
    inner = draw(_inner)
    kind = draw(st.sampled_from(["agg", "topk", "plain", "nested", "binary", "count_values"]))
    group = draw(st.sampled_from(_GROUPING))
    clause = draw(st.sampled_from(["by", "without"])) + f" ({group})"
    if kind == "plain":
        return inner
    if kind == "topk":
        k = draw(st.integers(0, 3))
        op = draw(st.sampled_from(["topk", "bottomk", "limitk"]))
        return f"{op} {clause} ({k}, {inner})"
    if kind == "count_values":
        return f'count_values {clause} ("v", {inner})'
    op = draw(st.sampled_from(_AGGS))
    if op.startswith("quantile"):
        agg = f"quantile {clause} (0.5, {inner})"
    else:
        agg = f"{op} {clause} ({inner})"
    if kind == "nested":
        return f"sum by (y) ({agg})"
    if kind == "binary":
        return f"{agg} / on() group_left() sum({inner})"
    return agg


def _shape(result: QueryResult) -> object:
    """The answer with floats as bits (NaN equals NaN), in its order."""

    def bits(v: float) -> int:
        return int(np.float64(v).view(np.uint64))

    return (
        result.result_type,
        [(ls, bits(v)) for ls, v in result.vector],
        [(ls, ts.tolist(), vs.view(np.uint64).tolist()) for ls, ts, vs in result.matrix],
        None if result.scalar is None else bits(result.scalar),
        result.warnings,
        result.infos,
        result.samples_processed,
    )


def _run(engine: Engine, query: str, range_query: bool) -> object:
    try:
        if range_query:
            return _shape(engine.evaluate_range(query, 0, 9 * STEP, STEP))
        return _shape(engine.instant_query(query, 9 * STEP))
    except QueryError as err:
        return ("error", str(err))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    query=_queries(),
    late=st.booleans(),
    delayed=st.booleans(),
    range_query=st.booleans(),
)
def test_columns_and_label_codes_answer_as_per_series_reads(
    query: str, late: bool, delayed: bool, range_query: bool
) -> None:
    plain, columns = ENGINES[(late, delayed)]
    assert _run(columns, query, range_query) == _run(plain, query, range_query)


def test_name_collisions_after_dropping_the_name_are_still_found() -> None:
    """Two series that differ only by name collide once ``rate`` drops it: the codes show two
    names, so the engine merges (here: fails) as Prometheus does."""
    plain, columns = ENGINES[(False, False)]
    query = 'rate({__name__=~"a_total|b", x="1"}[5m])'
    with pytest.raises(QueryError, match="same labelset"):
        plain.instant_query(query, 9 * STEP)
    with pytest.raises(QueryError, match="same labelset"):
        columns.instant_query(query, 9 * STEP)
