"""Stand-ins shared by the storage tests: sample batches and a backend that records inserts."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from spyglass.core.errors import Unavailable
from spyglass.core.labels import fingerprint, labels_of
from spyglass.core.samples import SampleBatch
from spyglass.storage.backends import Backend

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
