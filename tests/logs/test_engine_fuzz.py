"""Any query the grammar can produce evaluates to a result or a Spyglass error over real-looking
lines: never an unexpected exception from deep inside the engine."""

from __future__ import annotations

import contextlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.logs.strategies import log_queries, metric_queries

from spyglass.core.errors import SpyglassError
from spyglass.core.labels import labels_of
from spyglass.core.logs import LogRecord
from spyglass.logs import Engine, LogQuery, parse_query
from spyglass.storage import MemoryLogStore

S = 10**9
_LINES = [
    '{"level":"error","status":500,"x":"1.5s","d":{"e":[1,2]}}',
    'level=info status=200 x=2 msg="hi there" app=shadow',
    "not json at all 10.0.0.7 \x1b[31mred\x1b[0m",
    '{"a.b":"c","status":"oops","x":"10MB"}',
    "",
]


def _store() -> MemoryLogStore:
    store = MemoryLogStore()
    store.load(
        LogRecord(
            (i + 1) * 7 * S,
            _LINES[i % len(_LINES)],
            labels_of({"app": "x", "env": ("a", "b", "c")[i % 3], "pod": str(i % 2)}),
            metadata={"status": "201"} if i % 4 == 0 else {},
        )
        for i in range(40)
    )
    return store


ENGINE = Engine(_store())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(log_queries, metric_queries), st.sampled_from([True, False]))
def test_any_query_evaluates_or_fails_cleanly(query: str, instant: bool) -> None:
    tree = parse_query(query)
    with contextlib.suppress(SpyglassError):
        if isinstance(tree, LogQuery) or not instant:
            ENGINE.range(query, 0, 300 * S, 30 * S, limit=50)
        else:
            ENGINE.instant(query, 150 * S)
