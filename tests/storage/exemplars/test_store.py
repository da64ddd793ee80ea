"""ExemplarStore on real ClickHouse engines (chDB, and a server over HTTP): what is appended reads
back by selector and time range, the same before and after it is flushed, and after a restart
that replays the WAL; the WAL record codec round-trips any exemplar."""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spyglass.core.errors import ParseError
from spyglass.core.exemplars import Exemplar, ExemplarBatch
from spyglass.core.labels import labels_of
from spyglass.core.matchers import Matcher
from spyglass.storage.backends import Backend, ClickHouseBackend
from spyglass.storage.exemplars import ExemplarStore
from spyglass.storage.exemplars._codec import decode_batch, encode_batch
from spyglass.storage.schema import EXEMPLAR_TABLES

T0 = 1_760_000_000_000  # ms, fixed
RETENTION = 10 * 365 * 86_400_000
LATENCY = labels_of({"__name__": "http_latency_bucket", "le": "0.5", "job": "api"})
LATENCY_WEB = labels_of({"__name__": "http_latency_bucket", "le": "0.5", "job": "web"})
ORDERS = labels_of({"__name__": "orders_total", "job": "api"})
EXEMPLARS = [
    Exemplar(LATENCY, (("trace_id", "a" * 32),), 0.31, T0),
    Exemplar(LATENCY, (("span_id", "b" * 16), ("trace_id", "b" * 32)), 0.42, T0 + 15_000),
    Exemplar(LATENCY_WEB, (("trace_id", "c" * 32),), 0.12, T0 + 5_000),
    Exemplar(ORDERS, (("trace_id", "d" * 32),), 1.0, T0 + 20_000),
]


@pytest.fixture(params=["chdb", "clickhouse-server"])
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    if request.param == "chdb":
        chosen: Backend = request.getfixturevalue("chdb_backend")
    else:
        chosen = ClickHouseBackend(request.getfixturevalue("clickhouse_url"))
    for table in EXEMPLAR_TABLES:
        chosen.command(f"DROP TABLE IF EXISTS {table.name} SYNC")
    yield chosen
    if request.param != "chdb":
        chosen.close()


def sel(selector: dict[str, str]) -> list[Matcher]:
    return [Matcher.of(k, "=~" if v.endswith(".*") else "=", v) for k, v in selector.items()]


def test_exemplars_read_back_by_selector_and_range_before_and_after_a_flush_and_a_restart(
    backend: Backend, tmp_path: Path
) -> None:
    async def go() -> None:
        store = ExemplarStore(
            backend, tmp_path, retention_ms=RETENTION, flush_interval_ms=3_600_000
        )
        await store.start()
        await store.append_exemplars(EXEMPLARS[:2])
        await store.append_exemplars(EXEMPLARS[2:])
        for phase in ("pending", "flushed"):
            api = store.select_exemplars(
                [sel({"__name__": "http_latency_bucket", "job": "api"})], 0, 2**62
            )
            assert api == EXEMPLARS[:2], phase
            both = store.select_exemplars(
                [sel({"__name__": "http_latency_bucket"}), sel({"__name__": "orders_total"})],
                T0 + 1,
                T0 + 20_000,
            )
            assert both == [EXEMPLARS[1], EXEMPLARS[2], EXEMPLARS[3]], phase
            # no metric name: every metric is read, matched on the other labels
            assert store.select_exemplars([sel({"job": "web"})], 0, 2**62) == [EXEMPLARS[2]]
            assert store.select_exemplars([], 0, 2**62) == []
            store.flush_now()
        await store.close()
        # The same exemplar replayed from the WAL and found in the table is still one.
        again = ExemplarStore(backend, tmp_path, retention_ms=RETENTION)
        await again.start()
        try:
            assert again.select_exemplars([sel({"__name__": "http_latency_bucket"})], 0, 2**62) == [
                EXEMPLARS[0],
                EXEMPLARS[1],
                EXEMPLARS[2],
            ]
        finally:
            await again.close()

    asyncio.run(go())


_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=8) | st.just("\ud800x")
_labels = st.lists(st.tuples(_text, _text), max_size=4).map(lambda ps: tuple(sorted(ps)))
_exemplar = st.builds(
    Exemplar,
    _labels,
    _labels,
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(2**62), 2**62),
)


@given(st.lists(_exemplar, max_size=10))
def test_the_wal_record_round_trips_any_exemplar(exemplars: list[Exemplar]) -> None:
    back = decode_batch(encode_batch(ExemplarBatch(tuple(exemplars)))).exemplars
    assert len(back) == len(exemplars)
    for got, want in zip(back, exemplars, strict=True):
        assert (got.series, got.labels, got.timestamp_ms) == (
            want.series,
            want.labels,
            want.timestamp_ms,
        )
        assert got.value == want.value or (math.isnan(got.value) and math.isnan(want.value))


@given(st.binary(max_size=64))
def test_a_wal_record_that_is_not_one_is_a_parse_error(payload: bytes) -> None:
    """Garbage in a segment is a ParseError (the WAL then drops it as torn), never a crash."""
    with contextlib.suppress(ParseError):
        decode_batch(payload)


def test_a_query_returns_at_most_the_newest_max_rows_stored(
    backend: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("spyglass.storage.exemplars._store.MAX_ROWS", 2)

    async def go() -> None:
        store = ExemplarStore(backend, tmp_path, retention_ms=RETENTION)
        await store.start()
        try:
            await store.append_exemplars(EXEMPLARS)
            store.flush_now()
            got = store.select_exemplars([sel({"job": ".*"})], 0, 2**62)
            assert got == [EXEMPLARS[1], EXEMPLARS[3]]  # timed T0+15s and T0+20s
        finally:
            await store.close()

    asyncio.run(go())
