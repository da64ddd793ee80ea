"""``ExemplarStore``: exemplars in ClickHouse, durable through their own WAL.

Prometheus keeps exemplars in a fixed-size circular buffer in memory (and in its WAL, to
survive restarts): only the newest ``--storage.tsdb.max-exemplars`` are ever queryable. Spyglass
keeps them as the fourth signal on the shared write path instead (``SignalPipeline``: WAL in
``<data_dir>/wal/exemplars``, pending buffer, batch writer into ``metric_exemplars``), so an
acknowledged exemplar survives ``kill -9`` and stays as long as its samples do
(``--metrics-retention``), at the cost of a few bytes per exemplar on disk (docs/decisions.md).

Reads (``ExemplarReader``) take the time range and the metric names into SQL, then match the
selectors' other matchers on each row's series labels; batches still pending are read the same
way, so an exemplar is queryable once ``append_exemplars`` returns. An exemplar written twice (a
WAL replay after a crash between insert and checkpoint) is one exemplar: rows are deduplicated
on (series, timestamp, value, labels).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from spyglass.core.exemplars import Exemplar, ExemplarBatch
from spyglass.core.labels import METRIC_NAME, Labels
from spyglass.core.matchers import Matcher, MatchOp, matches_all
from spyglass.storage._backend import Backend
from spyglass.storage.exemplars._signal import EXEMPLARS
from spyglass.storage.pipeline import DEFAULT_MAX_PENDING_ITEMS, SignalStore
from spyglass.storage.schema import DEFAULT_RETENTION_MS
from spyglass.storage.schema import EXEMPLARS as TABLE

# The most exemplars one query returns, the newest kept: Prometheus' whole exemplar store holds
# 100,000 by default, so no Prometheus answer is larger, and a selector matching everything
# over a long range can neither exhaust memory nor take minutes.
MAX_ROWS = 100_000


class ExemplarStore(SignalStore[ExemplarBatch]):
    """Exemplars in ClickHouse with a WAL in ``data_dir/wal/exemplars``. Implements
    ``ExemplarSink`` and ``ExemplarReader`` (storage/ports.py).

    The store does not own ``backend``: whoever built it closes it after ``close()``.
    """

    def __init__(
        self,
        backend: Backend,
        data_dir: str | Path,
        *,
        retention_ms: int = DEFAULT_RETENTION_MS,
        flush_interval_ms: int = 1_000,
        cluster: str = "",
        max_pending: int = DEFAULT_MAX_PENDING_ITEMS,
    ) -> None:
        super().__init__(
            EXEMPLARS,
            backend,
            data_dir,
            retention_ms=retention_ms,
            cluster=cluster,
            flush_interval_ms=flush_interval_ms,
            max_pending_items=max_pending,
        )

    # -- ExemplarSink ---------------------------------------------------------------------------
    async def append_exemplars(self, exemplars: Sequence[Exemplar]) -> None:
        """Accept ``exemplars`` durably: returns once they are fsynced in the WAL."""
        await self.append(ExemplarBatch(tuple(exemplars)))

    # -- ExemplarReader -------------------------------------------------------------------------
    def select_exemplars(
        self, matcher_sets: Sequence[Sequence[Matcher]], start_ms: int, end_ms: int
    ) -> list[Exemplar]:
        """Exemplars of series matching any matcher set, in ``[start_ms, end_ms]``, by series
        then time; of stored ones at most ``MAX_ROWS``, the newest."""
        if not matcher_sets:
            return []
        snapshot = self.pending.snapshot()  # before ClickHouse: a flush may move data meanwhile
        names = _metric_names(matcher_sets)
        where = "timestamp_ms BETWEEN {start:Int64} AND {end:Int64}"
        params: dict[str, object] = {"start": start_ms, "end": end_ms}
        if names is not None:
            # One parameter per name: chDB binds arrays of strings unquoted.
            keys = [f"n{i}" for i in range(len(names))]
            params.update(zip(keys, sorted(names), strict=True))
            where += " AND metric_name IN (" + ", ".join(f"{{{k}:String}}" for k in keys) + ")"
        # Rows without their series' labels, then each series' labels once: carrying (and
        # deduplicating) a label map per row made the read ten times slower. Duplicate rows
        # (a WAL replay after a crash) collapse in the sets below.
        rows_sql = (
            f"SELECT fingerprint, labels, value, timestamp_ms FROM {TABLE} WHERE {where} "  # noqa: S608 - values are bound
            f"ORDER BY timestamp_ms DESC LIMIT {MAX_ROWS}"
        )
        series_sql = (
            f"SELECT fingerprint, any(series) AS series FROM {TABLE} WHERE {where} "  # noqa: S608 - values are bound
            "GROUP BY fingerprint"
        )
        table = self.backend.query_arrow(rows_sql, params)
        series_of = {
            row["fingerprint"]: tuple(sorted(row["series"]))
            for row in self.backend.query_arrow(series_sql, params).to_pylist()
        }
        # Per series, not per row: a series' labels are matched once, and rows are grouped by
        # series so only each series' few exemplars need sorting.
        matched: dict[int, Labels | None] = {}
        rows: dict[Labels, set[tuple[int, float, Labels]]] = {}
        fps = table.column("fingerprint").to_pylist()
        stamps = table.column("timestamp_ms").to_pylist()
        values = table.column("value").to_pylist()
        own = table.column("labels").to_pylist()
        for i, fp in enumerate(fps):
            if fp not in matched:
                series = series_of.get(fp)
                hit = series is not None and any(
                    matches_all(list(ms), series) for ms in matcher_sets
                )
                matched[fp] = series if hit else None
            series_hit = matched[fp]
            if series_hit is not None:
                entry = (stamps[i], values[i], tuple(own[i]))  # stored sorted (_insert)
                rows.setdefault(series_hit, set()).add(entry)
        for batch in snapshot:
            for e in batch.exemplars:
                if start_ms <= e.timestamp_ms <= end_ms and any(
                    matches_all(list(ms), e.series) for ms in matcher_sets
                ):
                    rows.setdefault(e.series, set()).add((e.timestamp_ms, e.value, e.labels))
        out: list[Exemplar] = []
        for series in sorted(rows):
            out += [
                Exemplar(series, labels, value, ts)
                for ts, value, labels in sorted(rows[series], key=lambda r: (r[0], r[2]))
            ]
        return out


def _metric_names(matcher_sets: Sequence[Sequence[Matcher]]) -> set[str] | None:
    """The metric names every matcher set is limited to (``__name__="x"``), or ``None`` when
    some set matches any name and the names cannot narrow the read."""
    names: set[str] = set()
    for ms in matcher_sets:
        eq = [m.value for m in ms if m.name == METRIC_NAME and m.op is MatchOp.EQUAL]
        if not eq:
            return None
        names.add(eq[0])
    return names


__all__ = ["MAX_ROWS", "ExemplarStore"]
