"""``LogStore``: the ClickHouse-backed log store the composition root builds.

Write path: the logs signal's ``SignalPipeline`` (``storage.pipeline``): WAL in
``<data_dir>/wal/logs``, pending buffer, batch writer; ``append`` returns once the batch is
fsynced, and start-up replays what was not yet inserted.

Read path (``LogReader``): stream matchers select fingerprints from ``log_streams`` (hourly rows,
so stream answers are exact to the hour for stored data, like Loki's index, and exact for
pending data); records come from ``otel_logs`` with the time range and the leading line filters
in SQL, sorted and cut there. Batches still in the pending buffer are read too, filtered the same
way in Python (RE2 through the ``re2`` module, the library ClickHouse and Loki use), so a record
is readable the moment ``append`` returns, as the metrics store does with its buffer.

Records follow Loki's duplicate rule: one with the same stream, timestamp and line as another is
the same record. That rule joins the two sources without double counting (a flush may finish
between taking the buffer's snapshot and querying ClickHouse), and collapses a record inserted
twice by a WAL replay after a crash.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
from prometheus_client.registry import Collector

from spyglass.core.errors import BadInput
from spyglass.core.labels import Labels, fingerprint
from spyglass.core.logs import LogBatch, LogRecord
from spyglass.core.matchers import Matcher, MatchOp, matches_all
from spyglass.core.stats import StatField, StatsCollector
from spyglass.storage._backend import Backend
from spyglass.storage.logs import _sql
from spyglass.storage.logs._insert import LogsInserter
from spyglass.storage.logs._signal import LOGS
from spyglass.storage.pipeline import DEFAULT_MAX_PENDING_ITEMS, SignalStore
from spyglass.storage.ports import LineFilter, LogCountRequest, LogCounts, LogSelection
from spyglass.storage.schema import DEFAULT_RETENTION_MS
from spyglass.storage.wal import DEFAULT_SEGMENT_BYTES

# google-re2 (a dependency) ships no type information; RE2 is the engine of ClickHouse's match
# and of Go's regexp, so pending records are filtered as stored ones are.
re2: Any = importlib.import_module("re2")


@dataclass(frozen=True, slots=True)
class LogStoreStats:
    """Counters of the log store (beyond its pipeline's)."""

    streams_created: int


class LogStore(SignalStore[LogBatch]):
    """Log records in ClickHouse with a WAL in ``data_dir/wal/logs``. Implements ``LogSink``,
    ``LogReader`` and ``LogCounter`` (storage/ports.py).

    The store does not own ``backend``: whoever built it closes it after ``close()``. When more
    than ``max_pending_records`` wait for ClickHouse, or a batch would take the bytes waiting
    past ``max_pending_bytes`` (0: no such bound), ``append`` refuses with ``Overloaded``.
    """

    def __init__(
        self,
        backend: Backend,
        data_dir: str | Path,
        *,
        retention_ms: int = DEFAULT_RETENTION_MS,
        flush_interval_ms: int = 1_000,
        flush_max_records: int = 200_000,
        cluster: str = "",
        wal_segment_bytes: int = DEFAULT_SEGMENT_BYTES,
        max_pending_records: int = DEFAULT_MAX_PENDING_ITEMS,
        max_pending_bytes: int = 0,
    ) -> None:
        super().__init__(
            LOGS,
            backend,
            data_dir,
            retention_ms=retention_ms,
            cluster=cluster,
            flush_interval_ms=flush_interval_ms,
            flush_max_items=flush_max_records,
            wal_segment_bytes=wal_segment_bytes,
            max_pending_items=max_pending_records,
            max_pending_bytes=max_pending_bytes,
        )
        inserter = self.pipeline.insert
        assert isinstance(inserter, LogsInserter)
        self._inserter = inserter
        self._regex_cache: dict[str, Any] = {}

    # -- lifecycle --------------------------------------------------------------------------
    async def start(self) -> None:
        """Create the tables, replay the WAL, start flushing (``SignalPipeline.start``)."""
        await self.pipeline.start()
        q = _sql.Query()
        stored = self._query(_sql.newest_order_sql(), q).column("newest").to_pylist()
        with self.pipeline.writer.paused():
            self._inserter.seed_order(int(stored[0] or 0) if stored else 0)

    # -- stats ------------------------------------------------------------------------------
    def stats(self) -> LogStoreStats:
        """What only the log store counts."""
        return LogStoreStats(streams_created=self._inserter.streams_created)

    def collectors(self) -> list[Collector]:
        """What only the log store counts (its pipeline's counters come with every signal's,
        from ``pipeline.pipeline_collectors``)."""
        return [StatsCollector(self.stats, _STORE_FIELDS)]

    # -- LogReader --------------------------------------------------------------------------
    def select_logs(self, selection: LogSelection) -> list[LogRecord]:
        """Records of the matching streams in ``[start_ns, end_ns)`` passing the line filters,
        ordered by timestamp in the selection's direction (ties in write order), cut to its
        limit."""
        sel = selection
        if sel.direction not in ("forward", "backward"):
            raise BadInput(f"invalid direction {sel.direction!r}: forward or backward")
        if sel.limit is not None and sel.limit < 0:
            raise BadInput(f"invalid limit {sel.limit}")
        filters = [self._check_filter(f) for f in sel.line_filters]
        self._check_matchers(sel.matchers)
        if sel.end_ns <= sel.start_ns or sel.limit == 0:
            return []
        snapshot = self.pending.snapshot()  # before ClickHouse: a concurrent flush moves data
        streams = self._streams([sel.matchers], sel.start_ns, sel.end_ns)
        stored: list[tuple[int, LogRecord]] = []
        if streams:
            stored = self._stored(sel, streams, final=False)
            if sel.limit is not None and len(stored) == sel.limit and _has_duplicates(stored):
                # Unmerged copies of a record took places in the limit: read merged rows.
                stored = self._stored(sel, streams, final=True)
        pending = [
            r
            for batch in snapshot
            for r in batch.records
            if sel.start_ns <= r.timestamp_ns < sel.end_ns
            and matches_all(sel.matchers, r.stream)
            and all(_passes(f, rx, r.line) for f, rx in filters)
        ]
        return _merge(stored, pending, sel.direction, sel.limit)

    def _stored(
        self, sel: LogSelection, streams: dict[int, Labels], *, final: bool
    ) -> list[tuple[int, LogRecord]]:
        q = _sql.Query()
        sql = _sql.records_sql(
            q,
            sorted(streams),
            sel.start_ns,
            sel.end_ns,
            line_filters=sel.line_filters,
            direction=sel.direction,
            limit=sel.limit,
            final=final,
        )
        rows = self._query(sql, q).to_pylist()
        return [
            (
                row["write_order"],
                LogRecord(
                    row["ts"],
                    row["line"],
                    streams[row["fp"]],
                    dict(row["metadata"]),
                    row["observed"],
                    row["severity_text"],
                    row["severity_number"],
                    row["trace_id"],
                    row["span_id"],
                    dict(row["resource"]),
                ),
            )
            for row in rows
            if row["fp"] in streams
        ]

    # -- LogCounter -------------------------------------------------------------------------
    def count_logs(self, request: LogCountRequest) -> list[LogCounts]:
        """Lines per window of the request's grid, counted in ClickHouse for stored records and
        here for pending ones, each record once (Loki's duplicate rule, as ``select_logs``).

        A flush must not run between reading the pending buffer and the last row ClickHouse
        has, or a record could be counted in both or neither: the writer is paused for those
        two reads (not for the query), and the query counts rows up to that row only.
        """
        r = request
        filters = [self._check_filter(f) for f in r.line_filters]
        self._check_matchers(r.matchers)
        if r.steps <= 0 or r.step_ns <= 0 or r.range_ns <= 0:
            return []
        start_ns = r.first_ns - r.range_ns + 1
        end_ns = r.first_ns + (r.steps - 1) * r.step_ns + 1
        with self.pipeline.writer.paused():
            snapshot = self.pending.snapshot()
            written = self._inserter.written_order
        streams = self._streams([r.matchers], start_ns, end_ns)
        acc = _Counts(r)
        newest: dict[int, int] = {}
        if streams:
            side = [fp for fp, labels in streams.items() if not _covers(labels, r.keep)]
            q = _sql.Query()
            sql = _sql.counts_sql(q, sorted(streams), side, r, written_order=written)
            table = self._query(sql, q)
            if side:
                self._add_rows(acc, newest, streams, table)
            else:
                self._add_columns(acc, newest, streams, table)
        pending = [
            rec
            for batch in snapshot
            for rec in batch.records
            if start_ns <= rec.timestamp_ns < end_ns
            and matches_all(r.matchers, rec.stream)
            and all(_passes(f, rx, rec.line) for f, rx in filters)
        ]
        for rec in self._unseen(pending, newest, written):
            source = (
                (rec.stream, (), "", 0, "", "")
                if _covers(rec.stream, r.keep)
                else (
                    rec.stream,
                    tuple(sorted(rec.metadata.items())),
                    rec.severity_text,
                    rec.severity_number,
                    rec.trace_id,
                    rec.span_id,
                )
            )
            size = len(rec.line.encode("utf-8", "surrogatepass")) if r.with_bytes else 0
            lo, hi = acc.span(rec.timestamp_ns)
            acc.add(source, lo, hi, 1, size)
        return acc.result()

    @staticmethod
    def _add_rows(
        acc: _Counts, newest: dict[int, int], streams: dict[int, Labels], table: pa.Table
    ) -> None:
        """Rows whose label source includes side data, one by one."""
        for row in table.to_pylist():
            labels = streams.get(row["fp"])
            if labels is None:
                continue
            source = (
                labels,
                tuple(sorted(row["metadata"])),
                row["severity_text"],
                row["severity_number"],
                row["trace_id"],
                row["span_id"],
            )
            acc.add(source, row["lo"], row["hi"], row["lines"], row["line_bytes"])
            newest[row["fp"]] = max(newest.get(row["fp"], 0), row["newest"])

    @staticmethod
    def _add_columns(
        acc: _Counts, newest: dict[int, int], streams: dict[int, Labels], table: pa.Table
    ) -> None:
        """Rows whose label source is their stream alone, a stream at a time with numpy (a
        six-hour count at a one-minute step is ~360 rows a stream)."""
        if not table.num_rows:
            return
        col = {name: table.column(name).to_numpy() for name in ("fp", "lo", "hi", "newest")}
        lines = table.column("lines").to_numpy().astype(np.int64)
        size = table.column("line_bytes").to_numpy().astype(np.int64)
        fps, inverse = np.unique(col["fp"], return_inverse=True)
        # Each stream's rows as a slice of one stable sort: a mask per stream (``inverse == k``)
        # made this quadratic in the streams (100,000 streams of one line each: 54 s).
        order = np.argsort(inverse, kind="stable")
        bounds = np.zeros(len(fps) + 1, np.int64)
        np.cumsum(np.bincount(inverse, minlength=len(fps)), out=bounds[1:])
        for k, fp in enumerate(fps.tolist()):
            labels = streams.get(fp)
            if labels is None:
                continue
            mine = order[bounds[k] : bounds[k + 1]]
            acc.add_many(
                (labels, (), "", 0, "", ""),
                col["lo"][mine],
                col["hi"][mine],
                lines[mine],
                size[mine],
            )
            newest[fp] = max(newest.get(fp, 0), int(col["newest"][mine].max()))

    def _unseen(
        self, pending: list[LogRecord], newest: dict[int, int], written: int
    ) -> list[LogRecord]:
        """``pending`` without the records already stored or pending before them. Only a
        record not newer than its stream's newest stored one in the range can be stored too;
        those (usually none) are looked up."""
        seen: set[tuple[Labels, int, str]] = set()
        suspects: list[tuple[int, LogRecord]] = []
        out: list[LogRecord] = []
        for rec in pending:
            k = _key(rec)
            if k in seen:
                continue
            seen.add(k)
            fp = self._inserter.fingerprint(rec.stream)
            if rec.timestamp_ns <= newest.get(fp, -1):
                suspects.append((fp, rec))
            else:
                out.append(rec)
        if suspects:
            q = _sql.Query()
            sql = _sql.keys_sql(
                q,
                sorted({fp for fp, _ in suspects}),
                [rec.timestamp_ns for _, rec in suspects],
                written_order=written,
            )
            stored = {
                (row["fp"], row["ts"], row["line"]) for row in self._query(sql, q).to_pylist()
            }
            out += [rec for fp, rec in suspects if (fp, rec.timestamp_ns, rec.line) not in stored]
        return out

    def log_streams(
        self, matcher_sets: Sequence[Sequence[Matcher]], start_ns: int, end_ns: int
    ) -> list[Labels]:
        """Label sets of streams matching any matcher set with records in the range."""
        for ms in matcher_sets:
            self._check_matchers(ms)
        if end_ns <= start_ns:
            return []
        snapshot = self.pending.snapshot()
        found = self._streams(matcher_sets, start_ns, end_ns)
        for batch in snapshot:
            for r in batch.records:
                if start_ns <= r.timestamp_ns < end_ns and (
                    not matcher_sets or any(matches_all(tuple(ms), r.stream) for ms in matcher_sets)
                ):
                    found.setdefault(fingerprint(r.stream), r.stream)
        return sorted(found.values())

    def log_label_names(self, start_ns: int, end_ns: int) -> list[str]:
        """Sorted stream label names seen in the range."""
        if end_ns <= start_ns:
            return []
        snapshot = self.pending.snapshot()
        q = _sql.Query()
        names = set(
            self._query(_sql.label_names_sql(q, start_ns, end_ns), q).column("name").to_pylist()
        )
        for batch in snapshot:
            for r in batch.records:
                if start_ns <= r.timestamp_ns < end_ns:
                    names.update(n for n, _ in r.stream)
        return sorted(names)

    def log_label_values(
        self, name: str, matchers: Sequence[Matcher], start_ns: int, end_ns: int
    ) -> list[str]:
        """Sorted values of stream label ``name`` over matching streams with records in the
        range."""
        self._check_matchers(matchers)
        if end_ns <= start_ns:
            return []
        snapshot = self.pending.snapshot()
        q = _sql.Query()
        cond = q.matchers(matchers)
        table = self._query(_sql.label_values_sql(q, name, cond, start_ns, end_ns), q)
        values = set(table.column("value").to_pylist())
        ms = tuple(matchers)
        for batch in snapshot:
            for r in batch.records:
                if start_ns <= r.timestamp_ns < end_ns and matches_all(ms, r.stream):
                    values.update(v for n, v in r.stream if n == name)
        return sorted(values)

    # -- helpers ----------------------------------------------------------------------------
    def _streams(
        self, matcher_sets: Sequence[Sequence[Matcher]], start_ns: int, end_ns: int
    ) -> dict[int, Labels]:
        q = _sql.Query()
        sql = _sql.streams_sql(q, q.matcher_sets(matcher_sets), start_ns, end_ns)
        rows = self._query(sql, q).to_pylist()
        return {row["fingerprint"]: tuple(sorted(row["label_map"])) for row in rows}

    def _query(self, sql: str, q: _sql.Query) -> pa.Table:
        return self.backend.query_arrow(sql, q.params)

    def _regex(self, pattern: str) -> Any:
        rx = self._regex_cache.get(pattern)
        if rx is None:
            try:
                rx = re2.compile(pattern)
            except re2.error as exc:
                raise BadInput(f"invalid regular expression {pattern!r}: {exc}") from None
            if len(self._regex_cache) > 10_000:
                self._regex_cache.clear()
            self._regex_cache[pattern] = rx
        return rx

    def _check_filter(self, f: LineFilter) -> tuple[LineFilter, Any]:
        if f.op in ("|=", "!="):
            return f, None
        if f.op in ("|~", "!~"):
            return f, self._regex(f.value)
        raise BadInput(f"unknown line filter {f.op!r}")

    def _check_matchers(self, matchers: Sequence[Matcher]) -> None:
        # RE2 refuses what Python's re accepts (lookarounds, backreferences); ClickHouse would
        # only compile a pattern when a row reaches it, so check every one here.
        for m in matchers:
            if m.op in (MatchOp.REGEX, MatchOp.NOT_REGEX):
                self._regex(m.value)


_Source = tuple[Labels, tuple[tuple[str, str], ...], str, int, str, str]


def _covers(stream: Labels, keep: tuple[str, ...] | None) -> bool:
    """Whether the stream's own labels give every label the caller looks at, so the side
    data (which LogQL adds as labels only under names the stream lacks) cannot matter."""
    if keep is None:
        return False
    names = {n for n, _ in stream}
    return all(k in names for k in keep)


class _Counts:
    """Per label source, lines and bytes added to spans of steps (difference arrays)."""

    def __init__(self, request: LogCountRequest) -> None:
        self.r = request
        self._diff: dict[_Source, list[Any]] = {}

    def span(self, ts: int) -> tuple[int, int]:
        """First and last step whose window holds a line at ``ts`` (``_sql.counts_sql``)."""
        r = self.r
        u = ts - r.first_ns
        return -((-u) // r.step_ns), (u + r.range_ns - 1) // r.step_ns

    def add(self, source: _Source, lo: int, hi: int, lines: int, size: int) -> None:
        lo, hi = max(lo, 0), min(hi, self.r.steps - 1)
        if lo > hi:
            return
        d = self._diff.get(source)
        if d is None:
            n = self.r.steps + 1
            d = self._diff[source] = [np.zeros(n, np.int64), np.zeros(n, np.int64), 0, 0]
        d[0][lo] += lines
        d[0][hi + 1] -= lines
        d[1][lo] += size
        d[1][hi + 1] -= size
        d[2] += lines
        d[3] += size

    def add_many(
        self,
        source: _Source,
        lo: npt.NDArray[np.int64],
        hi: npt.NDArray[np.int64],
        lines: npt.NDArray[np.int64],
        size: npt.NDArray[np.int64],
    ) -> None:
        """``add`` for arrays of spans of one source."""
        lo, hi = np.maximum(lo, 0), np.minimum(hi, self.r.steps - 1)
        ok = lo <= hi
        if not ok.any():
            return
        lo, hi, lines, size = lo[ok], hi[ok], lines[ok], size[ok]
        d = self._diff.get(source)
        if d is None:
            n = self.r.steps + 1
            d = self._diff[source] = [np.zeros(n, np.int64), np.zeros(n, np.int64), 0, 0]
        np.add.at(d[0], lo, lines)
        np.add.at(d[0], hi + 1, -lines)
        np.add.at(d[1], lo, size)
        np.add.at(d[1], hi + 1, -size)
        d[2] += int(lines.sum())
        d[3] += int(size.sum())

    def result(self) -> list[LogCounts]:
        out = []
        for (stream, meta, sev_text, sev_num, trace, span), d in self._diff.items():
            out.append(
                LogCounts(
                    stream,
                    dict(meta),
                    sev_text,
                    sev_num,
                    trace,
                    span,
                    np.cumsum(d[0])[:-1],
                    np.cumsum(d[1])[:-1],
                    d[2],
                    d[3],
                )
            )
        return out


def _passes(f: LineFilter, rx: Any, line: str) -> bool:
    if f.op == "|=":
        return f.value in line
    if f.op == "!=":
        return f.value not in line
    found = rx.search(line) is not None
    return found if f.op == "|~" else not found


def _key(r: LogRecord) -> tuple[Labels, int, str]:
    return (r.stream, r.timestamp_ns, r.line)


def _has_duplicates(stored: list[tuple[int, LogRecord]]) -> bool:
    return len({_key(r) for _, r in stored}) < len(stored)


def _merge(
    stored: list[tuple[int, LogRecord]],
    pending: list[LogRecord],
    direction: str,
    limit: int | None,
) -> list[LogRecord]:
    """Stored and pending records as one answer: duplicates (Loki's rule) once, in the
    direction's order with ties in write order (stored ones were written first), cut."""
    seen: set[tuple[Labels, int, str]] = set()
    rows: list[tuple[int, int, int, LogRecord]] = []
    for order, r in sorted(stored, key=lambda p: p[0]):
        k = _key(r)
        if k not in seen:
            seen.add(k)
            rows.append((r.timestamp_ns, 0, order, r))
    for i, r in enumerate(pending):
        k = _key(r)
        if k not in seen:
            seen.add(k)
            rows.append((r.timestamp_ns, 1, i, r))
    if direction == "backward":
        rows.sort(key=lambda t: (-t[0], t[1], t[2]))
    else:
        rows.sort(key=lambda t: (t[0], t[1], t[2]))
    out = [t[3] for t in rows]
    return out if limit is None else out[:limit]


_STORE_FIELDS = (
    StatField(
        "streams_created",
        "spyglass_storage_log_streams_created",
        "counter",
        "Stream index rows written (one per log stream and hour).",
    ),
)


__all__ = ["LogStore", "LogStoreStats"]
