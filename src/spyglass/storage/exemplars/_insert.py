"""The exemplars signal's insert: one flush of ``ExemplarBatch``es into ``metric_exemplars``."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from spyglass.core.exemplars import ExemplarBatch
from spyglass.core.labels import fingerprint, metric_name
from spyglass.storage._backend import Backend
from spyglass.storage.schema import EXEMPLARS

_MAP = pa.map_(pa.string(), pa.string())


def _clean(text: str) -> str:
    return text.encode("utf-8", "replace").decode("utf-8")


class ExemplarsInserter:
    """Inserts chunks of exemplar batches on ``backend``."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    def __call__(self, batches: list[ExemplarBatch]) -> int:
        exemplars = [e for b in batches for e in b.exemplars]
        if not exemplars:
            return 0
        n = len(exemplars)
        # Text that is not valid Unicode (lone surrogates) would fail every retry of the flush
        # and block the ones after it: stored with replacement characters instead.
        series = [[(_clean(k), _clean(v)) for k, v in e.series] for e in exemplars]
        # Sorted by name on the way in, so reads take each map's order as it comes.
        labels = [sorted((_clean(k), _clean(v)) for k, v in e.labels) for e in exemplars]
        table = pa.table(
            {
                "metric_name": pa.array([_clean(metric_name(e.series)) for e in exemplars]),
                "fingerprint": pa.array(
                    np.fromiter((fingerprint(e.series) for e in exemplars), np.uint64, n)
                ),
                "timestamp_ms": pa.array(
                    np.fromiter((e.timestamp_ms for e in exemplars), np.int64, n)
                ),
                "value": pa.array(np.fromiter((e.value for e in exemplars), np.float64, n)),
                "series": pa.array(series, _MAP),
                "labels": pa.array(labels, _MAP),
            }
        )
        self.backend.insert(EXEMPLARS, table)
        return n


__all__ = ["ExemplarsInserter"]
