"""A ``Querier`` that sees storage plus what the rules of a group wrote in this evaluation.

Prometheus commits each rule's output before the next rule of the group runs, so a rule reads the
samples (and staleness markers) written by the rules above it at the same timestamp. Rules here
write nothing; the group collects the output and layers it over the caller's ``Querier`` so the
rules below see it all the same. Where both hold a sample at one timestamp, the new one wins.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from spyglass.core.labels import Labels
from spyglass.core.matchers import Matcher, matches_all
from spyglass.storage.ports import Querier, SeriesData


class Overlay:
    """``base`` plus samples added with ``add``."""

    def __init__(self, base: Querier) -> None:
        self.base = base
        self._added: dict[Labels, dict[int, float]] = {}

    def add(self, labels: Labels, time_ms: int, value: float) -> None:
        """One sample written by a rule."""
        self._added.setdefault(labels, {})[time_ms] = value

    def _added_in(
        self, matchers: Sequence[Matcher], start_ms: int, end_ms: int
    ) -> dict[Labels, dict[int, float]]:
        out = {}
        for labels, points in self._added.items():
            if not matches_all(list(matchers), labels):
                continue
            inside = {t: v for t, v in points.items() if start_ms <= t <= end_ms}
            if inside:
                out[labels] = inside
        return out

    def select(self, matchers: Sequence[Matcher], start_ms: int, end_ms: int) -> list[SeriesData]:
        base = self.base.select(matchers, start_ms, end_ms)
        added = self._added_in(matchers, start_ms, end_ms)
        if not added:
            return base
        out = []
        for s in base:
            extra = added.pop(s.labels, None)
            if extra is None:
                out.append(s)
                continue
            merged = dict(zip(s.timestamps.tolist(), s.values.tolist(), strict=True))
            merged.update(extra)
            out.append(_series(s.labels, merged))
        out.extend(_series(labels, points) for labels, points in added.items())
        return out

    def _labels(
        self, matcher_sets: Sequence[Sequence[Matcher]], start_ms: int, end_ms: int
    ) -> Iterable[Labels]:
        for labels, points in self._added.items():
            if matcher_sets and not any(matches_all(list(ms), labels) for ms in matcher_sets):
                continue
            if any(start_ms <= t <= end_ms for t in points):
                yield labels

    def series(
        self, matcher_sets: Sequence[Sequence[Matcher]], start_ms: int, end_ms: int
    ) -> list[Labels]:
        found = set(self.base.series(matcher_sets, start_ms, end_ms))
        found.update(self._labels(matcher_sets, start_ms, end_ms))
        return sorted(found)

    def label_names(
        self, matcher_sets: Sequence[Sequence[Matcher]], start_ms: int, end_ms: int
    ) -> list[str]:
        names = set(self.base.label_names(matcher_sets, start_ms, end_ms))
        names.update(n for ls in self._labels(matcher_sets, start_ms, end_ms) for n, _ in ls)
        return sorted(names)

    def label_values(
        self, name: str, matcher_sets: Sequence[Sequence[Matcher]], start_ms: int, end_ms: int
    ) -> list[str]:
        values = set(self.base.label_values(name, matcher_sets, start_ms, end_ms))
        values.update(
            v for ls in self._labels(matcher_sets, start_ms, end_ms) for n, v in ls if n == name
        )
        return sorted(values)


def _series(labels: Labels, points: dict[int, float]) -> SeriesData:
    times = sorted(points)
    return SeriesData(
        labels,
        np.array(times, dtype=np.int64),
        np.array([points[t] for t in times], dtype=np.float64),
    )


__all__ = ["Overlay"]
