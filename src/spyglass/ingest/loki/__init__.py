"""Loki's push API bodies (JSON, and snappy protobuf as Promtail sends them) -> ``LogBatch``.

Pure: a body, its content type and encoding, the limits and the time go in; a ``PushResult``
(the accepted records and Loki's message for each refused one) comes out, or ``BadInput`` for
a body that is not a push at all. Modules in order: ``_labels`` (stream label strings) →
``_json`` / ``_proto`` (wire formats → ``RawStream``), or for a push of plain lines ``_json`` /
``_wire`` (→ ``ColumnPush``, no object per line) → ``_push`` (Loki's limits → a batch).
"""

from __future__ import annotations

from spyglass.core.limits import LogLimits
from spyglass.ingest.compression import decode_body
from spyglass.ingest.loki._json import decode_json, parse_json, read_json, scan_json
from spyglass.ingest.loki._labels import LabelsError, format_stream_labels, parse_stream_labels
from spyglass.ingest.loki._proto import PushRequest, decode_proto, read_proto, unsnappy
from spyglass.ingest.loki._push import (
    Admission,
    ColumnPush,
    PushResult,
    RawStream,
    admit,
    admit_columns,
    check_stream,
)
from spyglass.ingest.loki._wire import scan

JSON_TYPE = "application/json"


def decode_push(
    body: bytes,
    content_type: str,
    content_encoding: str,
    limits: LogLimits,
    now_ns: int,
    *,
    max_body_bytes: int = 0,
) -> PushResult:
    """A Loki push body as records: JSON when ``content_type`` says ``application/json``, else
    snappy protobuf (as Loki decides); ``gzip``/``deflate`` bodies are inflated first (to at
    most ``max_body_bytes``, 0: no limit)."""
    body = inflate(body, content_encoding, max_body_bytes)
    media = content_type.split(";", 1)[0].strip().lower()
    if media == JSON_TYPE:
        doc = parse_json(body)
        columns = scan_json(doc)
        if columns is not None and (result := admit_columns(columns, limits, now_ns)):
            return result
        return admit(read_json(doc), limits, now_ns)
    raw = unsnappy(body, max_body_bytes)
    columns = scan(raw)
    if columns is not None and (result := admit_columns(columns, limits, now_ns)):
        return result
    return admit(read_proto(raw), limits, now_ns)


def inflate(body: bytes, encoding: str, limit: int) -> bytes:
    """``body`` decompressed per its Content-Encoding (gzip, deflate, br or none), refusing to
    grow past ``limit`` bytes. ``snappy`` is left as it is: the protobuf decoder unpacks it."""
    if encoding.strip().lower() == "snappy":
        return body
    return decode_body(body, encoding, limit)


__all__ = [
    "JSON_TYPE",
    "Admission",
    "ColumnPush",
    "LabelsError",
    "PushRequest",
    "PushResult",
    "RawStream",
    "admit",
    "admit_columns",
    "check_stream",
    "decode_json",
    "decode_proto",
    "decode_push",
    "format_stream_labels",
    "inflate",
    "parse_stream_labels",
]
