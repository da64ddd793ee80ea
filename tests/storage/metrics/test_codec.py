"""WAL record encoding: exact round trip, and arbitrary bytes only ever raise ParseError."""

from __future__ import annotations

import contextlib

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from spyglass.core.errors import ParseError
from spyglass.core.labels import fingerprint, labels_of
from spyglass.core.samples import STALE_NAN, MetricMetadata, SampleBatch
from spyglass.storage.metrics._codec import decode_batch, encode_batch
from spyglass.storage.wal import frame, read_frames

text = st.text(max_size=20)


@st.composite
def batches(draw: st.DrawFn) -> SampleBatch:
    label_sets = draw(
        st.lists(
            st.dictionaries(st.sampled_from(["__name__", "a", "b", "ü"]), text, max_size=4),
            min_size=1,
            max_size=5,
        )
    )
    sets = [labels_of(d) for d in label_sets]
    series = {fingerprint(ls): ls for ls in sets}
    fps = list(series)
    n = draw(st.integers(0, 30))
    idx = draw(st.lists(st.integers(0, len(fps) - 1), min_size=n, max_size=n))
    ts = draw(st.lists(st.integers(-(2**63), 2**63 - 1), min_size=n, max_size=n))
    bits = draw(st.lists(st.integers(0, 2**64 - 1), min_size=n, max_size=n))
    meta = draw(st.dictionaries(text, st.builds(MetricMetadata, text, text, text), max_size=3))
    return SampleBatch(
        series,
        np.array([fps[i] for i in idx], dtype=np.uint64),
        np.array(ts, dtype=np.int64),
        np.array(bits, dtype=np.uint64).view(np.float64),
        meta,
    )


@settings(max_examples=200, deadline=None)
@given(batches())
def test_round_trip_is_exact_to_the_bit(batch: SampleBatch) -> None:
    cache: dict[int, bytes] = {}
    encoded = encode_batch(batch)
    # The label cache changes nothing in the bytes, on first use or on reuse.
    assert encode_batch(batch, cache) == encoded
    assert encode_batch(batch, cache) == encoded
    back = decode_batch(encoded)
    assert dict(back.series) == dict(batch.series)
    assert back.fingerprints.tolist() == batch.fingerprints.tolist()
    assert back.timestamps.tolist() == batch.timestamps.tolist()
    assert back.values.view(np.uint64).tolist() == batch.values.view(np.uint64).tolist()
    assert dict(back.metadata) == dict(batch.metadata)


def test_staleness_marker_and_unicode_labels_round_trip() -> None:
    ls = labels_of({"__name__": "x", "città": 'Zürich\n"q"'})
    b = SampleBatch(
        {fingerprint(ls): ls},
        np.array([fingerprint(ls)], np.uint64),
        np.array([5], np.int64),
        np.array([STALE_NAN]),
    )
    back = decode_batch(encode_batch(b))
    assert back.series == {fingerprint(ls): ls}
    assert back.values.view(np.uint64)[0] == np.array([STALE_NAN]).view(np.uint64)[0]


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_payload_raises_only_parse_error(data: bytes) -> None:
    with contextlib.suppress(ParseError):
        decode_batch(data)


@settings(max_examples=200, deadline=None)
@given(batches(), st.integers(0, 10_000), st.integers(0, 255))
def test_corrupted_payload_raises_only_parse_error(batch: SampleBatch, pos: int, byte: int) -> None:
    raw = bytearray(encode_batch(batch))
    raw[pos % len(raw)] = byte
    with contextlib.suppress(ParseError):
        decode_batch(bytes(raw))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_frame_reader_never_fails_on_arbitrary_bytes(data: bytes) -> None:
    records, valid = read_frames(data)
    assert 0 <= valid <= len(data)
    assert all(isinstance(seq, int) for seq, _ in records)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=40), min_size=1, max_size=5), st.data())
def test_truncated_frames_keep_every_whole_record_before_the_cut(
    payloads: list[bytes], data: st.DataObject
) -> None:
    framed = [frame(i + 1, p) for i, p in enumerate(payloads)]
    blob = b"".join(framed)
    cut = data.draw(st.integers(0, len(blob)))
    records, valid = read_frames(blob[:cut])
    whole = 0
    end = 0
    for f in framed:
        if end + len(f) > cut:
            break
        end += len(f)
        whole += 1
    assert [p for _, p in records] == payloads[:whole]
    assert valid == end
