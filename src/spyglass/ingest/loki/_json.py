"""Loki's JSON push body -> ``RawStream``s.

::

    {"streams": [{"stream": {"app": "api"},
                  "values": [["1700000000000000000", "a line"],
                             ["1700000000000000001", "another", {"trace_id": "abc"}]]}]}

Timestamps are strings of nanoseconds since the epoch, lines strings, and the optional third
element of an entry is its structured metadata (string values). Anything else is refused whole
with a message saying where, as Loki refuses a body it cannot unmarshal.
"""

from __future__ import annotations

import json
from typing import Any

from spyglass.core.errors import BadInput
from spyglass.core.labels import LABEL_NAME_RE, Labels
from spyglass.core.logs import LogRecord
from spyglass.ingest.loki._labels import LabelsError, format_stream_labels
from spyglass.ingest.loki._push import RawStream

MAX_NS = 2**63 - 1


def decode_json(body: bytes) -> list[RawStream]:
    """The streams of a JSON push body; ``BadInput`` when it is not one."""
    try:
        doc = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise BadInput(f"loki: malformed JSON push request: {exc}") from None
    if not isinstance(doc, dict):
        raise BadInput("loki: a push request is a JSON object with a 'streams' array")
    streams = doc.get("streams")
    if streams is None:
        return []
    if not isinstance(streams, list):
        raise BadInput("loki: 'streams' must be an array")
    return [_stream(i, s) for i, s in enumerate(streams)]


def _stream(i: int, s: Any) -> RawStream:
    where = f"streams[{i}]"
    if not isinstance(s, dict):
        raise BadInput(f"loki: {where} must be an object with 'stream' and 'values'")
    labels_obj = s.get("stream", {})
    if labels_obj is None:
        labels_obj = {}
    if not isinstance(labels_obj, dict) or not all(isinstance(v, str) for v in labels_obj.values()):
        raise BadInput(f"loki: {where}.stream must be an object of string values")
    pairs = tuple(sorted((k, v) for k, v in labels_obj.items() if v))
    text = format_stream_labels(pairs)
    labels: Any = pairs
    bad = next((k for k in labels_obj if not _valid_name(k)), None)
    if bad is not None:
        labels = LabelsError(text, f"invalid label name {bad!r}")
    values = s.get("values", [])
    if values is None:
        values = []
    if not isinstance(values, list):
        raise BadInput(f"loki: {where}.values must be an array")
    return RawStream(
        labels, text, [_entry(f"{where}.values[{j}]", v, pairs) for j, v in enumerate(values)]
    )


def _entry(where: str, v: Any, stream: Labels) -> LogRecord:
    if not isinstance(v, list) or len(v) not in (2, 3):
        raise BadInput(f'loki: {where} must be ["<unix ns>", "<line>"] or with metadata')
    ts_text, line = v[0], v[1]
    if not isinstance(ts_text, str):
        raise BadInput(f"loki: {where}: the timestamp must be a string of nanoseconds")
    ts = parse_timestamp(where, ts_text)
    if not isinstance(line, str):
        raise BadInput(f"loki: {where}: the line must be a string")
    meta = v[2] if len(v) == 3 else None
    if meta is None or meta == {}:
        return LogRecord(ts, line, stream)  # the shared empty map, not a dict per entry
    if not isinstance(meta, dict) or not all(isinstance(x, str) for x in meta.values()):
        raise BadInput(f"loki: {where}: structured metadata must be an object of strings")
    return LogRecord(ts, line, stream, meta)


def parse_timestamp(where: str, text: str) -> int:
    """Nanoseconds from a decimal string; ``BadInput`` otherwise."""
    if not text.isascii() or not text.isdigit():
        raise BadInput(f"loki: {where}: invalid timestamp {text[:40]!r}: not unix nanoseconds")
    ts = int(text)
    if ts > MAX_NS:
        raise BadInput(f"loki: {where}: timestamp {text[:40]} is out of range")
    return ts


def _valid_name(name: str) -> bool:
    return bool(LABEL_NAME_RE.match(name))


__all__ = ["decode_json", "parse_timestamp"]
