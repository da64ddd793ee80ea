"""The protobuf wire format read straight from a request's bytes: varints one at a time in Python
or many at once with numpy, and the fields of many messages at once.

Shared by the columnar readers of remote_write (``remote_write._wire``), Loki push
(``loki._wire``) and OTLP (``otlp._traces_wire``, ``otlp._metrics_wire``), which read the wire
format themselves for the shapes real senders write and leave everything else to upb.

The OTLP readers go one level of messages at a time (requests, resource messages, scopes, data
points, ...): ``fields`` walks every message of a level through its fields in lockstep, one
numpy step per field position, so the Python work is per level and per field position, not per
message; the few messages of a level that run on after the others (and levels of a few
messages) are walked in Python (``walk``). Anything a reader does not read exactly as upb would
raises ``NotOurs``, and the reader's caller parses the request with upb instead, which also
words the errors.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from itertools import pairwise
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
from google.protobuf.message import DecodeError
from numpy.lib.stride_tricks import sliding_window_view

MAX_VARINT = 10  # bytes of the longest varint (a 64-bit value)
VARINT, FIXED64, LEN, FIXED32 = 0, 1, 2, 5  # wire types
PAD = 16  # zero bytes after a body, so fixed-width reads near its end stay inside
_TAG_WIDTH = 5  # field numbers up to 2**29
_MAX_FIELD_NUMBER = 2**29
_KNOWN_BELOW = 32  # every field number a reader names is below this
_WIRE_OK = np.array([True, True, True, False, False, True, False, False])  # no groups
_FIXED_SIZE = np.array([0, 8, 0, 0, 0, 4, 0, 0], np.int64)  # payload size by wire type
_ONE_BYTE_SIZE = np.array([1, 8, 0, 0, 0, 4, 0, 0], np.int64)  # ... with one-byte varints
# Below this many messages still walking, a numpy step costs more than walking their
# remaining fields in Python (the few long messages of a level, or a level of a few).
_LOCKSTEP_MIN = 24


def varint(raw: bytes, pos: int) -> tuple[int, int]:
    """The varint at ``pos`` and the position after it; ``(-1, pos)`` if it is not one."""
    value = shift = 0
    for i in range(pos, min(pos + MAX_VARINT, len(raw))):
        byte = raw[i]
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, i + 1
        shift += 7
    return -1, pos


def varints(
    buf: npt.NDArray[np.uint8], at: npt.NDArray[np.int64], width: int
) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.int64]] | None:
    """The varints starting at ``at`` (at most ``width`` bytes each) and their sizes; ``None``
    if one does not end within ``width`` bytes. ``buf`` must hold ``width`` bytes past every
    ``at`` (pad it)."""
    window = sliding_window_view(buf, width)[at]
    ends = window < 0x80
    if not np.all(ends.any(axis=1)):
        return None
    size = ends.argmax(axis=1) + 1
    if width == MAX_VARINT and np.any((size == width) & (window[:, -1] > 1)):
        return None  # more than 64 bits: left to upb to judge
    used = np.arange(width) < size[:, None]
    digits = (window & 0x7F).astype(np.uint64) << (np.arange(width, dtype=np.uint64) * 7)
    values = np.where(used, digits, np.uint64(0)).sum(axis=1, dtype=np.uint64)
    return values, size.astype(np.int64)


class NotOurs(Exception):
    """The request is not in the shape a columnar reader reads exactly: upb reads it instead."""


@dataclass(slots=True)
class Fields:
    """Every field of a level's messages, ordered by message then by position in it."""

    msg: npt.NDArray[np.int64]  # the message (index into the level) the field is in
    number: npt.NDArray[np.int64]
    begin: npt.NDArray[np.int64]  # where the field begins (its tag)
    start: npt.NDArray[np.int64]  # where the payload begins (after a length prefix)
    size: npt.NDArray[np.int64]  # payload bytes
    value: npt.NDArray[np.uint64]  # a varint's value (0 for other wire types)

    def __len__(self) -> int:
        return len(self.msg)

    def take(self, rows: npt.NDArray[np.int64] | npt.NDArray[np.bool_]) -> Fields:
        """The fields at ``rows`` (indices or a mask), in order."""
        return Fields(
            self.msg[rows],
            self.number[rows],
            self.begin[rows],
            self.start[rows],
            self.size[rows],
            self.value[rows],
        )

    def of(self, number: int) -> Fields:
        """The fields numbered ``number``, in order."""
        return self.take(self.number == number)

    def by_number(self) -> dict[int, Fields]:
        """``of`` for every number at once (one sort rather than a pass per number)."""
        if not len(self.number):
            return {}
        order = np.argsort(self.number, kind="stable")
        numbers = self.number[order]
        cuts = np.flatnonzero(np.r_[True, numbers[1:] != numbers[:-1], True])
        return {int(numbers[a]): self.take(order[a:b]) for a, b in pairwise(cuts.tolist())}

    def once(self, n_messages: int) -> npt.NDArray[np.bool_]:
        """Which messages have this field; ``NotOurs`` if one has it twice (protobuf merges a
        singular message written twice and keeps the last scalar, which readers do not do)."""
        if len(self.msg) > 1 and np.any(self.msg[1:] == self.msg[:-1]):
            raise NotOurs
        has = np.zeros(n_messages, np.bool_)
        has[self.msg] = True
        return has


_EMPTY = np.zeros(0, np.int64)
NO_FIELDS = Fields(_EMPTY, _EMPTY, _EMPTY, _EMPTY, _EMPTY, np.zeros(0, np.uint64))


_Scanned = TypeVar("_Scanned")


def scan_body(
    read: Callable[[bytes, npt.NDArray[np.uint8]], _Scanned], raw: bytes
) -> _Scanned | None:
    """``read(raw, buf)`` with ``buf`` the body followed by ``PAD`` zero bytes as numpy bytes, or
    ``None`` when the body is not in the shape the reader takes (``NotOurs``): the caller then
    parses it with upb, which also words its errors."""
    try:
        return read(raw, np.frombuffer(raw + bytes(PAD), np.uint8))
    except NotOurs:
        return None


def get(by: dict[int, Fields], number: int) -> Fields:
    """``by[number]``, or no fields."""
    return by.get(number, NO_FIELDS)


def extents(field: Fields) -> list[tuple[int, int]]:
    """Each field's payload as (start, end)."""
    return list(zip(field.start.tolist(), (field.start + field.size).tolist(), strict=True))


def rows(field: Fields) -> zip[tuple[int, int, int]]:
    """Each field's message, payload start and size, as ints."""
    return zip(field.msg.tolist(), field.start.tolist(), field.size.tolist(), strict=True)


def parse(message: Any, data: bytes) -> Any:
    """``data`` read by upb as a ``message`` (a generated class); ``NotOurs`` when upb refuses
    it, so that the object path words the error."""
    try:
        return message.FromString(data)
    except DecodeError:
        raise NotOurs from None


def messages(raw: bytes, field: Fields, n: int, message: Any) -> list[Any]:
    """A singular sub-message ``field`` of each of ``n`` messages read by upb (the few of a
    request: its resources, scopes), ``None`` where absent."""
    field.once(n)
    out: list[Any] = [None] * n
    for i, a, size in rows(field):
        out[i] = parse(message, raw[a : a + size])
    return out


def walk(raw: bytes, spans: list[tuple[int, int]], known: Mapping[int, int]) -> Fields:
    """``fields`` for a few messages (``raw[a:b]`` for each ``(a, b)`` in ``spans``), one field
    at a time in Python: a request's resources, or the long messages of a level."""
    found: list[int] = []  # per field: message, number, begin, start, size
    values: list[int] = []  # per field: a varint's value (0 for other wire types)
    padded = raw + bytes(PAD)
    for i, (begin, end) in enumerate(spans):
        pos = begin
        while pos < end:
            at = pos
            tag = padded[pos]
            if tag < 0x80:
                pos += 1
            else:
                tag, pos = varint(raw, pos)
            number, wire = tag >> 3, tag & 7
            if tag < 0 or not 0 < number < _MAX_FIELD_NUMBER or known.get(number, wire) != wire:
                raise NotOurs
            value = 0
            if wire == LEN:
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
                        raise NotOurs
            elif wire == VARINT:
                value, after = varint(raw, pos)
                if value < 0:
                    raise NotOurs
                size = after - pos
            elif wire == FIXED64:
                size = 8
            elif wire == FIXED32:
                size = 4
            else:
                raise NotOurs
            if pos + size > end:
                raise NotOurs
            found += (i, number, at, pos, size)
            values.append(value)
            pos += size
    table = np.array(found, np.int64).reshape(-1, 5)
    try:
        value_column = np.array(values, np.uint64)
    except OverflowError:
        raise NotOurs from None  # more than 64 bits: left to upb to judge, as ``varints`` does
    return Fields(
        table[:, 0].copy(),
        table[:, 1].copy(),
        table[:, 2].copy(),
        table[:, 3].copy(),
        table[:, 4].copy(),
        value_column,
    )


def fields(
    raw: bytes,
    buf: npt.NDArray[np.uint8],
    starts: npt.NDArray[np.int64],
    ends: npt.NDArray[np.int64],
    known: Mapping[int, int],
) -> Fields:
    """Every field of the messages ``buf[starts[i]:ends[i]]`` (``buf`` is ``raw`` and ``PAD``
    zero bytes); ``NotOurs`` when one is malformed or a known field has another wire type.

    All messages step through their fields together while enough of them are left; the last
    few (a long message among short ones) are walked in Python."""
    pos = starts.copy()
    parts: list[tuple[npt.NDArray[np.int64], ...]] = []
    values: list[npt.NDArray[np.uint64]] = []
    # The wire type each field number must have (-1: any, the field is skipped).
    expect = np.full(_KNOWN_BELOW + 1, -1, np.int64)
    for num, wt in known.items():
        expect[num] = wt
    active = np.flatnonzero(pos < ends)
    while len(active) >= _LOCKSTEP_MIN:
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
                raise NotOurs
            if np.any(number == 0):
                raise NotOurs
            is_len = wire == LEN
            start = at + 1 + is_len
            size = np.where(is_len, second, _ONE_BYTE_SIZE[wire])
            value = second.astype(np.uint64)
        else:
            number, start, size, value = _step(buf, at, expect)
        after = start + size
        end = ends[active]
        if np.any(after > end):
            raise NotOurs
        pos[active] = after
        parts.append((active, number, at, start, size))
        values.append(value)
        active = active[after < end]
    if len(active):
        rest = walk(raw, list(zip(pos[active].tolist(), ends[active].tolist(), strict=True)), known)
        parts.append((active[rest.msg], rest.number, rest.begin, rest.start, rest.size))
        values.append(rest.value)
    if not parts:
        return NO_FIELDS
    msg = np.concatenate([p[0] for p in parts])
    # Collected step by step; a stable sort by message keeps each message's fields in order.
    order = np.argsort(msg, kind="stable")
    return Fields(
        msg[order],
        np.concatenate([p[1] for p in parts])[order],
        np.concatenate([p[2] for p in parts])[order],
        np.concatenate([p[3] for p in parts])[order],
        np.concatenate([p[4] for p in parts])[order],
        np.concatenate(values)[order],
    )


def _step(
    buf: npt.NDArray[np.uint8], at: npt.NDArray[np.int64], expect: npt.NDArray[np.int64]
) -> tuple[
    npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.uint64]
]:
    """One lockstep step of ``fields`` in general: each field's number, payload start and size,
    and varint value."""
    tags = buf[at].astype(np.int64)
    q = at + 1
    if np.any(tags >= 0x80):
        t, ts = _small_varints(buf, at, _TAG_WIDTH)
        if np.any(t >= np.uint64(_MAX_FIELD_NUMBER << 3)):
            raise NotOurs
        tags = t.astype(np.int64)
        q = at + ts
    number = tags >> 3
    wire = tags & 7
    expected = expect[np.minimum(number, _KNOWN_BELOW)]
    if np.any(((expected >= 0) & (expected != wire)) | ~_WIRE_OK[wire] | (number == 0)):
        raise NotOurs
    start = q
    size = _FIXED_SIZE[wire]
    value = np.zeros(len(at), np.uint64)
    is_var = wire == VARINT
    is_len = wire == LEN
    if is_var.any():
        v, vs = _small_varints(buf, q[is_var], MAX_VARINT)
        value[is_var] = v
        size[is_var] = vs
    if is_len.any():
        v, vs = _small_varints(buf, q[is_len], MAX_VARINT)
        if np.any(v > np.uint64(len(buf))):
            raise NotOurs
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
        got = varints(buf, at[long], width)
        if got is None:
            raise NotOurs
        values[long] = got[0]
        sizes[long] = got[1]
    return values, sizes


def column(field: Fields, n: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Each message's (start, size) of a singular bytes or string field; empty when absent."""
    field.once(n)
    start = np.zeros(n, np.int64)
    size = np.zeros(n, np.int64)
    start[field.msg] = field.start
    size[field.msg] = field.size
    return start, size


def fixed64(buf: npt.NDArray[np.uint8], field: Fields, n: int) -> npt.NDArray[np.uint64]:
    """Each message's singular 64-bit fixed-width field, as its bits (0 when absent)."""
    field.once(n)
    out = np.zeros(n, np.uint64)
    if len(field.start):
        window = sliding_window_view(buf, 8)[field.start]
        out[field.msg] = np.ascontiguousarray(window).view("<u8")[:, 0]
    return out


def enum(field: Fields, n: int, count: int) -> npt.NDArray[np.uint8]:
    """An enum field per message as an index into its ``count`` names (0 when absent or out of
    range, as the object paths map it). Enums are int32: upb keeps a varint's low 32 bits."""
    field.once(n)
    low = (field.value & np.uint64(0xFFFFFFFF)).astype(np.int64)
    signed = np.where(low >= 2**31, low - 2**32, low)
    out = np.zeros(n, np.uint8)
    out[field.msg] = np.where((signed >= 0) & (signed < count), signed, 0).astype(np.uint8)
    return out


__all__ = [
    "FIXED32",
    "FIXED64",
    "LEN",
    "MAX_VARINT",
    "NO_FIELDS",
    "PAD",
    "VARINT",
    "Fields",
    "NotOurs",
    "column",
    "enum",
    "extents",
    "fields",
    "fixed64",
    "get",
    "messages",
    "parse",
    "rows",
    "scan_body",
    "varint",
    "varints",
    "walk",
]
