"""Log records and batches: what every log ingest protocol produces and storage consumes.

A ``LogRecord`` is one log line as Loki and OpenTelemetry both see it: a timestamp in
nanoseconds, the line itself, the *stream* labels LogQL selects on (``{service_name="api"}``),
and everything else a shipper sends beside the line: Loki's structured metadata, OpenTelemetry's
severity, trace and span ids, resource and log attributes. Wire formats (Loki push, OTLP logs,
Elasticsearch ``_bulk``, the agent's file tailing) convert to these; storage writes them to the
logs table and reads them back for LogQL.

Stream labels follow ``core.labels``: sorted ``(name, value)`` pairs with no empty values. The
attribute maps are plain ``str -> str`` mappings (OTLP's typed values arrive stringified, as the
OpenTelemetry Collector's ClickHouse exporter stores them).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from spyglass.core.labels import Labels

_NO_ATTRIBUTES: Mapping[str, str] = MappingProxyType({})


def _no_attributes() -> Mapping[str, str]:
    # One shared read-only empty map: records without side data cost no dict each.
    return _NO_ATTRIBUTES


@dataclass(frozen=True, slots=True)
class LogRecord:
    """One log line with its stream and its side data.

    - ``timestamp_ns``: when the event happened (Loki's entry timestamp, OTLP ``time_unix_nano``,
      or the observed time when a sender gives none);
    - ``observed_ns``: when a collector first saw it (OTLP ``observed_time_unix_nano``; 0 when
      unknown);
    - ``metadata``: Loki's structured metadata; OTLP log attributes land here too, so LogQL
      filters on them the way Loki 3 does;
    - ``resource``: OTLP resource attributes (``service.name``, ``host.name``, ...);
    - ``trace_id``/``span_id``: lower-case hex, ``""`` when absent;
    - ``severity_number``: OpenTelemetry's 1-24 scale, 0 when unknown.
    """

    timestamp_ns: int
    line: str
    stream: Labels
    metadata: Mapping[str, str] = field(default_factory=_no_attributes)
    observed_ns: int = 0
    severity_text: str = ""
    severity_number: int = 0
    trace_id: str = ""
    span_id: str = ""
    resource: Mapping[str, str] = field(default_factory=_no_attributes)


@dataclass(frozen=True, slots=True)
class LogBatch:
    """Log records accepted together (one push request), in the order they were sent."""

    records: tuple[LogRecord, ...]

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self) -> Iterator[LogRecord]:
        return iter(self.records)

    @classmethod
    def of(cls, records: Iterable[LogRecord]) -> LogBatch:
        """A batch of ``records``, in order."""
        return cls(tuple(records))

    @classmethod
    def concat(cls, batches: Sequence[LogBatch]) -> LogBatch:
        """One batch holding every record of ``batches``, in order."""
        if len(batches) == 1:
            return batches[0]
        return cls(tuple(record for batch in batches for record in batch.records))


__all__ = ["LogBatch", "LogRecord"]
