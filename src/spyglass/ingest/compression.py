"""Request bodies in the compressions senders use, expanded with a cap.

Every push protocol lets the sender compress its body (``Content-Encoding: gzip`` from OTLP
exporters and Fluent Bit, ``deflate`` from older Sentry SDKs, ``br`` from sentry-python when
Brotli is installed). A small compressed body can expand to gigabytes, so each decoder stops at
``limit`` bytes of output and says which limit was hit instead of allocating what the bomb asks.
"""

from __future__ import annotations

import zlib

import brotli  # type: ignore[import-untyped]  # no stubs published

from spyglass.core.errors import BadInput, LimitExceeded

ENCODINGS = ("identity", "gzip", "x-gzip", "deflate", "br")


def decode_body(
    body: bytes, encoding: str, limit: int, *, setting: str = "max_body_bytes"
) -> bytes:
    """``body`` expanded from ``encoding`` (a ``Content-Encoding`` value; empty for none).

    Raises ``LimitExceeded`` (naming ``setting``) when the expanded body would pass ``limit``
    bytes (``0``: no cap), and ``BadInput`` for an unknown encoding or a corrupt body.
    """
    name = encoding.strip().lower()
    if name in ("", "identity"):
        out = body
    elif name in ("gzip", "x-gzip"):
        out = _zlib(body, 16 + zlib.MAX_WBITS, "gzip", limit, setting)
    elif name == "deflate":
        # HTTP's "deflate" is the zlib format, but some senders write raw deflate streams.
        try:
            out = _zlib(body, zlib.MAX_WBITS, "deflate", limit, setting)
        except LimitExceeded:
            raise
        except BadInput:
            out = _zlib(body, -zlib.MAX_WBITS, "deflate", limit, setting)
    elif name == "br":
        out = _brotli(body, limit, setting)
    else:
        raise BadInput(f"unsupported Content-Encoding {encoding!r}")
    if limit and len(out) > limit:
        raise LimitExceeded(setting, limit, f"request body is larger than {limit} bytes")
    return out


def _zlib(body: bytes, wbits: int, name: str, limit: int, setting: str) -> bytes:
    d = zlib.decompressobj(wbits)
    try:
        out = d.decompress(body, limit + 1 if limit else 0)
    except zlib.error as exc:
        raise BadInput(f"invalid {name} body: {exc}") from None
    if limit and len(out) > limit:
        raise LimitExceeded(setting, limit, f"decompressed body is larger than {limit} bytes")
    if not d.eof:
        raise BadInput(f"invalid {name} body: truncated")
    return out


def _brotli(body: bytes, limit: int, setting: str) -> bytes:
    d = brotli.Decompressor()
    parts: list[bytes] = []
    size = 0
    chunk = body
    try:
        while True:
            part = d.process(chunk, output_buffer_limit=1 << 20)
            chunk = b""
            parts.append(part)
            size += len(part)
            if limit and size > limit:
                raise LimitExceeded(
                    setting, limit, f"decompressed body is larger than {limit} bytes"
                )
            if d.is_finished() or (not part and d.can_accept_more_data()):
                break
    except brotli.error as exc:
        raise BadInput(f"invalid br body: {exc}") from None
    if not d.is_finished():
        raise BadInput("invalid br body: truncated")
    return b"".join(parts)


__all__ = ["ENCODINGS", "decode_body"]
