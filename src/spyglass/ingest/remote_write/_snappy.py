"""Snappy block format, as remote_write bodies use it: checked before anything is inflated.

A block starts with its decoded length (a varint), then literals and back-references. Two
questions can be answered from the header alone, before spending memory on the output:

* Could these bytes be snappy at all? The densest element of the format is a copy with a
  two-byte offset: 3 bytes of input give at most 64 bytes of output. A header that claims more
  than 64/3 of the bytes behind it cannot be honest, so the body is not snappy (a random or
  JSON body read as a header usually claims megabytes or gigabytes). That is bad data (400),
  not a body that is too large.
* Is it over the size limit? Only a plausible claim is compared with the limit (413).
"""

from __future__ import annotations

import cramjam

from spyglass.core.errors import BadInput, LimitExceeded

# Output bytes per input byte of snappy's densest element (a 3-byte copy of 64 bytes).
_MAX_EXPANSION_NUM, _MAX_EXPANSION_DEN = 64, 3


def max_decoded_length(compressed_length: int, claimed: int) -> int:
    """The most a snappy block of ``compressed_length`` bytes whose header encodes ``claimed``
    can decode to: the header's own bytes (a varint of ``claimed``) carry no output."""
    header = max(1, (claimed.bit_length() + 6) // 7)
    return max(0, compressed_length - header) * _MAX_EXPANSION_NUM // _MAX_EXPANSION_DEN


def decompress_block(body: bytes, limit: int) -> bytes:
    """Inflate a snappy block, refusing ``body`` when it is not snappy (``BadInput``) or when it
    would decode to more than ``limit`` bytes (``LimitExceeded`` on ``max_body_bytes``; 0: no
    limit)."""
    try:
        claimed = cramjam.snappy.decompress_raw_len(body)
    except cramjam.DecompressionError as e:
        raise BadInput(f"remote_write: body is not snappy-compressed (block format): {e}") from None
    if claimed > max_decoded_length(len(body), claimed):
        raise BadInput(
            "remote_write: body is not snappy-compressed (block format): its header claims "
            f"{claimed} bytes, more than {len(body)} compressed bytes can hold"
        )
    if limit and claimed > limit:
        raise LimitExceeded(
            "max_body_bytes", limit, f"request body decompresses to {claimed} bytes"
        )
    try:
        return bytes(cramjam.snappy.decompress_raw(body))
    except cramjam.DecompressionError as e:
        raise BadInput(f"remote_write: body is not snappy-compressed (block format): {e}") from None


__all__ = ["decompress_block", "max_decoded_length"]
