"""Spans: what trace ingest (OTLP, Zipkin) produces and trace storage and queries consume.

A ``Span`` follows the OpenTelemetry Collector ClickHouse exporter's trace row, so the table
other ClickHouse tools read and the value Spyglass passes around carry the same fields: ids in
lower-case hex (trace 32 digits, span 16, ``""`` for no parent), the start and duration in
nanoseconds, the kind and status in the exporter's words (``Server``, ``Client``, ``Internal``,
``Producer``, ``Consumer``, ``Unspecified``; ``Unset``, ``Ok``, ``Error``), attributes as
``str -> str`` maps (typed OTLP values stringified as the exporter stores them), and the events
and links of the span.

A ``SpanBatch`` holds either ``Span``s or ``SpanColumns``: the same fields column by column (ids
and strings as ``Texts``, Arrow's string layout; numbers as numpy arrays; attributes as flat
keys and values cut by offsets), which the OTLP protobuf reader makes and the WAL, the insert
and span metrics read without a ``Span`` per span. ``SpanBatch.spans`` builds the equal
``Span``s on first use for everything else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt

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


@dataclass(frozen=True, slots=True, eq=False)
class Texts:
    """A column of strings: string ``i`` is ``data[offsets[i]:offsets[i + 1]]``, valid UTF-8.

    The layout of an Arrow string array, so a column read straight from a protobuf body goes
    to ClickHouse as one buffer, with no ``str`` per value."""

    data: bytes
    offsets: npt.NDArray[np.int64]  # len(self) + 1 offsets, from 0 to len(data)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def tolist(self) -> list[str]:
        """Every string, in order."""
        data = self.data
        bounds = self.offsets.tolist()
        if data.isascii():
            # Byte offsets are character offsets: one decode, then slices of the str.
            text = data.decode("ascii")
            return [text[a:b] for a, b in pairwise(bounds)]
        return [data[a:b].decode("utf-8") for a, b in pairwise(bounds)]

    def strings_at(self, index: list[int]) -> list[str]:
        """The strings at ``index``, as ``str``s (only those are made)."""
        data = self.data
        bounds = self.offsets.tolist()
        if data.isascii():
            text = data.decode("ascii")
            return [text[bounds[i] : bounds[i + 1]] for i in index]
        return [data[bounds[i] : bounds[i + 1]].decode("utf-8") for i in index]

    def take(self, index: npt.NDArray[np.int64]) -> Texts:
        """The strings at ``index``, in that order."""
        starts = self.offsets[:-1][index]
        sizes = self.offsets[1:][index] - starts
        return gather(np.frombuffer(self.data, np.uint8), starts, sizes)

    @classmethod
    def concat(cls, parts: Sequence[Texts]) -> Texts:
        """One column holding the strings of ``parts``, in order."""
        if len(parts) == 1:
            return parts[0]
        offsets = [np.zeros(1, np.int64)]
        base = 0
        for part in parts:
            offsets.append(part.offsets[1:] + base)
            base += len(part.data)
        return cls(b"".join(p.data for p in parts), np.concatenate(offsets))


def gather(
    buf: npt.NDArray[np.uint8], starts: npt.NDArray[np.int64], sizes: npt.NDArray[np.int64]
) -> Texts:
    """The byte runs ``buf[starts[i]:starts[i] + sizes[i]]`` back to back, as a ``Texts``
    (one numpy take for all of them; the caller vouches for the bytes being UTF-8)."""
    offsets = np.zeros(len(starts) + 1, np.int64)
    np.cumsum(sizes, out=offsets[1:])
    total = int(offsets[-1])
    if not total:
        return Texts(b"", offsets)
    index = np.repeat(starts - offsets[:-1], sizes) + np.arange(total, dtype=np.int64)
    return Texts(buf[index].tobytes(), offsets)


@dataclass(frozen=True, slots=True, eq=False)
class SpanColumns:
    """Spans column by column, as the OTLP protobuf reader makes them: span ``i`` has the
    ``i``-th value of each per-span column, its resource (and service) at
    ``resource_index[i]``, its scope at ``scope_index[i]``, its attributes at
    ``attr_offsets[i]:attr_offsets[i + 1]`` of ``attr_keys``/``attr_values``, and its events
    and links at ``event_offsets``/``link_offsets`` of the flat ``events``/``links`` (rare, so
    kept as objects). ``spans()`` builds the equal ``Span``s for the paths that want them."""

    trace_id: Texts
    span_id: Texts
    parent_span_id: Texts
    trace_state: Texts
    name: Texts
    status_message: Texts
    start_ns: npt.NDArray[np.int64]
    duration_ns: npt.NDArray[np.int64]
    kind: npt.NDArray[np.uint8]  # index into SPAN_KINDS
    status: npt.NDArray[np.uint8]  # index into STATUS_CODES
    resources: tuple[Mapping[str, str], ...]
    services: tuple[str, ...]  # per resource: its ``service.name``
    resource_index: npt.NDArray[np.int64]
    scopes: tuple[tuple[str, str], ...]  # (name, version)
    scope_index: npt.NDArray[np.int64]
    attr_offsets: npt.NDArray[np.int64]
    attr_keys: Texts
    attr_values: Texts
    event_offsets: npt.NDArray[np.int64]
    events: tuple[SpanEvent, ...]
    link_offsets: npt.NDArray[np.int64]
    links: tuple[SpanLink, ...]

    def __len__(self) -> int:
        return len(self.start_ns)

    def spans(self) -> tuple[Span, ...]:
        """The spans as ``Span``s."""
        keys = self.attr_keys.tolist()
        values = self.attr_values.tolist()
        attrs: list[Mapping[str, str]] = [
            dict(zip(keys[a:b], values[a:b], strict=True)) if b > a else _EMPTY
            for a, b in pairwise(self.attr_offsets.tolist())
        ]
        events = self.events
        links = self.links
        ev = self.event_offsets.tolist()
        ln = self.link_offsets.tolist()
        resources = self.resources
        services = self.services
        scopes = self.scopes
        return tuple(
            Span(
                trace,
                span,
                name,
                start,
                duration,
                services[r],
                parent,
                SPAN_KINDS[kind],
                STATUS_CODES[status],
                message,
                state,
                attributes,
                resources[r],
                scopes[sc][0],
                scopes[sc][1],
                events[ev[i] : ev[i + 1]] if ev[i + 1] > ev[i] else (),
                links[ln[i] : ln[i + 1]] if ln[i + 1] > ln[i] else (),
            )
            for i, (
                trace,
                span,
                parent,
                state,
                name,
                message,
                start,
                duration,
                kind,
                status,
                r,
                sc,
                attributes,
            ) in enumerate(
                zip(
                    self.trace_id.tolist(),
                    self.span_id.tolist(),
                    self.parent_span_id.tolist(),
                    self.trace_state.tolist(),
                    self.name.tolist(),
                    self.status_message.tolist(),
                    self.start_ns.tolist(),
                    self.duration_ns.tolist(),
                    self.kind.tolist(),
                    self.status.tolist(),
                    self.resource_index.tolist(),
                    self.scope_index.tolist(),
                    attrs,
                    strict=True,
                )
            )
        )

    @classmethod
    def concat(cls, parts: Sequence[SpanColumns]) -> SpanColumns:
        """One set of columns holding every span of ``parts``, in order."""
        if len(parts) == 1:
            return parts[0]
        res_base = np.cumsum([0, *(len(p.resources) for p in parts[:-1])])
        scope_base = np.cumsum([0, *(len(p.scopes) for p in parts[:-1])])

        def offsets(get: Callable[[SpanColumns], npt.NDArray[np.int64]]) -> npt.NDArray[np.int64]:
            out = [np.zeros(1, np.int64)]
            base = 0
            for p in parts:
                o = get(p)
                out.append(o[1:] + base)
                base += int(o[-1])
            return np.concatenate(out)

        def texts(get: Callable[[SpanColumns], Texts]) -> Texts:
            return Texts.concat([get(p) for p in parts])

        return cls(
            trace_id=texts(lambda p: p.trace_id),
            span_id=texts(lambda p: p.span_id),
            parent_span_id=texts(lambda p: p.parent_span_id),
            trace_state=texts(lambda p: p.trace_state),
            name=texts(lambda p: p.name),
            status_message=texts(lambda p: p.status_message),
            start_ns=np.concatenate([p.start_ns for p in parts]),
            duration_ns=np.concatenate([p.duration_ns for p in parts]),
            kind=np.concatenate([p.kind for p in parts]),
            status=np.concatenate([p.status for p in parts]),
            resources=tuple(r for p in parts for r in p.resources),
            services=tuple(s for p in parts for s in p.services),
            resource_index=np.concatenate(
                [p.resource_index + b for p, b in zip(parts, res_base.tolist(), strict=True)]
            ),
            scopes=tuple(s for p in parts for s in p.scopes),
            scope_index=np.concatenate(
                [p.scope_index + b for p, b in zip(parts, scope_base.tolist(), strict=True)]
            ),
            attr_offsets=offsets(lambda p: p.attr_offsets),
            attr_keys=texts(lambda p: p.attr_keys),
            attr_values=texts(lambda p: p.attr_values),
            event_offsets=offsets(lambda p: p.event_offsets),
            events=tuple(e for p in parts for e in p.events),
            link_offsets=offsets(lambda p: p.link_offsets),
            links=tuple(lk for p in parts for lk in p.links),
        )


class SpanBatch:
    """Spans accepted together (one export request), in the order they were sent.

    Built from ``Span``s, or from ``SpanColumns`` (``columns`` is then set and ``spans`` is
    made from them on first use, by the paths that want objects)."""

    __slots__ = ("_spans", "columns")

    def __init__(self, spans: tuple[Span, ...] = (), *, columns: SpanColumns | None = None) -> None:
        self._spans: tuple[Span, ...] | None = spans if columns is None else None
        self.columns = columns

    @property
    def spans(self) -> tuple[Span, ...]:
        """The spans, in order."""
        spans = self._spans
        if spans is None:
            assert self.columns is not None
            # Two threads may both build them; either tuple holds the same spans.
            spans = self._spans = self.columns.spans()
        return spans

    def __len__(self) -> int:
        if self.columns is not None:
            return len(self.columns)
        return len(self.spans)

    def __iter__(self) -> Iterator[Span]:
        return iter(self.spans)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SpanBatch):
            return NotImplemented
        return self.spans == other.spans

    __hash__: Any = None  # a lazily built tuple inside: not a dict key

    def __repr__(self) -> str:
        return f"SpanBatch({len(self)} spans{', columns' if self.columns is not None else ''})"

    @classmethod
    def concat(cls, batches: Sequence[SpanBatch]) -> SpanBatch:
        """One batch holding every span of ``batches``, in order (columns when all have
        them)."""
        if len(batches) == 1:
            return batches[0]
        parts = [b.columns for b in batches]
        if parts and all(p is not None for p in parts):
            return cls(columns=SpanColumns.concat([p for p in parts if p is not None]))
        return cls(tuple(span for batch in batches for span in batch.spans))


__all__ = [
    "MAX_TIME_NS",
    "SPAN_KINDS",
    "STATUS_CODES",
    "Span",
    "SpanBatch",
    "SpanColumns",
    "SpanEvent",
    "SpanLink",
    "Texts",
    "gather",
]
