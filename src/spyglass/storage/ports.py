"""The small interfaces domains and ingest depend on; storage backends implement them.

Query engines take a ``Querier`` (DESIGN.md: "query engines take interfaces, not storage"): the
ClickHouse-backed store implements it by pushing label matching into SQL, and ``MemoryStore``
implements it for unit tests and the conformance runner. Ingest hands batches to a ``SampleSink``,
whose contract is durability: ``append`` returns only once the batch would survive ``kill -9``.

Time ranges are in milliseconds since the epoch and inclusive at both ends; engines that need
Prometheus 3's left-open ranges drop the first sample themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from spyglass.core.labels import Labels
from spyglass.core.matchers import Matcher
from spyglass.core.samples import MetricMetadata, SampleBatch


@dataclass(frozen=True, slots=True)
class SeriesData:
    """One series' samples in a time range: ascending timestamps (ms), raw values.

    Values include staleness markers (``STALE_NAN``) exactly as stored; the engine decides what
    they mean.
    """

    labels: Labels
    timestamps: npt.NDArray[np.int64]
    values: npt.NDArray[np.float64]


class Querier(Protocol):
    """Read access to series and samples, by label matchers and time range."""

    def select(self, matchers: Sequence[Matcher], start_ms: int, end_ms: int) -> list[SeriesData]:
        """Series matching every matcher, with their samples in ``[start_ms, end_ms]``.

        Series without any sample in the range are left out. Order is unspecified.
        """
        ...

    def series(
        self, matcher_sets: Sequence[Sequence[Matcher]], start_ms: int, end_ms: int
    ) -> list[Labels]:
        """Label sets of series matching any of the matcher sets, active in the range."""
        ...

    def label_names(
        self, matcher_sets: Sequence[Sequence[Matcher]], start_ms: int, end_ms: int
    ) -> list[str]:
        """Sorted label names of matching series (all series when ``matcher_sets`` is empty)."""
        ...

    def label_values(
        self, name: str, matcher_sets: Sequence[Sequence[Matcher]], start_ms: int, end_ms: int
    ) -> list[str]:
        """Sorted values of label ``name`` over matching series (all when no matcher sets)."""
        ...


class MetadataReader(Protocol):
    """Metric metadata (type, help, unit) as the exporters reported it."""

    def metadata(self, metric: str | None = None) -> dict[str, list[MetricMetadata]]:
        """Metadata by metric family name; only ``metric`` when given."""
        ...


class SampleSink(Protocol):
    """Where ingest puts accepted samples."""

    async def append(self, batch: SampleBatch) -> None:
        """Accept ``batch`` durably: return only once it is in the fsynced write-ahead log."""
        ...


__all__ = ["MetadataReader", "Querier", "SampleSink", "SeriesData"]
