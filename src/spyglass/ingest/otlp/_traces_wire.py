"""A columnar reading of OTLP's protobuf ``ExportTraceServiceRequest``: ``SpanColumns`` without
a Python object per span or per attribute.

Reading spans through upb costs a wrapper object per span, per attribute, per ``AnyValue`` and
per id, and a ``Span`` and a dict per span on top: most of a trace export's CPU. This module
reads the wire format itself, one level of messages at a time (requests, resource spans, scope
spans, spans, key-values, any-values, statuses) with ``ingest._protowire``'s lockstep walk, so
the Python work is per level and per field position, not per span. Strings and ids are then
cut out of the body with one numpy take per column, ids turned to hex in one ``bytes.hex``.

What is left to upb, per object, is rare or small: each resource and scope (a few per request),
span events and links, and attribute values that are not a string, an int, a bool or a double
(arrays, maps, bytes, an empty or twice-set value). Anything this module does not read exactly
as upb would (a singular message field written twice, which protobuf merges; a known field
with an unexpected wire type; a malformed length or varint; a string that is not UTF-8; two
attributes of one span with the same key, which a ``dict`` keeps once) makes ``scan`` return
``None``, and the caller reads the
request with upb as before, which also reports the errors. What ``scan`` accepts, upb reads to
the same spans; a property test compares the two.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
from google.protobuf.message import DecodeError
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
from spyglass.ingest._protowire import (
    FIXED32,
    FIXED64,
    LEN,
    VARINT,
    Fields,
    NotOurs,
    column,
    enum,
    extents,
    fields,
    fixed64,
    get,
    messages,
    parse,
    scan_body,
    walk,
)
from spyglass.ingest.otlp._labels import any_value_text

# The fields read at each level, with their wire types; other field numbers are skipped, as
# upb keeps them as unknown fields nobody reads.
_REQUEST = {1: LEN}
_RESOURCE_SPANS = {1: LEN, 2: LEN, 3: LEN}
_SCOPE_SPANS = {1: LEN, 2: LEN, 3: LEN}
_SPAN = {
    1: LEN,  # trace_id
    2: LEN,  # span_id
    3: LEN,  # trace_state
    4: LEN,  # parent_span_id
    5: LEN,  # name
    6: VARINT,  # kind
    7: FIXED64,  # start_time_unix_nano
    8: FIXED64,  # end_time_unix_nano
    9: LEN,  # attributes
    10: VARINT,  # dropped_attributes_count
    11: LEN,  # events
    12: VARINT,  # dropped_events_count
    13: LEN,  # links
    14: VARINT,  # dropped_links_count
    15: LEN,  # status
    16: FIXED32,  # flags
}
_KEY_VALUE = {1: LEN, 2: LEN}
_ANY_VALUE = {1: LEN, 2: VARINT, 3: VARINT, 4: FIXED64, 5: LEN, 6: LEN, 7: LEN}
_STATUS = {2: LEN, 3: VARINT}
# Singular message fields: protobuf merges one written twice, which this module does not do.
_SPAN_SINGULAR = (1, 2, 3, 4, 5, 6, 7, 8, 15)


@dataclass(frozen=True, slots=True)
class ScannedSpans:
    """The valid spans of a request as columns, and how many were left out (first reason)."""

    columns: SpanColumns
    rejected: int
    error_message: str


def scan(raw: bytes) -> ScannedSpans | None:
    """The spans of the protobuf ``ExportTraceServiceRequest`` ``raw``, or ``None`` when it is
    not in the shape this module reads (module docstring)."""
    return scan_body(_scan, raw)


def _scan(raw: bytes, buf: npt.NDArray[np.uint8]) -> ScannedSpans:
    size = len(raw)
    top = walk(raw, [(0, size)], _REQUEST)
    rs = top.of(1)
    rs_fields = walk(raw, extents(rs), _RESOURCE_SPANS)
    n_rs = len(rs.start)
    resources = _resources(raw, rs_fields.of(1), n_rs)
    services = tuple(r.get("service.name", "") for r in resources)
    ss = rs_fields.of(2)
    ss_fields = walk(raw, extents(ss), _SCOPE_SPANS)
    n_ss = len(ss.start)
    scopes = _scopes(raw, ss_fields.of(1), n_ss)
    sp = ss_fields.of(2)
    n = len(sp.start)
    by = fields(raw, buf, sp.start, sp.start + sp.size, _SPAN).by_number()
    for number in _SPAN_SINGULAR:
        get(by, number).once(n)
    # Schema URLs, attribute keys and string values: upb checks their UTF-8.
    strings_checked = [(f.start, f.size) for f in (rs_fields.of(3), ss_fields.of(3))]

    trace = column(get(by, 1), n)
    span = column(get(by, 2), n)
    trace_bytes = gather(buf, *trace)
    span_bytes = gather(buf, *span)
    bad_trace = (trace[1] != 16) | _all_zero(trace_bytes)
    bad_span = (span[1] != 8) | _all_zero(span_bytes)
    valid = ~(bad_trace | bad_span)
    rejected = int(n - np.count_nonzero(valid))
    message = ""
    name = column(get(by, 5), n)
    if rejected:
        first = int(np.flatnonzero(~valid)[0])
        first_name = raw[name[0][first] : name[0][first] + name[1][first]].decode(
            "utf-8", "replace"
        )
        what = "trace" if bad_trace[first] else "span"
        message = f"span {first_name!r} has an invalid {what} id"
    keep = np.flatnonzero(valid)
    every = not rejected  # then a column of every span is the column of those kept

    kind = enum(get(by, 6), n, len(SPAN_KINDS))
    start = fixed64(buf, get(by, 7), n)
    end = fixed64(buf, get(by, 8), n)
    late = (start > MAX_TIME_NS) | (end > MAX_TIME_NS)  # unsigned on the wire
    start_ns = np.where(late, np.minimum(start, MAX_TIME_NS), start).astype(np.int64)
    end_ns = np.where(late, np.minimum(end, MAX_TIME_NS), end).astype(np.int64)
    duration = np.maximum(end_ns - start_ns, 0)

    status_at = get(by, 15)
    status_at.once(n)
    st = fields(raw, buf, status_at.start, status_at.start + status_at.size, _STATUS)
    n_st = len(status_at.msg)
    status_code = np.zeros(n, np.uint8)
    status_code[status_at.msg] = enum(st.of(3), n_st, len(STATUS_CODES))
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

    attr = get(by, 9)
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

    events, event_offsets = _nested(raw, get(by, 11), keep, _event)
    links, link_offsets = _nested(raw, get(by, 13), keep, _link)

    state = column(get(by, 3), n)
    # upb refuses a request with any string that is not UTF-8, in a left-out span too.
    for starts, sizes in strings_checked:
        checked = gather(buf, starts, sizes)
        if not valid_lines(checked.data, checked.offsets):
            raise NotOurs
    texts: list[Texts] = []
    for cut in (state, name, (message_start, message_size)):
        checked = gather(buf, *cut)
        if not valid_lines(checked.data, checked.offsets):
            raise NotOurs
        texts.append(checked if every else checked.take(keep))
    parent = gather(buf, *column(get(by, 4), n))
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


def _resources(raw: bytes, field: Fields, n: int) -> tuple[Mapping[str, str], ...]:
    """Each resource spans' resource attributes, read with upb (a few per request)."""
    found = messages(raw, field, n, Resource)
    return tuple({} if r is None else _attribute_dict(r.attributes) for r in found)


def _scopes(raw: bytes, field: Fields, n: int) -> tuple[tuple[str, str], ...]:
    found = messages(raw, field, n, InstrumentationScope)
    return tuple(("", "") if sc is None else (sc.name, sc.version) for sc in found)


def _attribute_dict(attributes: Any) -> dict[str, str]:
    # As the object path's ``_attributes``: a non-empty ``string_value`` needs no ``WhichOneof``.
    return {
        kv.key: value.string_value or any_value_text(value)
        for kv in attributes
        for value in (kv.value,)
    }


def _attributes(
    raw: bytes,
    buf: npt.NDArray[np.uint8],
    attr: Fields,
    strings_checked: list[tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]],
) -> tuple[Texts, Texts]:
    """Every span attribute's key and value text (pdata's ``AsString``), in order."""
    m = len(attr.start)
    kv = fields(raw, buf, attr.start, attr.start + attr.size, _KEY_VALUE)
    key_start, key_size = column(kv.of(1), m)
    strings_checked.append((key_start, key_size))
    value_at = kv.of(2)
    value_at.once(m)
    av = fields(raw, buf, value_at.start, value_at.start + value_at.size, _ANY_VALUE)
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
    strings_checked.append((av.start[first[is_string]], av.size[first[is_string]]))
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
        doubles = fixed64(buf, _with_msg(av, first[is_double]), int(is_double.sum()))
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
            raise NotOurs from None
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


def _with_msg(av: Fields, at: npt.NDArray[np.int64]) -> Fields:
    # The chosen fields, each as its own message 0..k-1 (for ``fixed64``).
    chosen = av.take(at)
    chosen.msg = np.arange(len(at), dtype=np.int64)
    return chosen


def _number_text(v: float) -> str:
    # ``any_value_text`` for a double (pdata's number text), from the double itself.
    value = AnyValue()
    value.double_value = v
    return any_value_text(value)


def _no_duplicate_keys(keys: Texts, span_of: npt.NDArray[np.int64]) -> None:
    """``NotOurs`` when a span has one key twice (a dict keeps the first place, last value)."""
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
        raise NotOurs


def _nested(
    raw: bytes, field: Fields, keep: npt.NDArray[np.int64], read: Any
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
    e = parse(PbSpan.Event, data)
    return SpanEvent(min(e.time_unix_nano, MAX_TIME_NS), e.name, _attribute_dict(e.attributes))


def _link(data: bytes) -> SpanLink:
    lk = parse(PbSpan.Link, data)
    return SpanLink(
        lk.trace_id.hex(), lk.span_id.hex(), lk.trace_state, _attribute_dict(lk.attributes)
    )


__all__ = ["ScannedSpans", "scan"]
