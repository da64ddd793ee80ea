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
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from itertools import accumulate, pairwise
from types import MappingProxyType

import numpy as np

from spyglass.core.errors import ParseError
from spyglass.core.spans import SPAN_KINDS, STATUS_CODES, Span, SpanBatch, SpanEvent, SpanLink
from spyglass.storage._interning import by_identity
from spyglass.storage.wal import StandaloneRecords

VERSION = 1
_HEAD = struct.Struct("<BIIIII")
_FIXED = 9  # strings every span has
_KIND = {k: i for i, k in enumerate(SPAN_KINDS)}
_STATUS = {c: i for i, c in enumerate(STATUS_CODES)}
_EMPTY: Mapping[str, str] = MappingProxyType({})


def encode_batch(batch: SpanBatch) -> bytes:
    """The record payload for ``batch``."""
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


def decode_batch(payload: bytes) -> SpanBatch:
    """The batch encoded in ``payload``; ``ParseError`` when it is not a valid record."""
    if len(payload) < _HEAD.size:
        raise ParseError("WAL record truncated in its header")
    version, n, n_res, n_events, n_links, n_strings = _HEAD.unpack_from(payload)
    if version != VERSION:
        raise ParseError(f"unknown spans WAL record version {version}")
    pos = _HEAD.size

    def column(dtype: str, count: int) -> list[int]:
        nonlocal pos
        size = np.dtype(dtype).itemsize * count
        if pos + size > len(payload):
            raise ParseError(f"WAL record truncated at byte {pos} (needs {size} more)")
        out = np.frombuffer(payload, dtype, count, pos)
        pos += size
        values: list[int] = out.tolist()
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
    ends = list(accumulate(lengths, initial=pos))
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
    k = 0

    def pairs(count: int) -> Mapping[str, str]:
        nonlocal k
        if not count:
            return _EMPTY
        m = 2 * count
        out = dict(zip(strings[k : k + m : 2], strings[k + 1 : k + m : 2], strict=True))
        k += m
        return out

    resources = [pairs(c) for c in res_pairs]
    out: list[Span] = []
    ei = li = 0
    for i in range(n):
        if resource_idx[i] >= n_res or kind[i] >= len(SPAN_KINDS) or status[i] >= len(STATUS_CODES):
            raise ParseError(f"WAL record's span {i} refers to a value it does not hold")
        trace, span, parent, name, service, message, state, scope, scope_v = strings[k : k + 9]
        k += _FIXED
        attributes = pairs(n_attrs[i])
        events = []
        for _ in range(span_events[i]):
            ev_name = strings[k]
            k += 1
            events.append(SpanEvent(event_ts[ei], ev_name, pairs(event_attrs[ei])))
            ei += 1
        links = []
        for _ in range(span_links[i]):
            lt, ls, lstate = strings[k : k + 3]
            k += 3
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
