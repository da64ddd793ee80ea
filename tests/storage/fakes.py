"""Stand-ins shared by the storage tests: sample batches and a backend that records inserts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
from prometheus_client.registry import Collector

from spyglass.core.errors import Unavailable
from spyglass.core.labels import Labels, fingerprint, labels_of
from spyglass.core.samples import SampleBatch
from spyglass.storage.backends import Backend
from spyglass.storage.schema import TABLES

DAY = 86_400_000


def batch(n: int, t0: int = 0, name: str = "x") -> SampleBatch:
    ls = labels_of({"__name__": name})
    fp = fingerprint(ls)
    return SampleBatch(
        {fp: ls},
        np.full(n, fp, np.uint64),
        np.arange(t0, t0 + n, dtype=np.int64),
        np.ones(n),
    )


def samples_of(series: Sequence[Labels], rs: Sequence[tuple[int, int, float]]) -> SampleBatch:
    """A batch of ``(index in series, timestamp, value)`` samples, in that order."""
    sets = [series[i] for i, _, _ in rs]
    return SampleBatch(
        {fingerprint(ls): ls for ls in sets},
        np.array([fingerprint(ls) for ls in sets], np.uint64),
        np.array([t for _, t, _ in rs], np.int64),
        np.array([v for _, _, v in rs], np.float64),
    )


def figures(collectors: Sequence[Collector]) -> dict[str, float]:
    """Every sample the collectors expose, by name."""
    return {
        sample.name: sample.value
        for c in collectors
        for family in c.collect()
        for sample in family.samples
    }


def empty_tables(backend: Backend) -> None:
    """Every metrics table emptied: a module's tests share one chDB."""
    for table in TABLES:
        backend.command(f"TRUNCATE TABLE IF EXISTS {table} SYNC")


class RecordingBackend:
    def __init__(self) -> None:
        self.inserts: list[tuple[str, pa.Table]] = []
        self.fail = False

    def command(self, sql: str, params: Any = None) -> None:
        pass

    def query_arrow(self, sql: str, params: Any = None) -> pa.Table:
        raise AssertionError("the writer never reads")

    def insert(self, table: str, data: pa.Table) -> None:
        if self.fail:
            raise Unavailable("down")
        self.inserts.append((table, data))

    def close(self) -> None:
        pass


class Clock:
    """A settable clock: ``ms`` now, read in seconds as ``time.time`` is."""

    def __init__(self, ms: int) -> None:
        self.ms = ms

    def __call__(self) -> float:
        return self.ms / 1000


class CountingBackend:
    """The backend, counting the queries that reach it."""

    def __init__(self, inner: Backend) -> None:
        self.inner = inner
        self.queries: list[str] = []

    def query_arrow(self, sql: str, params: Any = None) -> pa.Table:
        self.queries.append(sql)
        return self.inner.query_arrow(sql, params)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)
