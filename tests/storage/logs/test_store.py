"""LogStore on real ClickHouse engines (chDB, and a server over HTTP): what is appended reads
back through ``select_logs`` with matchers, line filters, time bounds, direction and limit, the
same before and after it is flushed; streams, label names and values; restarts lose nothing."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from spyglass.core.errors import BadInput
from spyglass.core.labels import fingerprint
from spyglass.core.logs import LogBatch, LogColumns, LogRecord
from spyglass.core.matchers import Matcher
from spyglass.storage import LineFilter, LogCountRequest, LogSelection
from spyglass.storage.backends import Backend
from spyglass.storage.logs import LogStore
from spyglass.storage.schema import LOG_TABLES, Schema, stored_ttl_seconds

DAY_MS = 86_400_000
T0 = 1_760_000_000_000_000_000  # 2025-10-09 in ns: fixed, so results do not depend on the clock
RETENTION = 10 * 365 * DAY_MS  # ClickHouse applies the TTL on insert: keep the fixed day
API = (("env", "prod"), ("service_name", "api"))
WEB = (("env", "dev"), ("service_name", "web"))


def rec(i: int, line: str, stream: tuple[tuple[str, str], ...] = API, **kw: object) -> LogRecord:
    return LogRecord(T0 + i * 1_000_000_000, line, stream, **kw)  # type: ignore[arg-type]


ROWS = [
    rec(0, "GET /health 200", metadata={"trace": "a"}),
    rec(1, "GET /users 500 error: db down", severity_text="ERROR", severity_number=17),
    rec(2, "page rendered", WEB),
    rec(3, "POST /users 201 user_id=7", trace_id="0af7651916cd43dd8448eb211c80319c"),
    rec(4, "ERROR timeout", WEB, resource={"host.name": "h1"}),
    rec(5, "50%_done \\ backslash"),
]


def select(store: LogStore, *matchers: Matcher, **kw: object) -> list[str]:
    args: dict[str, object] = {"start_ns": T0, "end_ns": T0 + 100 * 10**9}
    args.update(kw)
    sel = LogSelection(tuple(matchers), **args)  # type: ignore[arg-type]
    return [r.line for r in store.select_logs(sel)]


def run(backend: Backend, data_dir: Path, check: object, flush: bool) -> None:
    async def go() -> None:
        store = LogStore(backend, data_dir, retention_ms=RETENTION, flush_interval_ms=3_600_000)
        await store.start()
        try:
            await store.append(LogBatch.of(ROWS[:3]))
            await store.append(LogBatch.of(ROWS[3:]))
            if flush:
                await asyncio.to_thread(store.flush_now)
                assert store.pending.items == 0
            check(store)  # type: ignore[operator]
        finally:
            await store.close()

    asyncio.run(go())


@pytest.fixture(params=["pending", "flushed"])
def flush(request: pytest.FixtureRequest) -> bool:
    """Every read is checked on records still in the pending buffer and on stored ones."""
    return request.param == "flushed"


def test_select_by_matchers_direction_and_limit(
    logs_backend: Backend, tmp_path: Path, flush: bool
) -> None:
    def check(store: LogStore) -> None:
        api = Matcher.of("service_name", "=", "api")
        assert select(store, api) == [ROWS[i].line for i in (5, 3, 1, 0)]
        assert select(store, api, direction="forward") == [ROWS[i].line for i in (0, 1, 3, 5)]
        assert select(store, api, limit=2) == [ROWS[5].line, ROWS[3].line]
        assert select(store, api, direction="forward", limit=1) == [ROWS[0].line]
        assert select(store, Matcher.of("env", "=~", "d.*")) == [ROWS[4].line, ROWS[2].line]
        assert select(store, Matcher.of("env", "!=", "prod"), direction="forward") == [
            ROWS[2].line,
            ROWS[4].line,
        ]
        # A matcher accepting "" also selects streams without the label (Loki's rule).
        assert len(select(store, Matcher.of("missing", "=", ""))) == 6
        assert select(store, Matcher.of("service_name", "=", "nope")) == []

    run(logs_backend, tmp_path, check, flush)


def test_time_bounds_are_start_inclusive_end_exclusive(
    logs_backend: Backend, tmp_path: Path, flush: bool
) -> None:
    def check(store: LogStore) -> None:
        any_stream = Matcher.of("service_name", "=~", ".+")
        got = select(store, any_stream, start_ns=ROWS[1].timestamp_ns, end_ns=ROWS[3].timestamp_ns)
        assert got == [ROWS[2].line, ROWS[1].line]
        assert select(store, any_stream, start_ns=T0 + 10, end_ns=T0 + 10) == []

    run(logs_backend, tmp_path, check, flush)


def test_line_filters_are_logql_substring_and_re2(
    logs_backend: Backend, tmp_path: Path, flush: bool
) -> None:
    def check(store: LogStore) -> None:
        m = Matcher.of("service_name", "=~", ".+")

        def lines(*filters: tuple[str, str]) -> list[str]:
            fs = tuple(LineFilter(op, v) for op, v in filters)
            return select(store, m, line_filters=fs, direction="forward")

        assert lines(("|=", "error")) == [ROWS[1].line]  # case-sensitive
        assert lines(("|=", "ERROR")) == [ROWS[4].line]
        assert lines(("|=", "users"), ("!=", "500")) == [ROWS[3].line]
        # LIKE's wildcards and escape are plain characters to |=.
        assert lines(("|=", "%_")) == [ROWS[5].line]
        assert lines(("|=", "\\ b")) == [ROWS[5].line]
        assert lines(("|=", "_")) == [ROWS[3].line, ROWS[5].line]
        assert lines(("|~", "(?i)error")) == [ROWS[1].line, ROWS[4].line]
        assert lines(("|~", "^GET")) == [ROWS[0].line, ROWS[1].line]
        assert lines(("!~", "[0-9]{3}")) == [ROWS[2].line, ROWS[4].line, ROWS[5].line]
        assert lines(("|~", "user_id=\\d+$")) == [ROWS[3].line]

    run(logs_backend, tmp_path, check, flush)


def test_records_keep_their_side_data(logs_backend: Backend, tmp_path: Path, flush: bool) -> None:
    def check(store: LogStore) -> None:
        sel = LogSelection((Matcher.of("env", "=~", ".*"),), T0, T0 + 100 * 10**9, (), "forward")
        assert store.select_logs(sel) == ROWS

    run(logs_backend, tmp_path, check, flush)


def test_streams_label_names_and_values(logs_backend: Backend, tmp_path: Path, flush: bool) -> None:
    def check(store: LogStore) -> None:
        end = T0 + 100 * 10**9
        assert store.log_streams([], T0, end) == sorted([API, WEB])
        assert store.log_streams([[Matcher.of("env", "=", "dev")]], T0, end) == [WEB]
        assert store.log_label_names(T0, end) == ["env", "service_name"]
        assert store.log_label_values("service_name", [], T0, end) == ["api", "web"]
        env_prod = [Matcher.of("env", "=", "prod")]
        assert store.log_label_values("service_name", env_prod, T0, end) == ["api"]
        # Nothing in a range a day later.
        assert store.log_label_names(T0 + 2 * DAY_MS * 10**6, T0 + 3 * DAY_MS * 10**6) == []

    run(logs_backend, tmp_path, check, flush)


def test_ties_keep_write_order_and_duplicates_count_once(
    logs_backend: Backend, tmp_path: Path
) -> None:
    async def go() -> None:
        store = LogStore(logs_backend, tmp_path, retention_ms=RETENTION)
        await store.start()
        try:
            same = [rec(0, f"tie {i}") for i in range(3)]
            await store.append(LogBatch.of(same[:2]))
            await asyncio.to_thread(store.flush_now)
            await store.append(LogBatch.of([same[2], same[0]]))  # same[0] again: a duplicate
            m = Matcher.of("service_name", "=", "api")
            want = ["tie 0", "tie 1", "tie 2"]
            assert select(store, m) == want
            assert select(store, m, direction="forward") == want
            await asyncio.to_thread(store.flush_now)
            assert select(store, m) == want
            assert select(store, m, limit=2) == want[:2]
        finally:
            await store.close()

    asyncio.run(go())


def test_a_record_pushed_again_is_stored_once(logs_backend: Backend, tmp_path: Path) -> None:
    """Loki's duplicate rule at insert: a record equal to one in the same flush, to a stored
    one, or to one stored before a restart (a client's retry, a WAL replay after a crash) adds
    no row, so counting rows counts records; a record differing in its line or time does."""

    def rows() -> int:
        table = logs_backend.query_arrow("SELECT count() AS n FROM otel_logs")
        return int(table.column("n")[0].as_py())

    async def go() -> None:
        store = LogStore(logs_backend, tmp_path, retention_ms=RETENTION)
        await store.start()
        await store.append(LogBatch.of([rec(0, "a"), rec(0, "a"), rec(0, "b"), rec(1, "a")]))
        await asyncio.to_thread(store.flush_now)
        assert rows() == 3
        await store.append(LogBatch.of([rec(0, "a"), rec(2, "c"), rec(1, "a", WEB)]))
        await asyncio.to_thread(store.flush_now)
        assert rows() == 5
        await store.close()
        again = LogStore(logs_backend, tmp_path, retention_ms=RETENTION)
        await again.start()
        try:
            await again.append(LogBatch.of([rec(2, "c"), rec(0, "b"), rec(3, "d")]))
            await asyncio.to_thread(again.flush_now)
            assert rows() == 6
        finally:
            await again.close()

    asyncio.run(go())


def test_count_logs_counts_each_record_once_per_window_that_holds_it(
    logs_backend: Backend, tmp_path: Path, flush: bool
) -> None:
    """``count_logs`` on a grid of 4 steps 2 s apart with 3 s windows ``(t - 3s, t]``: lines and
    UTF-8 bytes per window for each label source, stored or pending alike; a stream carrying
    every ``keep`` label is one source whatever its lines' side data, otherwise the side data
    splits it; line filters apply; a record pushed twice counts once."""

    def check(store: LogStore) -> None:
        request = LogCountRequest(
            (Matcher.of("service_name", "=", "api"),),
            (LineFilter("!=", "backslash"),),
            T0 + 2 * 10**9,
            2 * 10**9,
            4,
            3 * 10**9,
            ("env",),
        )
        [api] = store.count_logs(request)
        # api's records at 0, 1 and 3 s pass the filter (5 s does not): the window of t=2s
        # holds 0 and 1, that of t=4s holds 3 (1 s is its excluded lower bound), none later.
        assert api.stream == API
        assert api.counts.tolist() == [2, 1, 0, 0]
        size = [len(r.line.encode()) for r in ROWS]
        assert api.bytes.tolist() == [size[0] + size[1], size[3], 0, 0]
        assert (api.lines, api.line_bytes) == (3, size[0] + size[1] + size[3])
        # Without keep, metadata, severity and trace id make three sources of api's lines.
        split = store.count_logs(replace(request, keep=None))
        assert sorted(c.counts.tolist() for c in split) == [
            [0, 1, 0, 0],
            [1, 0, 0, 0],
            [1, 0, 0, 0],
        ]
        [traced] = [c for c in split if c.metadata]
        assert dict(traced.metadata) == {"trace": "a"}
        assert traced.counts.tolist() == [1, 0, 0, 0]

    async def go() -> None:
        store = LogStore(
            logs_backend, tmp_path, retention_ms=RETENTION, flush_interval_ms=3_600_000
        )
        await store.start()
        try:
            await store.append(LogBatch.of(ROWS))
            await store.append(LogBatch.of(ROWS[:2]))  # pushed again
            if flush:
                await asyncio.to_thread(store.flush_now)
            check(store)
        finally:
            await store.close()

    asyncio.run(go())


def test_bad_regexes_and_arguments_are_bad_input(logs_backend: Backend, tmp_path: Path) -> None:
    def check(store: LogStore) -> None:
        m = Matcher.of("service_name", "=", "api")
        with pytest.raises(BadInput):
            select(store, m, line_filters=(LineFilter("|~", "(?=x)"),))  # RE2 has no lookahead
        with pytest.raises(BadInput):
            select(store, Matcher.of("a", "=~", "(unclosed"))
        with pytest.raises(BadInput):
            select(store, m, direction="sideways")

    run(logs_backend, tmp_path, check, False)


def test_a_restart_replays_what_was_not_flushed(logs_backend: Backend, tmp_path: Path) -> None:
    """Acknowledged records still in the WAL when the store stopped without flushing (as after
    kill -9) are read back after the next start, and inserted."""

    async def go() -> None:
        first = LogStore(logs_backend, tmp_path, retention_ms=RETENTION)
        await first.start()
        await first.append(LogBatch.of(ROWS))
        # Simulate a crash: stop the flusher and close the WAL without the final flush.
        first.pipeline.writer.stop()
        assert first.pipeline._task is not None
        await first.pipeline._task
        first.pipeline.wal.close()
        second = LogStore(logs_backend, tmp_path, retention_ms=RETENTION)
        await second.start()
        try:
            assert second.pipeline.stats().replayed_items == len(ROWS)
            m = Matcher.of("env", "=~", ".+")
            assert select(second, m, direction="forward") == [r.line for r in ROWS]
            await asyncio.to_thread(second.flush_now)
            assert select(second, m, direction="forward") == [r.line for r in ROWS]
        finally:
            await second.close()

    asyncio.run(go())


def test_retention_is_the_ttl_of_both_logs_tables_and_follows_a_change(
    logs_backend: Backend, tmp_path: Path
) -> None:
    """--logs-retention becomes the TTL of otel_logs (and, an hour longer, of log_streams); a
    restart with another retention alters the stored TTL."""

    def ttls() -> dict[str, int | None]:
        rows = logs_backend.query_arrow(
            "SELECT name, engine_full FROM system.tables WHERE database = currentDatabase() "
            "AND name IN ('otel_logs', 'log_streams')"
        ).to_pylist()
        return {r["name"]: stored_ttl_seconds(r["engine_full"]) for r in rows}

    async def start_and_stop(retention_ms: int) -> None:
        store = LogStore(logs_backend, tmp_path, retention_ms=retention_ms)
        await store.start()
        await store.close()

    asyncio.run(start_and_stop(3 * DAY_MS))
    assert ttls() == {"otel_logs": 3 * 86_400, "log_streams": 3 * 86_400 + 3_600}
    asyncio.run(start_and_stop(DAY_MS))
    assert ttls() == {"otel_logs": 86_400, "log_streams": 86_400 + 3_600}


def columns(records: list[LogRecord]) -> LogBatch:
    """``records`` (plain lines) as a batch of columns, as the Loki push decoder builds it."""
    streams: dict[tuple[tuple[str, str], ...], int] = {}
    index = [streams.setdefault(r.stream, len(streams)) for r in records]
    data = [r.line.encode() for r in records]
    offsets = np.zeros(len(records) + 1, np.int64)
    np.cumsum([len(d) for d in data], out=offsets[1:])
    return LogBatch(
        columns=LogColumns(
            tuple(streams),
            np.array(index, np.uint32),
            np.array([r.timestamp_ns for r in records], np.int64),
            b"".join(data),
            offsets,
        )
    )


def test_column_and_record_batches_in_one_flush_are_stored_alike(
    logs_backend: Backend, tmp_path: Path
) -> None:
    """Batches of columns (Loki pushes of plain lines) and of records (OTLP, _bulk) flushed
    together: every row in write order with its stream, service and side columns, and a line
    sent again in a batch of the other kind stored once."""
    at = 1_000  # seconds after T0: rows of this test only

    async def go() -> None:
        store = LogStore(
            logs_backend, tmp_path, retention_ms=RETENTION, flush_interval_ms=3_600_000
        )
        await store.start()
        try:
            await store.append(columns([rec(at, "plain a"), rec(at + 1, "plain b", WEB)]))
            await store.append(
                LogBatch.of([rec(at + 2, "side", severity_text="WARN", metadata={"k": "v"})])
            )
            await store.append(columns([rec(at + 3, "plain c"), rec(at + 1, "plain b", WEB)]))
            await store.append(LogBatch.of([rec(at + 3, "plain c"), rec(at + 4, "ünïcode ✓", WEB)]))
            m = Matcher.of("env", "=~", ".+")
            window = {"start_ns": T0 + at * 10**9, "end_ns": T0 + (at + 10) * 10**9}
            pending = select(store, m, direction="forward", **window)
            await asyncio.to_thread(store.flush_now)
            assert select(store, m, direction="forward", **window) == pending
        finally:
            await store.close()

    asyncio.run(go())
    table = logs_backend.query_arrow(
        "SELECT Body, ServiceName, StreamFingerprint, LogAttributes, SeverityText FROM otel_logs "
        f"WHERE Timestamp >= fromUnixTimestamp64Nano({T0 + at * 10**9}) ORDER BY WriteOrder"
    )
    got = [
        (
            r["Body"],
            r["ServiceName"],
            r["StreamFingerprint"],
            r["LogAttributes"],
            r["SeverityText"],
        )
        for r in table.to_pylist()
    ]
    api, web = fingerprint(API), fingerprint(WEB)
    assert got == [
        ("plain a", "api", api, [], ""),
        ("plain b", "web", web, [], ""),
        ("side", "api", api, [("k", "v")], "WARN"),
        ("plain c", "api", api, [], ""),
        ("ünïcode ✓", "web", web, [], ""),
    ]


def _columns_and_indexes(backend: Backend) -> tuple[set[str], set[str]]:
    q = "SELECT name FROM system.{t} WHERE table = 'otel_logs' AND database = currentDatabase()"
    columns = backend.query_arrow(q.format(t="columns")).column("name").to_pylist()
    indexes = backend.query_arrow(q.format(t="data_skipping_indices")).column("name").to_pylist()
    return set(columns), set(indexes)


def test_stream_labels_live_in_log_streams_not_on_every_row(
    logs_backend: Backend, tmp_path: Path
) -> None:
    """A new ``otel_logs`` has neither a per-row stream label map nor a skip index on Body
    (both cost insert CPU and nothing read them); the labels read back from ``log_streams``."""

    def check(store: LogStore) -> None:
        columns, indexes = _columns_and_indexes(logs_backend)
        assert "StreamLabels" not in columns
        assert {"StreamFingerprint", "Body", "LogAttributes"} <= columns
        assert indexes == {"idx_trace_id"}
        assert store.log_streams([[Matcher.of("service_name", "=", "web")]], T0, T0 + 10**12) == [
            WEB
        ]

    run(logs_backend, tmp_path, check, flush=True)


def test_a_data_dir_from_before_keeps_its_stream_labels_and_body_index_and_reads_the_same(
    logs_backend: Backend, tmp_path: Path, flush: bool
) -> None:
    """``otel_logs`` used to carry ``StreamLabels`` on every row and a token bloom filter on
    Body; a data dir made then keeps that table (nothing is recreated), takes new records
    (leaving the map empty) and reads them as a new one does."""
    old = replace(
        LOG_TABLES[0],
        columns=(
            *LOG_TABLES[0].columns,
            "StreamLabels Map(LowCardinality(String), String) CODEC(ZSTD(1))",
            "INDEX idx_body Body TYPE tokenbf_v1(32768, 3, 0) GRANULARITY 8",
        ),
    )
    logs_backend.command(Schema((old,), retention_ms=RETENTION).create_statement(old))

    def check(store: LogStore) -> None:
        assert select(store, direction="forward") == [r.line for r in ROWS]
        assert select(store, Matcher.of("service_name", "=", "web")) == [ROWS[4].line, ROWS[2].line]
        body = [LineFilter("|=", "error")]
        assert select(store, line_filters=body) == [ROWS[1].line]
        columns, indexes = _columns_and_indexes(logs_backend)
        assert "StreamLabels" in columns
        assert "idx_body" in indexes

    run(logs_backend, tmp_path, check, flush)


def test_a_restarts_first_flush_asks_for_each_streams_newest_line_not_for_every_line(
    logs_backend: Backend, tmp_path: Path
) -> None:
    """After a restart the store does not know what is stored: its first flush of a stream asks
    ClickHouse for the stream's newest stored timestamp from the flush's oldest line on. Lines
    newer than that are not looked up one by one (the query that sends every timestamp runs
    only for a stream with stored lines at or after them), and duplicates still go."""
    asked: list[str] = []
    real = logs_backend.query_arrow

    def spy(sql: str, params: object = None) -> object:
        asked.append(sql)
        return real(sql, params)  # type: ignore[arg-type]

    def rows() -> list[str]:
        table = logs_backend.query_arrow("SELECT Body FROM otel_logs ORDER BY Timestamp")
        return [str(v) for v in table.column("Body").to_pylist()]

    async def go() -> None:
        store = LogStore(logs_backend, tmp_path, retention_ms=RETENTION)
        await store.start()
        await store.append(LogBatch.of([rec(0, "a"), rec(5, "b")]))
        await asyncio.to_thread(store.flush_now)
        await store.close()
        logs_backend.query_arrow = spy  # type: ignore[method-assign]
        again = LogStore(logs_backend, tmp_path, retention_ms=RETENTION)
        await again.start()
        try:
            # A new stream and the known one, both past what is stored.
            await again.append(LogBatch.of([rec(6, "c"), rec(7, "d", WEB)]))
            await asyncio.to_thread(again.flush_now)
            assert not [sql for sql in asked if "SELECT DISTINCT" in sql]
            assert any("max(toUnixTimestamp64Nano(Timestamp))" in sql for sql in asked)
            # Older lines than the stream's newest: looked up, the duplicate left out.
            await again.append(LogBatch.of([rec(5, "b"), rec(4, "e")]))
            await asyncio.to_thread(again.flush_now)
            assert [sql for sql in asked if "SELECT DISTINCT" in sql]
        finally:
            await again.close()
            del logs_backend.query_arrow

    asyncio.run(go())
    assert rows() == ["a", "e", "b", "c", "d"]
