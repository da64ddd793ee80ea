"""The exemplars WAL codec: one ``ExemplarBatch`` as one write-ahead-log record.

A record is UTF-8 JSON, ``[version, [[series pairs, label pairs, value, timestamp_ms], ...]]``:
exemplars come a few per request, so a compact binary layout would save little, and JSON keeps
every float (``NaN`` and the infinities as Python writes them) and lone surrogates (escaped)
exactly as acknowledged.
"""

from __future__ import annotations

import json
from typing import Any

from spyglass.core.errors import ParseError
from spyglass.core.exemplars import Exemplar, ExemplarBatch
from spyglass.core.labels import Labels
from spyglass.storage.wal import StandaloneRecords

VERSION = 1


def encode_batch(batch: ExemplarBatch) -> bytes:
    """The record payload for ``batch``."""
    rows = [[e.series, e.labels, e.value, e.timestamp_ms] for e in batch.exemplars]
    return json.dumps([VERSION, rows], separators=(",", ":")).encode()


def _labels(value: Any) -> Labels:
    if not isinstance(value, list) or not all(
        isinstance(p, list) and len(p) == 2 and all(isinstance(x, str) for x in p) for p in value
    ):
        raise ParseError("exemplars WAL record: a label set is not a list of pairs")
    return tuple((p[0], p[1]) for p in value)


def decode_batch(payload: bytes) -> ExemplarBatch:
    """The batch encoded in ``payload``; ``ParseError`` when it is not a valid record."""
    try:
        doc = json.loads(payload)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ParseError(f"exemplars WAL record is not JSON: {exc}") from None
    if not isinstance(doc, list) or len(doc) != 2 or doc[0] != VERSION:
        raise ParseError("exemplars WAL record of an unknown version")
    out = []
    for row in doc[1] if isinstance(doc[1], list) else [None]:
        if not isinstance(row, list) or len(row) != 4:
            raise ParseError("exemplars WAL record: an exemplar is not [series, labels, v, t]")
        series, labels, value, ts = row
        if not isinstance(value, int | float) or not isinstance(ts, int) or isinstance(ts, bool):
            raise ParseError("exemplars WAL record: value or timestamp is not a number")
        out.append(Exemplar(_labels(series), _labels(labels), float(value), ts))
    return ExemplarBatch(tuple(out))


class ExemplarsCodec(StandaloneRecords[ExemplarBatch]):
    """The WAL's ``RecordCodec`` for ``ExemplarBatch``: every record stands alone."""

    def __init__(self) -> None:
        super().__init__(encode_batch, decode_batch)


__all__ = ["ExemplarsCodec", "decode_batch", "encode_batch"]
