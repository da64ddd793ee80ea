"""Loki's JSON push body -> ``RawStream``s.

::

    {"streams": [{"stream": {"app": "api"},
                  "values": [["1700000000000000000", "a line"],
                             ["1700000000000000001", "another", {"trace_id": "abc"}]]}]}

Timestamps are strings of nanoseconds since the epoch, lines strings, and the optional third
element of an entry is its structured metadata (string values). Anything else is refused whole
with a message saying where, as Loki refuses a body it cannot unmarshal.

``scan_json`` reads a push of plain lines (no metadata) into columns without a record per line;
``read_json`` reads any push into records and says what is wrong with one it refuses.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from spyglass.core.errors import BadInput
from spyglass.core.labels import LABEL_NAME_RE, Labels
from spyglass.core.logs import LogRecord
from spyglass.ingest.loki._labels import LabelsError, format_stream_labels
from spyglass.ingest.loki._push import ColumnPush, RawStream

MAX_NS = 2**63 - 1


def decode_json(body: bytes) -> list[RawStream]:
    """The streams of a JSON push body; ``BadInput`` when it is not one."""
    return read_json(parse_json(body))


def parse_json(body: bytes) -> Any:
    """The JSON document of a push body; ``BadInput`` when it is not JSON.

    Invalid UTF-8 inside the strings reads as U+FFFD, as in a protobuf push: Loki's decoder
    takes such bytes, and refusing the body would make the shipper drop every line of the batch
    for one line of a file in another encoding.
    """
    try:
        try:
            return json.loads(body)
        except UnicodeDecodeError:
            return json.loads(body.decode("utf-8", "replace"))
    except (json.JSONDecodeError, RecursionError) as exc:
        raise BadInput(f"loki: malformed JSON push request: {exc}") from None


def scan_json(doc: Any) -> ColumnPush | None:
    """The push ``doc`` as columns, or ``None`` when it is not a push of plain lines in the
    usual shape (``read_json`` then reads it, and names what is wrong)."""
    if not isinstance(doc, dict):
        return None
    streams = doc.get("streams")
    if type(streams) is not list:
        return None
    labels: list[Labels | BadInput] = []
    texts: list[str] = []
    counts: list[int] = []
    stamps: list[str] = []
    lines: list[str] = []
    for i, s in enumerate(streams):
        if type(s) is not dict or type(s.get("values")) is not list:
            return None
        try:
            head = _labels(i, s)
        except BadInput:
            return None
        values: list[Any] = s["values"]
        # Every entry a [timestamp, line] pair of strings; the comprehensions stop at nothing,
        # the checks after them look at the results as a whole.
        if not all(type(v) is list and len(v) == 2 for v in values):
            return None
        ts = [v[0] for v in values]
        text = [v[1] for v in values]
        if not all(type(t) is str for t in ts) or not all(type(x) is str for x in text):
            return None
        labels.append(head[0])
        texts.append(head[1])
        counts.append(len(values))
        stamps += ts
        lines += text
    joined = "".join(stamps)
    # Digits only, none empty and none longer than int64's 19: else the slow path's messages.
    if not (joined.isascii() and (joined.isdigit() or not joined)):
        return None
    if stamps and (min(map(len, stamps)) == 0 or max(map(len, stamps)) > 19):
        return None
    numbers = [int(t) for t in stamps]
    if numbers and max(numbers) > MAX_NS:
        return None
    timestamps = np.array(numbers, np.int64) if numbers else np.zeros(0, np.int64)
    all_text = "".join(lines)
    try:
        data = all_text.encode("utf-8")
    except UnicodeEncodeError:
        return None  # lone surrogates (JSON escapes allow them): the records path keeps them
    if len(data) == len(all_text):
        sizes = np.fromiter(map(len, lines), np.int64, len(lines))
    else:
        sizes = np.fromiter((len(x.encode("utf-8")) for x in lines), np.int64, len(lines))
    offsets = np.zeros(len(lines) + 1, np.int64)
    np.cumsum(sizes, out=offsets[1:])
    return ColumnPush(labels, texts, counts, timestamps, data, offsets)


def read_json(doc: Any) -> list[RawStream]:
    """The streams of the push ``doc``, as records; ``BadInput`` when it is not a push."""
    if not isinstance(doc, dict):
        raise BadInput("loki: a push request is a JSON object with a 'streams' array")
    streams = doc.get("streams")
    if streams is None:
        return []
    if not isinstance(streams, list):
        raise BadInput("loki: 'streams' must be an array")
    return [_stream(i, s) for i, s in enumerate(streams)]


def _labels(i: int, s: dict[str, Any]) -> tuple[Labels | BadInput, str, Labels]:
    """Stream ``i``'s labels (or why they are refused), their text, and the pairs records carry."""
    where = f"streams[{i}]"
    labels_obj = s.get("stream", {})
    if labels_obj is None:
        labels_obj = {}
    if not isinstance(labels_obj, dict) or not all(isinstance(v, str) for v in labels_obj.values()):
        raise BadInput(f"loki: {where}.stream must be an object of string values")
    pairs = tuple(sorted((k, v) for k, v in labels_obj.items() if v))
    text = format_stream_labels(pairs)
    labels: Labels | BadInput = pairs
    bad = next((k for k in labels_obj if not _valid_name(k)), None)
    if bad is not None:
        labels = LabelsError(text, f"invalid label name {bad!r}")
    return labels, text, pairs


def _stream(i: int, s: Any) -> RawStream:
    where = f"streams[{i}]"
    if not isinstance(s, dict):
        raise BadInput(f"loki: {where} must be an object with 'stream' and 'values'")
    labels, text, pairs = _labels(i, s)
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


__all__ = ["decode_json", "parse_json", "parse_timestamp", "read_json", "scan_json"]
