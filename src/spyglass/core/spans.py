"""Spans: what trace ingest (OTLP, Zipkin) produces and trace storage and queries consume.

A ``Span`` follows the OpenTelemetry Collector ClickHouse exporter's trace row, so the table
other ClickHouse tools read and the value Spyglass passes around carry the same fields: ids in
lower-case hex (trace 32 digits, span 16, ``""`` for no parent), the start and duration in
nanoseconds, the kind and status in the exporter's words (``Server``, ``Client``, ``Internal``,
``Producer``, ``Consumer``, ``Unspecified``; ``Unset``, ``Ok``, ``Error``), attributes as
``str -> str`` maps (typed OTLP values stringified as the exporter stores them), and the events
and links of the span.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

_EMPTY: Mapping[str, str] = MappingProxyType({})

# The latest time a span can carry (2262-04-11, the end of int64 nanoseconds): decoders cut a
# later one (OTLP's times are unsigned 64-bit) to it, so the WAL and ClickHouse can hold it.
MAX_TIME_NS = 2**63 - 1

SPAN_KINDS = ("Unspecified", "Internal", "Server", "Client", "Producer", "Consumer")
STATUS_CODES = ("Unset", "Ok", "Error")


def _no_attributes() -> Mapping[str, str]:
    return _EMPTY


@dataclass(frozen=True, slots=True)
class SpanEvent:
    """Something that happened during a span (an exception, a log line), at a time."""

    timestamp_ns: int
    name: str
    attributes: Mapping[str, str] = field(default_factory=_no_attributes)


@dataclass(frozen=True, slots=True)
class SpanLink:
    """A causal link to a span of another (or the same) trace."""

    trace_id: str
    span_id: str
    trace_state: str = ""
    attributes: Mapping[str, str] = field(default_factory=_no_attributes)


@dataclass(frozen=True, slots=True)
class Span:
    """One span of a trace."""

    trace_id: str
    span_id: str
    name: str
    start_ns: int
    duration_ns: int
    service_name: str = ""
    parent_span_id: str = ""
    kind: str = "Unspecified"
    status_code: str = "Unset"
    status_message: str = ""
    trace_state: str = ""
    attributes: Mapping[str, str] = field(default_factory=_no_attributes)
    resource: Mapping[str, str] = field(default_factory=_no_attributes)
    scope_name: str = ""
    scope_version: str = ""
    events: tuple[SpanEvent, ...] = ()
    links: tuple[SpanLink, ...] = ()

    @property
    def end_ns(self) -> int:
        """When the span ended."""
        return self.start_ns + self.duration_ns


@dataclass(frozen=True, slots=True)
class SpanBatch:
    """Spans accepted together (one export request), in the order they were sent."""

    spans: tuple[Span, ...]

    def __len__(self) -> int:
        return len(self.spans)

    def __iter__(self) -> Iterator[Span]:
        return iter(self.spans)

    @classmethod
    def concat(cls, batches: Sequence[SpanBatch]) -> SpanBatch:
        """One batch holding every span of ``batches``, in order."""
        if len(batches) == 1:
            return batches[0]
        return cls(tuple(span for batch in batches for span in batch.spans))


__all__ = [
    "MAX_TIME_NS",
    "SPAN_KINDS",
    "STATUS_CODES",
    "Span",
    "SpanBatch",
    "SpanEvent",
    "SpanLink",
]
