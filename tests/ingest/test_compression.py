"""Compressed request bodies expand, and a bomb stops at the cap with the limit named."""

import contextlib
import gzip
import zlib

import brotli
import pytest
from hypothesis import given
from hypothesis import strategies as st

from spyglass.core.errors import BadInput, LimitExceeded
from spyglass.ingest.compression import decode_body

DATA = b"the same line again\n" * 5000


@pytest.mark.parametrize(
    ("encoding", "body"),
    [
        ("", DATA),
        ("gzip", gzip.compress(DATA)),
        ("x-gzip", gzip.compress(DATA)),
        ("deflate", zlib.compress(DATA)),
        ("deflate", zlib.compress(DATA)[2:-4]),  # raw deflate, as some senders write it
        ("br", brotli.compress(DATA)),
        (" GZIP ", gzip.compress(DATA)),
    ],
)
def test_every_encoding_expands(encoding: str, body: bytes) -> None:
    assert decode_body(body, encoding, len(DATA)) == DATA


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br"])
def test_a_bomb_stops_at_the_limit(encoding: str) -> None:
    bomb = b"\0" * 50_000_000
    body = {"gzip": gzip.compress, "deflate": zlib.compress, "br": brotli.compress}[encoding](bomb)
    with pytest.raises(LimitExceeded) as caught:
        decode_body(body, encoding, 1_000_000, setting="max_event_bytes")
    assert caught.value.limit == "max_event_bytes"


def test_unknown_and_truncated_bodies_are_bad_input() -> None:
    with pytest.raises(BadInput, match="unsupported Content-Encoding 'zstd'"):
        decode_body(b"x", "zstd", 0)
    for encoding, body in (("gzip", gzip.compress(DATA)), ("br", brotli.compress(DATA))):
        with pytest.raises(BadInput, match=r"truncated|invalid"):
            decode_body(body[: len(body) // 2], encoding, 0)


@given(st.binary(max_size=200), st.sampled_from(["gzip", "deflate", "br"]))
def test_any_bytes_expand_or_fail_cleanly(body: bytes, encoding: str) -> None:
    with contextlib.suppress(BadInput):
        decode_body(body, encoding, 10_000)
