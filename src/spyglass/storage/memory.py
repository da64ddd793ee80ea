"""In-memory ``Querier``, ``SampleSink`` and ``MetadataReader`` for tests and conformance runs.

Not durable and not meant for production data volumes: it keeps every sample in Python-owned
numpy arrays per series.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

from spyglass.core.labels import Labels, fingerprint
from spyglass.core.matchers import Matcher, matches_all
from spyglass.core.samples import MetricMetadata, SampleBatch
from spyglass.storage.ports import NameCount, SeriesData, SeriesStats


class _Series:
    __slots__ = ("labels", "timestamps", "values")

    def __init__(self, labels: Labels) -> None:
        self.labels = labels
        self.timestamps: npt.NDArray[np.int64] = np.empty(0, np.int64)
        self.values: npt.NDArray[np.float64] = np.empty(0, np.float64)


class MemoryStore:
    """Series held in memory. Later samples at an existing timestamp replace the earlier ones."""

    def __init__(self) -> None:
        self._series: dict[int, _Series] = {}
        self._metadata: dict[str, MetricMetadata] = {}

    # -- writing -----------------------------------------------------------------------------
    def add(self, labels: Labels, timestamps: Iterable[int], values: Iterable[float]) -> None:
        """Add samples of one series (label set already sorted)."""
        ts = np.fromiter(timestamps, dtype=np.int64)
        vs = np.fromiter(values, dtype=np.float64)
        self._merge(fingerprint(labels), labels, ts, vs)

    def write(self, batch: SampleBatch) -> None:
        """Add every sample of ``batch``."""
        if len(batch):
            order = np.argsort(batch.fingerprints, kind="stable")
            fps = batch.fingerprints[order]
            bounds = np.flatnonzero(np.diff(fps)) + 1
            starts = np.concatenate([[0], bounds])
            ends = np.concatenate([bounds, [len(fps)]])
            for s, e in zip(starts, ends, strict=True):
                fp = int(fps[s])
                idx = order[s:e]
                self._merge(fp, batch.series[fp], batch.timestamps[idx], batch.values[idx])
        self._metadata.update(batch.metadata)

    async def append(self, batch: SampleBatch) -> None:
        """``SampleSink``: in memory, so durable only as long as the process lives."""
        self.write(batch)

    def clear(self) -> None:
        """Forget every series."""
        self._series.clear()
        self._metadata.clear()

    def _merge(
        self, fp: int, labels: Labels, ts: npt.NDArray[np.int64], vs: npt.NDArray[np.float64]
    ) -> None:
        s = self._series.get(fp)
        if s is None:
            s = self._series[fp] = _Series(labels)
        all_ts = np.concatenate([s.timestamps, ts])
        all_vs = np.concatenate([s.values, vs])
        # Stable sort, then keep the last of equal timestamps so later writes win.
        order = np.argsort(all_ts, kind="stable")
        all_ts, all_vs = all_ts[order], all_vs[order]
        keep = np.ones(len(all_ts), dtype=bool)
        keep[:-1] = all_ts[:-1] != all_ts[1:]
        s.timestamps, s.values = all_ts[keep], all_vs[keep]

    # -- Querier -----------------------------------------------------------------------------
    def select(self, matchers: Sequence[Matcher], start_ms: int, end_ms: int) -> list[SeriesData]:
        out = []
        for s in self._series.values():
            if not matches_all(list(matchers), s.labels):
                continue
            lo = int(np.searchsorted(s.timestamps, start_ms, side="left"))
            hi = int(np.searchsorted(s.timestamps, end_ms, side="right"))
            if hi > lo:
                out.append(SeriesData(s.labels, s.timestamps[lo:hi], s.values[lo:hi]))
        return out

    def _active(
        self, matcher_sets: Sequence[Sequence[Matcher]], start_ms: int, end_ms: int
    ) -> list[Labels]:
        out = []
        for s in self._series.values():
            if matcher_sets and not any(matches_all(list(ms), s.labels) for ms in matcher_sets):
                continue
            lo = int(np.searchsorted(s.timestamps, start_ms, side="left"))
            hi = int(np.searchsorted(s.timestamps, end_ms, side="right"))
            if hi > lo:
                out.append(s.labels)
        return out

    def series(
        self, matcher_sets: Sequence[Sequence[Matcher]], start_ms: int, end_ms: int
    ) -> list[Labels]:
        return self._active(matcher_sets, start_ms, end_ms)

    def label_names(
        self, matcher_sets: Sequence[Sequence[Matcher]], start_ms: int, end_ms: int
    ) -> list[str]:
        return sorted({n for ls in self._active(matcher_sets, start_ms, end_ms) for n, _ in ls})

    def label_values(
        self, name: str, matcher_sets: Sequence[Sequence[Matcher]], start_ms: int, end_ms: int
    ) -> list[str]:
        return sorted(
            {v for ls in self._active(matcher_sets, start_ms, end_ms) for n, v in ls if n == name}
        )

    # -- SeriesStatsReader -------------------------------------------------------------------
    def series_stats(self, start_ms: int, end_ms: int, limit: int) -> SeriesStats:
        """Cardinality of the series with samples in the range (the reference the ClickHouse
        store's SQL is tested against)."""
        active = self._active([], start_ms, end_ms)
        times = [
            t
            for s in self._series.values()
            for t in s.timestamps[(s.timestamps >= start_ms) & (s.timestamps <= end_ms)].tolist()
        ]
        pairs: dict[tuple[str, str], int] = {}
        for ls in active:
            for pair in ls:
                pairs[pair] = pairs.get(pair, 0) + 1
        metrics: dict[str, int] = {}
        values: dict[str, int] = {}
        size: dict[str, int] = {}
        for (name, value), n in pairs.items():
            if name == "__name__":
                metrics[value] = n
            values[name] = values.get(name, 0) + 1
            size[name] = size.get(name, 0) + len(value.encode())
        return SeriesStats(
            num_series=len(active),
            num_label_pairs=len(pairs),
            min_time_ms=min(times) if times else None,
            max_time_ms=max(times) if times else None,
            series_count_by_metric_name=_top(metrics, limit),
            label_value_count_by_label_name=_top(values, limit),
            memory_in_bytes_by_label_name=_top(size, limit),
            series_count_by_label_value_pair=_top(
                {f"{n}={v}": c for (n, v), c in pairs.items()}, limit
            ),
        )

    # -- MetadataReader ----------------------------------------------------------------------
    def metadata(self, metric: str | None = None) -> dict[str, list[MetricMetadata]]:
        return {
            name: [md]
            for name, md in sorted(self._metadata.items())
            if metric is None or name == metric
        }


def _top(counts: dict[str, int], limit: int) -> list[NameCount]:
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return [NameCount(name, n) for name, n in ranked[:limit]]


__all__ = ["MemoryStore"]
