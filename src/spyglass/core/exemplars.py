"""Exemplars: a sample of one series pointing at what it measured (a trace, a span).

What remote_write's ``TimeSeries.exemplars``, OTLP's data point ``exemplars``, OpenMetrics'
`` # {trace_id="..."} 0.3 1.7e9`` and span metrics produce, and what
``/api/v1/query_exemplars`` returns: the series it belongs to, its own small label set (usually
``trace_id`` and ``span_id``), a value and a time in milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass

from spyglass.core.labels import Labels

# OpenMetrics' limit on an exemplar's label set, in code points of names and values together;
# Prometheus refuses longer ones, and so does every Spyglass receiver.
MAX_EXEMPLAR_LABEL_RUNES = 128


@dataclass(frozen=True, slots=True)
class Exemplar:
    """One exemplar of the series ``series`` (a sorted label set with ``__name__``)."""

    series: Labels
    labels: Labels
    value: float
    timestamp_ms: int


@dataclass(frozen=True, slots=True)
class ExemplarBatch:
    """Exemplars accepted together (one request, one collection), in the order they came."""

    exemplars: tuple[Exemplar, ...]

    def __len__(self) -> int:
        return len(self.exemplars)


def exemplar_label_runes(labels: Labels) -> int:
    """Code points of the names and values of ``labels``, as OpenMetrics counts them."""
    return sum(len(name) + len(value) for name, value in labels)


__all__ = ["MAX_EXEMPLAR_LABEL_RUNES", "Exemplar", "ExemplarBatch", "exemplar_label_runes"]
