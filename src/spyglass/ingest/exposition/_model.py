"""What a parsed exposition page is: samples in page order plus metadata per metric family.

Both wire formats (Prometheus text 0.0.4 and OpenMetrics 1.0) parse into these values, and the
text writer formats them back, so the scraper, the SDK's tests and the exporters share one shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from spyglass.core.labels import Labels
from spyglass.core.samples import MetricMetadata


@dataclass(frozen=True, slots=True)
class Exemplar:
    """An OpenMetrics exemplar: a trace reference attached to a counter or bucket sample."""

    labels: Labels
    value: float
    timestamp_ms: int | None


@dataclass(frozen=True, slots=True)
class ScrapedSample:
    """One sample line: sorted labels including ``__name__``, value, optional timestamp (ms)."""

    labels: Labels
    value: float
    timestamp_ms: int | None
    exemplar: Exemplar | None = None


@dataclass(frozen=True, slots=True)
class Exposition:
    """A parsed page: samples in the order they appeared, metadata keyed by family name."""

    samples: list[ScrapedSample] = field(default_factory=list)
    metadata: dict[str, MetricMetadata] = field(default_factory=dict)
