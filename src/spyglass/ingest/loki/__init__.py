"""Loki's push API bodies (JSON, and snappy protobuf as Promtail sends them) -> ``LogBatch``.

Pure: a body, its content type and encoding, the limits and the time go in; a ``PushResult``
(the accepted records and Loki's message for each refused one) comes out, or ``BadInput`` for
a body that is not a push at all. Modules in order: ``_labels`` (stream label strings) →
``_json`` / ``_proto`` (wire formats → ``RawStream``) → ``_push`` (Loki's limits → records).
"""

from __future__ import annotations

from spyglass.core.limits import LogLimits
from spyglass.ingest.compression import decode_body
from spyglass.ingest.loki._json import decode_json
from spyglass.ingest.loki._labels import LabelsError, format_stream_labels, parse_stream_labels
from spyglass.ingest.loki._proto import PushRequest, decode_proto
from spyglass.ingest.loki._push import Admission, PushResult, RawStream, admit, check_stream

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
    streams = decode_json(body) if media == JSON_TYPE else decode_proto(body, max_body_bytes)
    return admit(streams, limits, now_ns)


def inflate(body: bytes, encoding: str, limit: int) -> bytes:
    """``body`` decompressed per its Content-Encoding (gzip, deflate, br or none), refusing to
    grow past ``limit`` bytes. ``snappy`` is left as it is: the protobuf decoder unpacks it."""
    if encoding.strip().lower() == "snappy":
        return body
    return decode_body(body, encoding, limit)


__all__ = [
    "JSON_TYPE",
    "Admission",
    "LabelsError",
    "PushRequest",
    "PushResult",
    "RawStream",
    "admit",
    "check_stream",
    "decode_json",
    "decode_proto",
    "decode_push",
    "format_stream_labels",
    "inflate",
    "parse_stream_labels",
]
