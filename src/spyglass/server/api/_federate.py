"""Prometheus federation (``GET /federate?match[]=...``): the newest sample of each matching
series, in the text exposition format, for another Prometheus to scrape.

As Prometheus does: each ``match[]`` is a series selector and the result is their union; a
series contributes its latest sample within the lookback window before now (``--lookback-delta``,
5 minutes by default) unless that sample is a staleness marker; empty label values are left out;
the external labels of prometheus.yml are added to every series that lacks them; every family
is ``untyped`` and every sample carries its timestamp. The scraping Prometheus should set
``honor_labels: true``, so the series keep their own ``job`` and ``instance`` labels rather than
getting the federation job's. Bad selectors are answered with 400 and the parser's message as
plain text, like Prometheus' handler.
"""

from __future__ import annotations

from collections.abc import Sequence

from spyglass.core.labels import METRIC_NAME, Labels
from spyglass.core.matchers import Matcher
from spyglass.core.samples import MetricMetadata, is_stale
from spyglass.ingest.exposition import Exposition, ScrapedSample, format_text
from spyglass.storage.ports import Querier

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_UNTYPED = MetricMetadata("unknown", "", "")


def federate(
    querier: Querier,
    matcher_sets: Sequence[Sequence[Matcher]],
    now_ms: int,
    lookback_ms: int,
    external_labels: Labels,
) -> str:
    """The federation page of the series matching any matcher set, at ``now_ms``."""
    latest: dict[Labels, tuple[int, float]] = {}
    for matchers in matcher_sets:
        for s in querier.select(matchers, now_ms - lookback_ms, now_ms):
            if not len(s.timestamps):
                continue
            value = float(s.values[-1])
            if is_stale(value):
                continue
            latest[s.labels] = (int(s.timestamps[-1]), value)
    samples = []
    names: set[str] = set()
    for labels in sorted(latest, key=_sort_key):
        t, value = latest[labels]
        name = next((v for n, v in labels if n == METRIC_NAME), "")
        own = tuple((n, v) for n, v in labels if n != METRIC_NAME and v)
        present = {n for n, _ in own}
        # Prometheus appends the external labels after the series' own, in name order.
        extra = tuple((n, v) for n, v in external_labels if n not in present)
        samples.append(ScrapedSample(((METRIC_NAME, name), *own, *extra), value, t))
        names.add(name)
    return format_text(Exposition(samples, dict.fromkeys(sorted(names), _UNTYPED)))


def _sort_key(labels: Labels) -> tuple[str, Labels]:
    """By metric name first, so each family's samples are written together."""
    return next((v for n, v in labels if n == METRIC_NAME), ""), labels


__all__ = ["CONTENT_TYPE", "federate"]
