"""A columnar reading of OTLP's protobuf ``ExportTraceServiceRequest``: ``SpanColumns`` without
a Python object per span or per attribute.

Reading spans through upb costs a wrapper object per span, per attribute, per ``AnyValue`` and
per id, and a ``Span`` and a dict per span on top: most of a trace export's CPU. This module
reads the wire format itself, one level of messages at a time (requests, resource spans, scope
spans, spans, key-values, any-values, statuses): every message of a level advances through its
fields in lockstep, one numpy step per field position, so the Python work is per level and per
field position, not per span. Strings and ids are then cut out of the body with one numpy take
per column, ids turned to hex in one ``bytes.hex``.

What is left to upb, per object, is rare or small: each resource and scope (a few per request),
span events and links, and attribute values that are not a string, an int, a bool or a double
(arrays, maps, bytes, an empty or twice-set value). Anything this module does not read exactly
as upb would (a singular message field written twice, which protobuf merges; a known field
with an unexpected wire type; a malformed length or varint; a string that is not UTF-8; two
attributes of one span with the same key, which a ``dict`` keeps once; a message with more than
``_MAX_FIELDS`` fields at one level) makes ``scan`` return ``None``, and the caller reads the
request with upb as before, which also reports the errors. What ``scan`` accepts, upb reads to
the same spans; a property test compares the two.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
from google.protobuf.message import DecodeError
from numpy.lib.stride_tricks import sliding_window_view
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, InstrumentationScope
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import Span as PbSpan

from spyglass.core.logs import valid_lines
from spyglass.core.spans import (
    MAX_TIME_NS,
    SPAN_KINDS,
    STATUS_CODES,
    SpanColumns,
    SpanEvent,
    SpanLink,
    Texts,
    gather,
)
from spyglass.ingest._protowire import MAX_VARINT, varint, varints
from spyglass.ingest.otlp._convert import any_value_text

_VARINT, _FIXED64, _LEN, _FIXED32 = 0, 1, 2, 5
_PAD = 16  # zero bytes after the body, so fixed-width reads near its end stay inside
# Past this many fields in one message of a level (a span with hundreds of attributes), the
# lockstep walk would take a numpy step per field for that one message: upb reads it instead.
_MAX_FIELDS = 128
_TAG_WIDTH = 5  # field numbers up to 2**29
_MAX_FIELD_NUMBER = 2**29
_KNOWN_BELOW = 32  # every field number read here is below this
_WIRE_OK = np.array([True, True, True, False, False, True, False, False])  # no groups
_FIXED_SIZE = np.array([0, 8, 0, 0, 0, 4, 0, 0], np.int64)  # payload size by wire type
_ONE_BYTE_SIZE = np.array([1, 8, 0, 0, 0, 4, 0, 0], np.int64)  # ... with one-byte varints

# The fields read at each level, with their wire types; other field numbers are skipped, as
# upb keeps them as unknown fields nobody reads.
_REQUEST = {1: _LEN}
_RESOURCE_SPANS = {1: _LEN, 2: _LEN, 3: _LEN}
_SCOPE_SPANS = {1: _LEN, 2: _LEN, 3: _LEN}
_SPAN = {
    1: _LEN,  # trace_id
    2: _LEN,  # span_id
    3: _LEN,  # trace_state
    4: _LEN,  # parent_span_id
    5: _LEN,  # name
    6: _VARINT,  # kind
    7: _FIXED64,  # start_time_unix_nano
    8: _FIXED64,  # end_time_unix_nano
    9: _LEN,  # attributes
    10: _VARINT,  # dropped_attributes_count
    11: _LEN,  # events
    12: _VARINT,  # dropped_events_count
    13: _LEN,  # links
    14: _VARINT,  # dropped_links_count
    15: _LEN,  # status
    16: _FIXED32,  # flags
}
_KEY_VALUE = {1: _LEN, 2: _LEN}
_ANY_VALUE = {1: _LEN, 2: _VARINT, 3: _VARINT, 4: _FIXED64, 5: _LEN, 6: _LEN, 7: _LEN}
_STATUS = {2: _LEN, 3: _VARINT}
# Singular message fields: protobuf merges one written twice, which this module does not do.
_SPAN_SINGULAR = (1, 2, 3, 4, 5, 6, 7, 8, 15)


class _NotOurs(Exception):
    """The request is not in the shape ``scan`` reads exactly: upb reads it instead."""


@dataclass(frozen=True, slots=True)
class ScannedSpans:
    """The valid spans of a request as columns, and how many were left out (first reason)."""

    columns: SpanColumns
    rejected: int
    error_message: str


@dataclass(slots=True)
class _Fields:
    """Every field of a level's messages, ordered by message then by position in it."""

    msg: npt.NDArray[np.int64]  # the message (index into the level) the field is in
    number: npt.NDArray[np.int64]
    start: npt.NDArray[np.int64]  # where the payload begins (after a length prefix)
    size: npt.NDArray[np.int64]  # payload bytes
    value: npt.NDArray[np.uint64]  # a varint's value (0 for other wire types)

    def of(self, number: int) -> _Fields:
        """The fields numbered ``number``, in order."""
        keep = self.number == number
        return _Fields(
            self.msg[keep], self.number[keep], self.start[keep], self.size[keep], self.value[keep]
        )

    def by_number(self) -> dict[int, _Fields]:
        """``of`` for every number at once (one sort rather than a pass per number)."""
        if not len(self.number):
            return {}
        order = np.argsort(self.number, kind="stable")
        numbers = self.number[order]
        cuts = np.flatnonzero(np.r_[True, numbers[1:] != numbers[:-1], True])
        out: dict[int, _Fields] = {}
        for a, b in pairwise(cuts.tolist()):
            rows = order[a:b]
            out[int(numbers[a])] = _Fields(
                self.msg[rows], numbers[a:b], self.start[rows], self.size[rows], self.value[rows]
            )
        return out

    def once(self, n_messages: int) -> npt.NDArray[np.bool_]:
        """Which messages have this field; ``_NotOurs`` if one has it twice."""
        if len(self.msg) > 1 and np.any(self.msg[1:] == self.msg[:-1]):
            raise _NotOurs
        has = np.zeros(n_messages, np.bool_)
        has[self.msg] = True
        return has


def scan(raw: bytes) -> ScannedSpans | None:
    """The spans of the protobuf ``ExportTraceServiceRequest`` ``raw``, or ``None`` when it is
    not in the shape this module reads (module docstring)."""
    try:
        return _scan(raw)
    except _NotOurs:
        return None


def _scan(raw: bytes) -> ScannedSpans:
    buf = np.frombuffer(raw + bytes(_PAD), np.uint8)
    size = len(raw)
    top = _walk(raw, [(0, size)], _REQUEST)
    rs = top.of(1)
    rs_fields = _walk(raw, _extents(rs), _RESOURCE_SPANS)
    n_rs = len(rs.start)
    resources = _resources(raw, rs_fields.of(1), n_rs)
    services = tuple(r.get("service.name", "") for r in resources)
    ss = rs_fields.of(2)
    ss_fields = _walk(raw, _extents(ss), _SCOPE_SPANS)
    n_ss = len(ss.start)
    scopes = _scopes(raw, ss_fields.of(1), n_ss)
    sp = ss_fields.of(2)
    n = len(sp.start)
    by = _fields(buf, sp.start, sp.start + sp.size, _SPAN).by_number()
    for number in _SPAN_SINGULAR:
        _get(by, number).once(n)
    strings_checked = [rs_fields.of(3), ss_fields.of(3)]  # schema URLs: upb checks their UTF-8

    trace = _column(_get(by, 1), n)
    span = _column(_get(by, 2), n)
    trace_bytes = gather(buf, *trace)
    span_bytes = gather(buf, *span)
    bad_trace = (trace[1] != 16) | _all_zero(trace_bytes)
    bad_span = (span[1] != 8) | _all_zero(span_bytes)
    valid = ~(bad_trace | bad_span)
    rejected = int(n - np.count_nonzero(valid))
    message = ""
    name = _column(_get(by, 5), n)
    if rejected:
        first = int(np.flatnonzero(~valid)[0])
        first_name = raw[name[0][first] : name[0][first] + name[1][first]].decode(
            "utf-8", "replace"
        )
        what = "trace" if bad_trace[first] else "span"
        message = f"span {first_name!r} has an invalid {what} id"
    keep = np.flatnonzero(valid)
    every = not rejected  # then a column of every span is the column of those kept

    kind = _enum(_get(by, 6), n, len(SPAN_KINDS))
    start = _fixed64(buf, _get(by, 7), n)
    end = _fixed64(buf, _get(by, 8), n)
    late = (start > MAX_TIME_NS) | (end > MAX_TIME_NS)  # unsigned on the wire
    start_ns = np.where(late, np.minimum(start, MAX_TIME_NS), start).astype(np.int64)
    end_ns = np.where(late, np.minimum(end, MAX_TIME_NS), end).astype(np.int64)
    duration = np.maximum(end_ns - start_ns, 0)

    status_at = _get(by, 15)
    status_at.once(n)
    st = _fields(buf, status_at.start, status_at.start + status_at.size, _STATUS)
    n_st = len(status_at.msg)
    status_code = np.zeros(n, np.uint8)
    status_code[status_at.msg] = _enum(st.of(3), n_st, len(STATUS_CODES))
    st_msg = st.of(2)
    st_msg.once(n_st)
    message_at = np.full(n, -1, np.int64)
    message_at[status_at.msg[st_msg.msg]] = np.arange(len(st_msg.msg))
    message_start = np.zeros(n, np.int64)
    message_size = np.zeros(n, np.int64)
    has_message = message_at >= 0
    message_start[has_message] = st_msg.start[message_at[has_message]]
    message_size[has_message] = st_msg.size[message_at[has_message]]

    # Which resource and scope each span belongs to.
    scope_of_span = sp.msg
    resource_of_scope = ss.msg

    attr = _get(by, 9)
    keys, values = _attributes(raw, buf, attr, strings_checked)
    attr_span = attr.msg
    kept_attr = valid[attr_span]
    attr_span_kept = attr_span[kept_attr]
    counts = np.bincount(np.searchsorted(keep, attr_span_kept), minlength=len(keep))
    attr_offsets = np.zeros(len(keep) + 1, np.int64)
    np.cumsum(counts, out=attr_offsets[1:])
    kept_attr_index = np.flatnonzero(kept_attr)
    attr_keys = keys.take(kept_attr_index)
    attr_values = values.take(kept_attr_index)
    _no_duplicate_keys(attr_keys, attr_span_kept)

    events, event_offsets = _nested(raw, _get(by, 11), keep, _event)
    links, link_offsets = _nested(raw, _get(by, 13), keep, _link)

    state = _column(_get(by, 3), n)
    # upb refuses a request with any string that is not UTF-8, in a left-out span too.
    for field in strings_checked:
        checked = gather(buf, field.start, field.size)
        if not valid_lines(checked.data, checked.offsets):
            raise _NotOurs
    texts: list[Texts] = []
    for column in (state, name, (message_start, message_size)):
        checked = gather(buf, *column)
        if not valid_lines(checked.data, checked.offsets):
            raise _NotOurs
        texts.append(checked if every else checked.take(keep))
    parent = gather(buf, *_column(_get(by, 4), n))
    ids = [_hex(t) if every else _hex(t).take(keep) for t in (trace_bytes, span_bytes, parent)]
    columns = SpanColumns(
        trace_id=ids[0],
        span_id=ids[1],
        parent_span_id=ids[2],
        trace_state=texts[0],
        name=texts[1],
        status_message=texts[2],
        start_ns=start_ns[keep],
        duration_ns=duration[keep],
        kind=kind[keep],
        status=status_code[keep],
        resources=resources,
        services=services,
        resource_index=resource_of_scope[scope_of_span[keep]],
        scopes=scopes,
        scope_index=scope_of_span[keep],
        attr_offsets=attr_offsets,
        attr_keys=attr_keys,
        attr_values=attr_values,
        event_offsets=event_offsets,
        events=events,
        link_offsets=link_offsets,
        links=links,
    )
    return ScannedSpans(columns, rejected, message)


_EMPTY = np.zeros(0, np.int64)
_NONE = _Fields(_EMPTY, _EMPTY, _EMPTY, _EMPTY, np.zeros(0, np.uint64))


def _get(by: dict[int, _Fields], number: int) -> _Fields:
    return by.get(number, _NONE)


def _extents(field: _Fields) -> list[tuple[int, int]]:
    return list(zip(field.start.tolist(), (field.start + field.size).tolist(), strict=True))


def _walk(raw: bytes, extents: list[tuple[int, int]], known: Mapping[int, int]) -> _Fields:
    """``_fields`` for the few outer messages (a request, its resource and scope spans), one
    field at a time: a scope's spans are hundreds of fields of one message."""
    rows: list[int] = []  # per field: message, number, start, size, value
    padded = raw + bytes(_PAD)
    for i, (begin, end) in enumerate(extents):
        pos = begin
        while pos < end:
            tag = padded[pos]
            if tag < 0x80:
                pos += 1
            else:
                tag, pos = varint(raw, pos)
            number, wire = tag >> 3, tag & 7
            if tag < 0 or not 0 < number < _MAX_FIELD_NUMBER or known.get(number, wire) != wire:
                raise _NotOurs
            value = 0
            if wire == _LEN:
                # One- and two-byte lengths inline: a scope's spans are hundreds of them.
                size = padded[pos]
                if size < 0x80:
                    pos += 1
                elif padded[pos + 1] < 0x80:
                    size = (size & 0x7F) | (padded[pos + 1] << 7)
                    pos += 2
                else:
                    size, pos = varint(raw, pos)
                    if size < 0:
                        raise _NotOurs
            elif wire == _VARINT:
                value, after = varint(raw, pos)
                if value < 0:
                    raise _NotOurs
                size = after - pos
            elif wire == _FIXED64:
                size = 8
            elif wire == _FIXED32:
                size = 4
            else:
                raise _NotOurs
            if pos + size > end:
                raise _NotOurs
            rows += (i, number, pos, size, value)
            pos += size
    if any(v >= 2**63 for v in rows[4::5]):
        raise _NotOurs  # no varint this module reads at these levels is that large
    table = np.array(rows, np.int64).reshape(-1, 5)
    return _Fields(
        table[:, 0].copy(),
        table[:, 1].copy(),
        table[:, 2].copy(),
        table[:, 3].copy(),
        table[:, 4].astype(np.uint64),
    )


def _fields(
    buf: npt.NDArray[np.uint8],
    starts: npt.NDArray[np.int64],
    ends: npt.NDArray[np.int64],
    known: Mapping[int, int],
) -> _Fields:
    """Every field of the messages ``buf[starts[i]:ends[i]]``; ``_NotOurs`` when one is
    malformed, a known field has another wire type, or a message has too many fields."""
    pos = starts.copy()
    msgs: list[npt.NDArray[np.int64]] = []
    numbers: list[npt.NDArray[np.int64]] = []
    payload: list[npt.NDArray[np.int64]] = []
    sizes: list[npt.NDArray[np.int64]] = []
    values: list[npt.NDArray[np.uint64]] = []
    # The wire type each field number must have (-1: any, the field is skipped).
    expect = np.full(_KNOWN_BELOW + 1, -1, np.int64)
    for num, wt in known.items():
        expect[num] = wt
    active = np.flatnonzero(pos < ends)
    steps = 0
    while len(active):
        steps += 1
        if steps > _MAX_FIELDS:
            raise _NotOurs
        at = pos[active]
        tags = buf[at]
        second = buf[at + 1]
        wire = tags & 7
        # The usual step: one-byte tags, and one-byte lengths and varints (wire types 0 and 2,
        # ``wire & 5 == 0``), read with a handful of numpy operations.
        if not np.any((tags >= 0x80) | ((second >= 0x80) & ((wire & 5) == 0))):
            number = (tags >> 3).astype(np.int64)
            wire = wire.astype(np.int64)
            if np.any(((expect[number] >= 0) & (expect[number] != wire)) | ~_WIRE_OK[wire]):
                raise _NotOurs
            if np.any(number == 0):
                raise _NotOurs
            is_len = wire == _LEN
            start = at + 1 + is_len
            size = np.where(is_len, second, _ONE_BYTE_SIZE[wire])
            value = second.astype(np.uint64)
        else:
            number, start, size, value = _step(buf, at, expect)
        after = start + size
        end = ends[active]
        if np.any(after > end):
            raise _NotOurs
        pos[active] = after
        msgs.append(active)
        numbers.append(number)
        payload.append(start)
        sizes.append(size)
        values.append(value)
        active = active[after < end]
    if not msgs:
        empty = np.zeros(0, np.int64)
        return _Fields(empty, empty, empty, empty, np.zeros(0, np.uint64))
    msg = np.concatenate(msgs)
    # Collected step by step; a stable sort by message keeps each message's fields in order.
    order = np.argsort(msg, kind="stable")
    return _Fields(
        msg[order],
        np.concatenate(numbers)[order],
        np.concatenate(payload)[order],
        np.concatenate(sizes)[order],
        np.concatenate(values)[order],
    )


def _step(
    buf: npt.NDArray[np.uint8], at: npt.NDArray[np.int64], expect: npt.NDArray[np.int64]
) -> tuple[
    npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.uint64]
]:
    """One lockstep step of ``_fields`` in general: each field's number, payload start and
    size, and varint value."""
    tags = buf[at].astype(np.int64)
    q = at + 1
    if np.any(tags >= 0x80):
        t, ts = _small_varints(buf, at, _TAG_WIDTH)
        if np.any(t >= np.uint64(_MAX_FIELD_NUMBER << 3)):
            raise _NotOurs
        tags = t.astype(np.int64)
        q = at + ts
    number = tags >> 3
    wire = tags & 7
    expected = expect[np.minimum(number, _KNOWN_BELOW)]
    if np.any(((expected >= 0) & (expected != wire)) | ~_WIRE_OK[wire] | (number == 0)):
        raise _NotOurs
    start = q
    size = _FIXED_SIZE[wire]
    value = np.zeros(len(at), np.uint64)
    is_var = wire == _VARINT
    is_len = wire == _LEN
    if is_var.any():
        v, vs = _small_varints(buf, q[is_var], MAX_VARINT)
        value[is_var] = v
        size[is_var] = vs
    if is_len.any():
        v, vs = _small_varints(buf, q[is_len], MAX_VARINT)
        if np.any(v > np.uint64(len(buf))):
            raise _NotOurs
        start = q.copy()
        start[is_len] = q[is_len] + vs
        size[is_len] = v.astype(np.int64)
    return number, start, size, value


def _small_varints(
    buf: npt.NDArray[np.uint8], at: npt.NDArray[np.int64], width: int
) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.int64]]:
    """``varints``, for the usual case where most are one byte (tags, short lengths)."""
    first = buf[at]
    long = first >= 0x80
    values = first.astype(np.uint64)
    sizes = np.ones(len(at), np.int64)
    if long.any():
        v, vs = _varints(buf, at[long], width)
        values[long] = v
        sizes[long] = vs
    return values, sizes


def _varints(
    buf: npt.NDArray[np.uint8], at: npt.NDArray[np.int64], width: int
) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.int64]]:
    got = varints(buf, at, width)
    if got is None:
        raise _NotOurs
    return got


def _column(field: _Fields, n: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Each message's (start, size) of a singular bytes or string field; empty when absent."""
    field.once(n)
    start = np.zeros(n, np.int64)
    size = np.zeros(n, np.int64)
    start[field.msg] = field.start
    size[field.msg] = field.size
    return start, size


def _offsets(sizes: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    offsets = np.zeros(len(sizes) + 1, np.int64)
    np.cumsum(sizes, out=offsets[1:])
    return offsets


def _hex(raw: Texts) -> Texts:
    """Ids (their bytes gathered) in lower-case hex, with one ``bytes.hex``."""
    return Texts(raw.data.hex().encode("ascii"), raw.offsets * 2)


def _all_zero(ids: Texts) -> npt.NDArray[np.bool_]:
    """Which ids are all zero bytes (an empty one counts: it is invalid anyway)."""
    nonzero = np.zeros(len(ids.data) + 1, np.int64)
    np.cumsum(np.frombuffer(ids.data, np.uint8) != 0, out=nonzero[1:])
    same: npt.NDArray[np.bool_] = nonzero[ids.offsets[1:]] == nonzero[ids.offsets[:-1]]
    return same


def _enum(field: _Fields, n: int, count: int) -> npt.NDArray[np.uint8]:
    """An enum field per message as an index into its ``count`` names (0 when absent or out of
    range, as the object path maps it). Enums are int32: upb keeps a varint's low 32 bits."""
    field.once(n)
    low = (field.value & np.uint64(0xFFFFFFFF)).astype(np.int64)
    signed = np.where(low >= 2**31, low - 2**32, low)
    out = np.zeros(n, np.uint8)
    out[field.msg] = np.where((signed >= 0) & (signed < count), signed, 0).astype(np.uint8)
    return out


def _fixed64(buf: npt.NDArray[np.uint8], field: _Fields, n: int) -> npt.NDArray[np.uint64]:
    field.once(n)
    out = np.zeros(n, np.uint64)
    if len(field.start):
        window = sliding_window_view(buf, 8)[field.start]
        out[field.msg] = np.ascontiguousarray(window).view("<u8")[:, 0]
    return out


def _rows(field: _Fields) -> zip[tuple[int, int, int]]:
    """Each field's message, payload start and size, as ints."""
    return zip(field.msg.tolist(), field.start.tolist(), field.size.tolist(), strict=True)


def _resources(raw: bytes, field: _Fields, n: int) -> tuple[Mapping[str, str], ...]:
    """Each resource spans' resource attributes, read with upb (a few per request)."""
    field.once(n)
    out: list[Mapping[str, str]] = [{} for _ in range(n)]
    for i, a, size in _rows(field):
        try:
            resource = Resource.FromString(raw[a : a + size])
        except DecodeError:
            raise _NotOurs from None
        out[i] = _attribute_dict(resource.attributes)
    return tuple(out)


def _scopes(raw: bytes, field: _Fields, n: int) -> tuple[tuple[str, str], ...]:
    field.once(n)
    out = [("", "")] * n
    for i, a, size in _rows(field):
        try:
            scope = InstrumentationScope.FromString(raw[a : a + size])
        except DecodeError:
            raise _NotOurs from None
        out[i] = (scope.name, scope.version)
    return tuple(out)


def _attribute_dict(attributes: Any) -> dict[str, str]:
    # As the object path's ``_attributes``: a non-empty ``string_value`` needs no ``WhichOneof``.
    return {
        kv.key: value.string_value or any_value_text(value)
        for kv in attributes
        for value in (kv.value,)
    }


def _attributes(
    raw: bytes, buf: npt.NDArray[np.uint8], attr: _Fields, strings_checked: list[_Fields]
) -> tuple[Texts, Texts]:
    """Every span attribute's key and value text (pdata's ``AsString``), in order."""
    m = len(attr.start)
    kv = _fields(buf, attr.start, attr.start + attr.size, _KEY_VALUE)
    key_start, key_size = _column(kv.of(1), m)
    strings_checked.append(_Fields(kv.msg, kv.number, key_start, key_size, kv.value))
    value_at = kv.of(2)
    value_at.once(m)
    av = _fields(buf, value_at.start, value_at.start + value_at.size, _ANY_VALUE)
    n_av = len(value_at.start)
    per_value = np.bincount(av.msg, minlength=n_av)
    # A value with exactly one field of a scalar kind is read here; any other (none, several,
    # bytes, an array, a map) is read by upb. The first field of a one-field value is its field.
    first = np.zeros(n_av, np.int64)
    if len(av.msg):
        starts_of = np.flatnonzero(np.r_[True, av.msg[1:] != av.msg[:-1]])
        first[av.msg[starts_of]] = starts_of
    single = per_value == 1
    kind = np.zeros(n_av, np.int64)
    kind[single] = av.number[first[single]]
    # Where each value's text is: (start, size) into the body, or into ``extra`` past it.
    v_start = np.zeros(m, np.int64)
    v_size = np.zeros(m, np.int64)
    kv_of_value = value_at.msg
    is_string = kind == 1
    v_start[kv_of_value[is_string]] = av.start[first[is_string]]
    v_size[kv_of_value[is_string]] = av.size[first[is_string]]
    strings_checked.append(
        _Fields(
            kv_of_value[is_string],
            av.number[first[is_string]],
            av.start[first[is_string]],
            av.size[first[is_string]],
            av.value[first[is_string]],
        )
    )
    extra: list[str] = []
    extra_at: list[int] = []  # the key-value each extra text belongs to
    is_bool = kind == 2
    bools = av.value[first[is_bool]].tolist()
    for i, v in zip(kv_of_value[is_bool].tolist(), bools, strict=True):
        extra_at.append(i)
        extra.append("true" if v else "false")
    is_int = kind == 3
    ints = av.value[first[is_int]].view(np.int64).tolist()
    for i, v in zip(kv_of_value[is_int].tolist(), ints, strict=True):
        extra_at.append(i)
        extra.append(str(v))
    is_double = kind == 4
    if is_double.any():
        doubles = _fixed64(buf, _with_msg(av, first[is_double]), int(is_double.sum()))
        floats = doubles.view(np.float64).tolist()
        for i, v in zip(kv_of_value[is_double].tolist(), floats, strict=True):
            extra_at.append(i)
            extra.append(_number_text(v))
    slow = ~(is_string | is_bool | is_int | is_double) & (per_value > 0)
    for i, a, size in zip(
        kv_of_value[slow].tolist(),
        value_at.start[slow].tolist(),
        value_at.size[slow].tolist(),
        strict=True,
    ):
        try:
            value = AnyValue.FromString(raw[a : a + size])
        except DecodeError:
            raise _NotOurs from None
        extra_at.append(i)
        extra.append(any_value_text(value))
    keys = gather(buf, key_start, key_size)
    if not extra:
        return keys, gather(buf, v_start, v_size)
    joined = "".join(extra)
    data = joined.encode("utf-8", "surrogatepass")
    if len(data) == len(joined):  # ASCII (numbers, booleans, most else): one encode
        lengths = np.fromiter(map(len, extra), np.int64, len(extra))
    else:
        encoded = [t.encode("utf-8", "surrogatepass") for t in extra]
        lengths = np.fromiter(map(len, encoded), np.int64, len(encoded))
    where = np.array(extra_at, np.int64)
    v_start[where] = len(raw) + _offsets(lengths)[:-1]
    v_size[where] = lengths
    source = np.frombuffer(raw + data, np.uint8)
    return keys, gather(source, v_start, v_size)


def _with_msg(av: _Fields, rows: npt.NDArray[np.int64]) -> _Fields:
    # The chosen fields, each as its own message 0..k-1 (for ``_fixed64``).
    return _Fields(
        np.arange(len(rows), dtype=np.int64),
        av.number[rows],
        av.start[rows],
        av.size[rows],
        av.value[rows],
    )


def _number_text(v: float) -> str:
    # ``any_value_text`` for a double (pdata's number text), from the double itself.
    value = AnyValue()
    value.double_value = v
    return any_value_text(value)


def _no_duplicate_keys(keys: Texts, span_of: npt.NDArray[np.int64]) -> None:
    """``_NotOurs`` when a span has one key twice (a dict keeps the first place, last value)."""
    if len(keys) < 2:
        return
    # Arrow numbers the distinct keys without a ``str`` each; a (span, key number) pair seen
    # twice is a duplicate.
    array = pa.StringArray.from_buffers(
        len(keys), pa.py_buffer(keys.offsets.astype(np.int32)), pa.py_buffer(keys.data)
    )
    codes = array.dictionary_encode().indices.to_numpy().astype(np.int64)
    pairs = np.sort(span_of * (int(codes.max()) + 1) + codes)
    if np.any(pairs[1:] == pairs[:-1]):
        raise _NotOurs


def _nested(
    raw: bytes, field: _Fields, keep: npt.NDArray[np.int64], read: Any
) -> tuple[tuple[Any, ...], npt.NDArray[np.int64]]:
    """Events or links of the kept spans (read with upb: few spans have any), flat, and each
    kept span's offsets into them."""
    offsets = np.zeros(len(keep) + 1, np.int64)
    if not len(field.msg):
        return (), offsets
    # Those of left-out spans are read too: upb would refuse the request for a malformed one.
    read_all = [
        read(raw[a : a + size])
        for a, size in zip(field.start.tolist(), field.size.tolist(), strict=True)
    ]
    kept = np.isin(field.msg, keep)
    span_pos = np.searchsorted(keep, field.msg[kept])
    np.cumsum(np.bincount(span_pos, minlength=len(keep)), out=offsets[1:])
    return tuple(read_all[i] for i in np.flatnonzero(kept).tolist()), offsets


def _event(data: bytes) -> SpanEvent:
    try:
        e = PbSpan.Event.FromString(data)
    except DecodeError:
        raise _NotOurs from None
    return SpanEvent(min(e.time_unix_nano, MAX_TIME_NS), e.name, _attribute_dict(e.attributes))


def _link(data: bytes) -> SpanLink:
    try:
        lk = PbSpan.Link.FromString(data)
    except DecodeError:
        raise _NotOurs from None
    return SpanLink(
        lk.trace_id.hex(), lk.span_id.hex(), lk.trace_state, _attribute_dict(lk.attributes)
    )


__all__ = ["ScannedSpans", "scan"]
