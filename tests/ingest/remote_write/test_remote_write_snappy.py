"""The snappy layer tells "not snappy" (400) from "too large" (413) before inflating anything."""

from __future__ import annotations

import cramjam
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.support.protobuf import varint

from spyglass.core.errors import BadInput, LimitExceeded
from spyglass.core.limits import IngestLimits
from spyglass.ingest.remote_write import RemoteWriteDecoder
from spyglass.ingest.remote_write._snappy import decompress_block, max_decoded_length

LIMIT = 1 << 20
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# Bodies a confused client sends: anything at all, and anything behind a header that claims a
# size up to snappy's 32-bit maximum (what used to read as "too large").
random_bodies = st.one_of(
    st.binary(max_size=2048),
    st.builds(
        lambda size, rest: varint(size) + rest,
        st.integers(0, 2**32 - 1),
        st.binary(max_size=2048),
    ),
)
# What real senders compress: incompressible bytes and long runs (which reach snappy's densest
# encoding, about 21 output bytes per input byte).
payloads = st.one_of(
    st.binary(max_size=4096),
    st.builds(
        lambda chunk, times: chunk * times,
        st.binary(min_size=1, max_size=16),
        st.integers(1, 50_000),
    ).filter(lambda raw: len(raw) <= LIMIT),
)


@FUZZ
@given(random_bodies)
def test_random_bodies_are_bad_data_never_too_large(body: bytes) -> None:
    """Whatever a body of at most ~2 KiB holds, under a 1 MiB limit it is accepted or refused as
    bad data: no crash, and never the 413 that would tell the sender to shrink its batches."""
    refused: BadInput | None = None
    try:
        RemoteWriteDecoder().decode(body, IngestLimits(max_body_bytes=LIMIT))
    except BadInput as exc:
        refused = exc
    assert getattr(refused, "limit", None) != "max_body_bytes", refused


@FUZZ
@given(payloads)
def test_valid_snappy_within_the_limit_decodes(raw: bytes) -> None:
    body = bytes(cramjam.snappy.compress_raw(raw))
    assert len(raw) <= max_decoded_length(len(body), len(raw))
    assert decompress_block(body, LIMIT) == raw
    assert decompress_block(body, len(raw)) == raw
    assert decompress_block(body, 0) == raw


@FUZZ
@given(payloads.filter(lambda raw: len(raw) > 1))
def test_valid_snappy_over_the_limit_is_too_large(raw: bytes) -> None:
    body = bytes(cramjam.snappy.compress_raw(raw))
    with pytest.raises(LimitExceeded) as err:
        decompress_block(body, len(raw) - 1)
    assert err.value.limit == "max_body_bytes"


def test_densest_snappy_is_plausible() -> None:
    """64 MiB of zeros (the default limit) compresses about 21:1 and still decodes."""
    raw = bytes(64 << 20)
    body = bytes(cramjam.snappy.compress_raw(raw))
    assert len(body) < len(raw) // 20
    assert len(decompress_block(body, len(raw))) == len(raw)


def test_claim_beyond_what_the_body_holds_names_both_sizes() -> None:
    body = varint(2**31) + b"\x00" * 100
    with pytest.raises(BadInput, match=f"claims {2**31} bytes, more than {len(body)} compressed"):
        decompress_block(body, LIMIT)
