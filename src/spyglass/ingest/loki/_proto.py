"""Loki's protobuf push body (``logproto.PushRequest``, snappy block compressed) -> streams.

The messages are built from descriptors at import time, as remote_write's are (no protoc
output to keep in step with the runtime); field numbers are those of Loki's ``push.proto``::

    PushRequest      { repeated StreamAdapter streams = 1; }
    StreamAdapter    { string labels = 1; repeated EntryAdapter entries = 2; uint64 hash = 3; }
    EntryAdapter     { google.protobuf.Timestamp timestamp = 1; string line = 2;
                       repeated LabelPairAdapter structuredMetadata = 3; }
    LabelPairAdapter { string name = 1; string value = 2; }
    Timestamp        { int64 seconds = 1; int32 nanos = 2; }

Strings are declared ``bytes`` here: Go strings (Promtail's) may hold invalid UTF-8, which a
strict protobuf string would refuse; they decode with U+FFFD in place of bad bytes, which is
what Loki's JSON answers show for them too.
"""

from __future__ import annotations

from typing import Any

import cramjam
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import DecodeError

from spyglass.core.errors import BadInput, LimitExceeded
from spyglass.core.labels import Labels
from spyglass.core.logs import LogRecord
from spyglass.ingest.loki._labels import stream_labels
from spyglass.ingest.loki._push import RawStream

_F = descriptor_pb2.FieldDescriptorProto
_PACKAGE = "spyglass.logproto"
# Output bytes per input byte of snappy's densest element (a 3-byte copy of 64 bytes): a header
# claiming more cannot be honest.
_MAX_EXPANSION = 64 / 3


def _message(
    fd: descriptor_pb2.FileDescriptorProto, name: str, fields: list[tuple[Any, ...]]
) -> None:
    msg = fd.message_type.add()
    msg.name = name
    for fname, number, kind, repeated, type_name in fields:
        f = msg.field.add()
        f.name = fname
        f.number = number
        f.type = kind
        f.label = _F.LABEL_REPEATED if repeated else _F.LABEL_OPTIONAL
        if type_name:
            f.type_name = f".{_PACKAGE}.{type_name}"


def _build() -> Any:
    fd = descriptor_pb2.FileDescriptorProto()
    fd.name = "spyglass/logproto/push.proto"
    fd.package = _PACKAGE
    fd.syntax = "proto3"
    _message(fd, "Timestamp", [("seconds", 1, _F.TYPE_INT64, False, ""),
                               ("nanos", 2, _F.TYPE_INT32, False, "")])  # fmt: skip
    _message(fd, "LabelPairAdapter", [("name", 1, _F.TYPE_BYTES, False, ""),
                                      ("value", 2, _F.TYPE_BYTES, False, "")])  # fmt: skip
    _message(
        fd,
        "EntryAdapter",
        [
            ("timestamp", 1, _F.TYPE_MESSAGE, False, "Timestamp"),
            ("line", 2, _F.TYPE_BYTES, False, ""),
            ("structuredMetadata", 3, _F.TYPE_MESSAGE, True, "LabelPairAdapter"),
        ],
    )
    _message(
        fd,
        "StreamAdapter",
        [
            ("labels", 1, _F.TYPE_BYTES, False, ""),
            ("entries", 2, _F.TYPE_MESSAGE, True, "EntryAdapter"),
            ("hash", 3, _F.TYPE_UINT64, False, ""),
        ],
    )
    _message(fd, "PushRequest", [("streams", 1, _F.TYPE_MESSAGE, True, "StreamAdapter")])
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fd)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{_PACKAGE}.PushRequest"))


PushRequest: Any = _build()


def unsnappy(body: bytes, limit: int) -> bytes:
    """Inflate a snappy block; ``BadInput`` when it is not one, ``LimitExceeded`` when it would
    be larger than ``limit`` bytes (0: no limit)."""
    try:
        claimed = cramjam.snappy.decompress_raw_len(body)
    except cramjam.DecompressionError as exc:
        raise BadInput(f"loki: body is not snappy-compressed protobuf: {exc}") from None
    if claimed > len(body) * _MAX_EXPANSION + 16:
        raise BadInput("loki: body is not snappy-compressed protobuf: its header is implausible")
    if limit and claimed > limit:
        raise LimitExceeded(
            "max_body_bytes", limit, f"request body decompresses to {claimed} bytes"
        )
    try:
        return bytes(cramjam.snappy.decompress_raw(body))
    except cramjam.DecompressionError as exc:
        raise BadInput(f"loki: body is not snappy-compressed protobuf: {exc}") from None


def decode_proto(body: bytes, limit: int = 0) -> list[RawStream]:
    """The streams of a snappy-compressed ``PushRequest``; ``BadInput`` when it is not one."""
    return read_proto(unsnappy(body, limit))


def read_proto(raw: bytes) -> list[RawStream]:
    """The streams of an uncompressed ``PushRequest``, read with upb."""
    req = PushRequest()
    try:
        req.ParseFromString(raw)
    except (DecodeError, RecursionError) as exc:
        raise BadInput(f"loki: malformed protobuf PushRequest: {exc}") from None
    out = []
    for s in req.streams:
        text = s.labels.decode("utf-8", "replace")
        labels = stream_labels(text)
        stream: Labels = labels if isinstance(labels, tuple) else ()
        entries: list[LogRecord] = []
        for e in s.entries:
            stamp = e.timestamp
            ts = stamp.seconds * 1_000_000_000 + stamp.nanos
            if not 0 <= ts < 2**63:
                raise BadInput(f"loki: entry timestamp {stamp.seconds}s is out of range")
            pairs = e.structuredMetadata
            if pairs:
                meta = {
                    p.name.decode("utf-8", "replace"): p.value.decode("utf-8", "replace")
                    for p in pairs
                }
                entries.append(LogRecord(ts, e.line.decode("utf-8", "replace"), stream, meta))
            else:
                # No metadata: the record's shared empty map, not a dict per entry.
                entries.append(LogRecord(ts, e.line.decode("utf-8", "replace"), stream))
        out.append(RawStream(labels, text, entries))
    return out


__all__ = ["PushRequest", "decode_proto", "read_proto", "unsnappy"]
