"""The spans WAL codec: binary encoding of one ``SpanBatch`` as a write-ahead-log record.

Layout, little-endian, columns rather than records so that numbers cost a numpy copy::

    u8  version (1)
    u32 spans, u32 resources, u32 events, u32 links, u32 strings
    spans * i64 start (ns), spans * i64 duration (ns), spans * u8 kind, spans * u8 status,
    spans * u32 resource index, spans * u32 attribute pairs, spans * u32 events, spans * u32 links
    resources * u32 attribute pairs
    events * i64 timestamp (ns), events * u32 attribute pairs
    links * u32 attribute pairs
    strings * u32 byte length
    the strings' UTF-8 bytes, back to back

Strings come in this order: each resource's attribute names and values; then per span its trace
id, span id, parent span id, name, service, status message, trace state, scope name and scope
version, its attribute names and values, per event its name and attributes, per link its trace
id, span id, trace state and attributes. The spans of one export share a few resources, so a
resource is written once per record. Lone surrogates survive (``surrogatepass``): what was
acknowledged is replayed as it was.

A batch of ``SpanColumns`` (what the OTLP protobuf reader makes) is written as version 2, from
its arrays, and read back as columns, so neither side builds a ``Span``::

    u8  version (2)
    u32 spans, u32 attributes, u32 resources, u32 scopes, u32 events, u32 links
    spans * i64 start (ns), spans * i64 duration (ns), spans * u8 kind, spans * u8 status,
    spans * u32 resource index, spans * u32 scope index, spans * u32 attributes,
    spans * u32 events, spans * u32 links
    resources * u32 attribute pairs
    events * i64 timestamp (ns), events * u32 attribute pairs
    links * u32 attribute pairs
    strings * u32 byte length
    the strings' UTF-8 bytes, back to back

Its strings are whole columns one after another: every span's trace id, then every span id,
parent span id, trace state, name and status message; every attribute key, then every
attribute value; then each resource's attribute names and values, each scope's name and
version, per event its name and attributes, per link its trace id, span id, trace state and
attributes. Version 1 records (of ``Span``s) are still read.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from itertools import accumulate, pairwise
from types import MappingProxyType

import numpy as np
import numpy.typing as npt

from spyglass.core.errors import ParseError
from spyglass.core.logs import valid_lines
from spyglass.core.spans import (
    SPAN_KINDS,
    STATUS_CODES,
    Span,
    SpanBatch,
    SpanColumns,
    SpanEvent,
    SpanLink,
    Texts,
)
from spyglass.storage._interning import by_identity
from spyglass.storage._record_columns import RecordColumns
from spyglass.storage.wal import StandaloneRecords

VERSION = 1
_HEAD = struct.Struct("<BIIIII")
_HEAD2 = struct.Struct("<BIIIIII")
_FIXED = 9  # strings every span has
_KIND = {k: i for i, k in enumerate(SPAN_KINDS)}
_STATUS = {c: i for i, c in enumerate(STATUS_CODES)}
_EMPTY: Mapping[str, str] = MappingProxyType({})


def encode_batch(batch: SpanBatch) -> bytes:
    """The record payload for ``batch``."""
    if batch.columns is not None:
        return _encode_columns(batch.columns)
    spans = batch.spans
    n = len(spans)
    resources, resource_idx = by_identity((s.resource for s in spans), n)
    strings: list[str] = []
    for res in resources:
        for kv in res.items():
            strings += kv
    event_ts: list[int] = []
    event_attrs: list[int] = []
    link_attrs: list[int] = []
    for s in spans:
        strings += (
            s.trace_id,
            s.span_id,
            s.parent_span_id,
            s.name,
            s.service_name,
            s.status_message,
            s.trace_state,
            s.scope_name,
            s.scope_version,
        )
        for kv in s.attributes.items():
            strings += kv
        for e in s.events:
            event_ts.append(e.timestamp_ns)
            event_attrs.append(len(e.attributes))
            strings.append(e.name)
            for kv in e.attributes.items():
                strings += kv
        for link in s.links:
            link_attrs.append(len(link.attributes))
            strings += (link.trace_id, link.span_id, link.trace_state)
            for kv in link.attributes.items():
                strings += kv
    text = "".join(strings).encode("utf-8", "surrogatepass")
    if len(text) == sum(map(len, strings)):
        # All ASCII (the usual ids, names and attributes): one encode, and each string's byte
        # length is its length.
        lengths = np.fromiter(map(len, strings), "<u4", len(strings))
    else:
        raw = [t.encode("utf-8", "surrogatepass") for t in strings]
        lengths = np.fromiter(map(len, raw), "<u4", len(raw))
    parts = [
        _HEAD.pack(VERSION, n, len(resources), len(event_ts), len(link_attrs), len(strings)),
        np.fromiter((s.start_ns for s in spans), "<i8", n).tobytes(),
        np.fromiter((s.duration_ns for s in spans), "<i8", n).tobytes(),
        np.fromiter((_KIND.get(s.kind, 0) for s in spans), "<u1", n).tobytes(),
        np.fromiter((_STATUS.get(s.status_code, 0) for s in spans), "<u1", n).tobytes(),
        resource_idx.astype("<u4").tobytes(),
        np.fromiter((len(s.attributes) for s in spans), "<u4", n).tobytes(),
        np.fromiter((len(s.events) for s in spans), "<u4", n).tobytes(),
        np.fromiter((len(s.links) for s in spans), "<u4", n).tobytes(),
        np.fromiter((len(r) for r in resources), "<u4", len(resources)).tobytes(),
        np.array(event_ts, "<i8").tobytes(),
        np.array(event_attrs, "<u4").tobytes(),
        np.array(link_attrs, "<u4").tobytes(),
        lengths.tobytes(),
        text,
    ]
    return b"".join(parts)


def _encode_columns(c: SpanColumns) -> bytes:
    n = len(c)
    texts = (
        c.trace_id,
        c.span_id,
        c.parent_span_id,
        c.trace_state,
        c.name,
        c.status_message,
        c.attr_keys,
        c.attr_values,
    )
    misc: list[str] = []
    for res in c.resources:
        for kv in res.items():
            misc += kv
    for scope in c.scopes:
        misc += scope
    for e in c.events:
        misc.append(e.name)
        for kv in e.attributes.items():
            misc += kv
    for link in c.links:
        misc += (link.trace_id, link.span_id, link.trace_state)
        for kv in link.attributes.items():
            misc += kv
    raw_misc = [t.encode("utf-8", "surrogatepass") for t in misc]
    lengths = np.concatenate(
        [*(np.diff(t.offsets) for t in texts), np.fromiter(map(len, raw_misc), np.int64)]
    )
    parts = [
        _HEAD2.pack(
            2, n, len(c.attr_keys), len(c.resources), len(c.scopes), len(c.events), len(c.links)
        ),
        c.start_ns.astype("<i8").tobytes(),
        c.duration_ns.astype("<i8").tobytes(),
        c.kind.astype("<u1").tobytes(),
        c.status.astype("<u1").tobytes(),
        c.resource_index.astype("<u4").tobytes(),
        c.scope_index.astype("<u4").tobytes(),
        np.diff(c.attr_offsets).astype("<u4").tobytes(),
        np.diff(c.event_offsets).astype("<u4").tobytes(),
        np.diff(c.link_offsets).astype("<u4").tobytes(),
        np.fromiter(map(len, c.resources), "<u4", len(c.resources)).tobytes(),
        np.fromiter((e.timestamp_ns for e in c.events), "<i8", len(c.events)).tobytes(),
        np.fromiter((len(e.attributes) for e in c.events), "<u4", len(c.events)).tobytes(),
        np.fromiter((len(lk.attributes) for lk in c.links), "<u4", len(c.links)).tobytes(),
        lengths.astype("<u4").tobytes(),
        *(t.data for t in texts),
        *raw_misc,
    ]
    return b"".join(parts)


def _decode_columns(payload: bytes) -> SpanBatch:
    if len(payload) < _HEAD2.size:
        raise ParseError("WAL record truncated in its header")
    _, n, n_attrs, n_res, n_scopes, n_events, n_links = _HEAD2.unpack_from(payload)
    reader = RecordColumns(payload, _HEAD2.size)
    column = reader.column
    start = column("<i8", n).astype(np.int64)
    duration = column("<i8", n).astype(np.int64)
    kind = column("<u1", n).astype(np.uint8)
    status = column("<u1", n).astype(np.uint8)
    resource_index = column("<u4", n).astype(np.int64)
    scope_index = column("<u4", n).astype(np.int64)
    attr_counts = column("<u4", n).astype(np.int64)
    event_counts = column("<u4", n).astype(np.int64)
    link_counts = column("<u4", n).astype(np.int64)
    res_pairs = column("<u4", n_res).tolist()
    event_ts = column("<i8", n_events).tolist()
    event_pairs = column("<u4", n_events).tolist()
    link_pairs = column("<u4", n_links).tolist()
    n_misc = 2 * sum(res_pairs) + 2 * n_scopes + n_events + 2 * sum(event_pairs)
    n_misc += 3 * n_links + 2 * sum(link_pairs)
    n_strings = 6 * n + 2 * n_attrs + n_misc
    lengths = column("<u4", n_strings).astype(np.int64)
    ends = np.zeros(n_strings + 1, np.int64)
    np.cumsum(lengths, out=ends[1:])
    ends += reader.pos
    if int(ends[-1]) != len(payload):
        raise ParseError(
            f"WAL record has {len(payload) - int(ends[-1])} bytes more or less than its strings"
        )
    if (
        int(attr_counts.sum()) != n_attrs
        or int(event_counts.sum()) != n_events
        or int(link_counts.sum()) != n_links
    ):
        raise ParseError("WAL record's attribute, event or link counts do not add up")
    if np.any(kind >= len(SPAN_KINDS)) or np.any(status >= len(STATUS_CODES)):
        raise ParseError("WAL record holds an unknown span kind or status")
    if np.any(resource_index >= n_res) or np.any(scope_index >= n_scopes):
        raise ParseError("WAL record's spans refer to a resource or scope it does not hold")
    texts: list[Texts] = []
    at = 0
    for count in (n, n, n, n, n, n, n_attrs, n_attrs):
        bounds = ends[at : at + count + 1]
        data = payload[int(bounds[0]) : int(bounds[-1])]
        offsets = bounds - bounds[0]
        if not valid_lines(data, offsets):
            raise ParseError("WAL record has invalid UTF-8")
        texts.append(Texts(data, offsets))
        at += count
    try:
        misc = [
            payload[a:b].decode("utf-8", "surrogatepass") for a, b in pairwise(ends[at:].tolist())
        ]
    except UnicodeDecodeError as exc:
        raise ParseError("WAL record has invalid UTF-8") from exc
    rest = _Strings(misc)
    resources = tuple(rest.pairs(c) for c in res_pairs)
    scopes = []
    for _ in range(n_scopes):
        scope_name, scope_version = rest.take(2)
        scopes.append((scope_name, scope_version))
    events = []
    for ts, count in zip(event_ts, event_pairs, strict=True):
        (name,) = rest.take(1)
        events.append(SpanEvent(ts, name, rest.pairs(count)))
    links = []
    for count in link_pairs:
        trace, span, state = rest.take(3)
        links.append(SpanLink(trace, span, state, rest.pairs(count)))
    columns = SpanColumns(
        trace_id=texts[0],
        span_id=texts[1],
        parent_span_id=texts[2],
        trace_state=texts[3],
        name=texts[4],
        status_message=texts[5],
        start_ns=start,
        duration_ns=duration,
        kind=kind,
        status=status,
        resources=resources,
        services=tuple(r.get("service.name", "") for r in resources),
        resource_index=resource_index,
        scopes=tuple(scopes),
        scope_index=scope_index,
        attr_offsets=_offsets(attr_counts),
        attr_keys=texts[6],
        attr_values=texts[7],
        event_offsets=_offsets(event_counts),
        events=tuple(events),
        link_offsets=_offsets(link_counts),
        links=tuple(links),
    )
    return SpanBatch(columns=columns)


def _offsets(counts: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    out = np.zeros(len(counts) + 1, np.int64)
    np.cumsum(counts, out=out[1:])
    return out


class _Strings:
    """A record's decoded strings, read front to back: single ones and key/value pairs."""

    __slots__ = ("at", "items")

    def __init__(self, items: list[str]) -> None:
        self.items = items
        self.at = 0

    def take(self, count: int) -> list[str]:
        at = self.at
        self.at = at + count
        return self.items[at : at + count]

    def pairs(self, count: int) -> Mapping[str, str]:
        if not count:
            return _EMPTY
        at, items = self.at, self.items
        end = at + 2 * count
        self.at = end
        return dict(zip(items[at:end:2], items[at + 1 : end : 2], strict=True))


def decode_batch(payload: bytes) -> SpanBatch:
    """The batch encoded in ``payload``; ``ParseError`` when it is not a valid record."""
    if len(payload) < _HEAD.size:
        if payload[:1] == b"\x02":
            return _decode_columns(payload)
        raise ParseError("WAL record truncated in its header")
    if payload[0] == 2:
        return _decode_columns(payload)
    version, n, n_res, n_events, n_links, n_strings = _HEAD.unpack_from(payload)
    if version != VERSION:
        raise ParseError(f"unknown spans WAL record version {version}")
    reader = RecordColumns(payload, _HEAD.size)

    def column(dtype: str, count: int) -> list[int]:
        values: list[int] = reader.column(dtype, count).tolist()
        return values

    start = column("<i8", n)
    duration = column("<i8", n)
    kind = column("<u1", n)
    status = column("<u1", n)
    resource_idx = column("<u4", n)
    n_attrs = column("<u4", n)
    span_events = column("<u4", n)
    span_links = column("<u4", n)
    res_pairs = column("<u4", n_res)
    event_ts = column("<i8", n_events)
    event_attrs = column("<u4", n_events)
    link_attrs = column("<u4", n_links)
    lengths = column("<u4", n_strings)
    ends = list(accumulate(lengths, initial=reader.pos))
    if ends[-1] != len(payload):
        raise ParseError(
            f"WAL record has {len(payload) - ends[-1]} bytes more or less than its strings"
        )
    if sum(span_events) != n_events or sum(span_links) != n_links:
        raise ParseError("WAL record's event or link counts do not add up")
    need = (
        2 * sum(res_pairs)
        + _FIXED * n
        + 2 * sum(n_attrs)
        + n_events
        + 2 * sum(event_attrs)
        + 3 * n_links
        + 2 * sum(link_attrs)
    )
    if need != n_strings:
        raise ParseError(f"WAL record holds {n_strings} strings, its counts need {need}")
    try:
        strings = [payload[a:b].decode("utf-8", "surrogatepass") for a, b in pairwise(ends)]
    except UnicodeDecodeError as exc:
        raise ParseError("WAL record has invalid UTF-8") from exc
    rest = _Strings(strings)
    pairs = rest.pairs
    resources = [pairs(c) for c in res_pairs]
    out: list[Span] = []
    ei = li = 0
    for i in range(n):
        if resource_idx[i] >= n_res or kind[i] >= len(SPAN_KINDS) or status[i] >= len(STATUS_CODES):
            raise ParseError(f"WAL record's span {i} refers to a value it does not hold")
        trace, span, parent, name, service, message, state, scope, scope_v = rest.take(_FIXED)
        attributes = pairs(n_attrs[i])
        events = []
        for _ in range(span_events[i]):
            (ev_name,) = rest.take(1)
            events.append(SpanEvent(event_ts[ei], ev_name, pairs(event_attrs[ei])))
            ei += 1
        links = []
        for _ in range(span_links[i]):
            lt, ls, lstate = rest.take(3)
            links.append(SpanLink(lt, ls, lstate, pairs(link_attrs[li])))
            li += 1
        out.append(
            Span(
                trace_id=trace,
                span_id=span,
                name=name,
                start_ns=start[i],
                duration_ns=duration[i],
                service_name=service,
                parent_span_id=parent,
                kind=SPAN_KINDS[kind[i]],
                status_code=STATUS_CODES[status[i]],
                status_message=message,
                trace_state=state,
                attributes=attributes,
                resource=resources[resource_idx[i]],
                scope_name=scope,
                scope_version=scope_v,
                events=tuple(events),
                links=tuple(links),
            )
        )
    return SpanBatch(tuple(out))


class SpansCodec(StandaloneRecords[SpanBatch]):
    """The WAL's ``RecordCodec`` for ``SpanBatch``: every record stands alone."""

    def __init__(self) -> None:
        super().__init__(encode_batch, decode_batch)


__all__ = ["VERSION", "SpansCodec", "decode_batch", "encode_batch"]
