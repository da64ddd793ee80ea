"""The exemplars WAL codec: one ``ExemplarBatch`` as one write-ahead-log record.

A record is UTF-8 JSON, ``[version, [[series pairs, label pairs, value, timestamp_ms], ...]]``:
exemplars come a few per request, so a compact binary layout would save little, and JSON keeps
every float (``NaN`` and the infinities as Python writes them) and lone surrogates (escaped)
exactly as acknowledged.
"""

from __future__ import annotations

import json
from typing import Any

from spyglass.core.errors import ParseError, Unavailable
from spyglass.core.exemplars import Exemplar, ExemplarBatch
from spyglass.core.labels import Labels

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


class ExemplarsCodec:
    """The WAL's ``RecordCodec`` for ``ExemplarBatch``: every record stands alone."""

    def segment_encoder(self) -> _Encoder:
        """An encoder (stateless)."""
        return _Encoder()

    def reader(self) -> _Reader:
        """A reader for one replay."""
        return _Reader()


class _Encoder:
    __slots__ = ()

    def encode(self, batch: ExemplarBatch, max_bytes: int) -> bytes:
        payload = encode_batch(batch)
        if len(payload) > max_bytes:
            raise Unavailable(f"batch of {len(payload)} bytes exceeds the WAL record limit")
        return payload


class _Reader:
    __slots__ = ("lost_bytes",)

    def __init__(self) -> None:
        self.lost_bytes = 0

    def read(self, payload: bytes) -> ExemplarBatch:
        return decode_batch(payload)

    def complete(self, seq: int, batch: ExemplarBatch) -> ExemplarBatch:
        del seq
        return batch


__all__ = ["ExemplarsCodec", "decode_batch", "encode_batch"]
