"""The columnar wire reading (``_wire.scan``) gives exactly what upb gives, or steps aside.

The decoder reads a request with ``scan`` when it can and with upb otherwise; these tests pin
that the two paths agree on every input: the same batch, or ``BadInput`` from both.
"""

from __future__ import annotations

import struct
from unittest import mock

import cramjam
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spyglass.core.errors import BadInput
from spyglass.core.labels import Labels
from spyglass.core.limits import IngestLimits
from spyglass.core.samples import STALE_NAN, SampleBatch
from spyglass.ingest.remote_write import RemoteWriteDecoder, _decoder, _wire, encode_write_request
from spyglass.ingest.remote_write._wire import scan

LIMITS = IngestLimits(max_body_bytes=1 << 22)
PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

names = st.from_regex(r"[a-z_][a-z0-9_]{0,6}", fullmatch=True).filter(lambda n: n != "__name__")
label_sets = st.builds(
    lambda metric, rest: tuple(sorted({"__name__": metric, **rest}.items())),
    st.from_regex(r"[a-z_:][a-z0-9_:]{0,8}", fullmatch=True),
    st.dictionaries(names, st.text(min_size=1, max_size=200), max_size=4),
)
# Zeros matter: proto3 leaves out a zero value or timestamp, and real requests have many.
timestamps = st.one_of(st.just(0), st.integers(-(2**63), 2**63 - 1), st.integers(0, 2**41))
sample_values = st.one_of(
    st.just(0.0), st.just(-0.0), st.just(STALE_NAN), st.floats(allow_nan=True), st.just(1.0)
)
samples = st.lists(st.tuples(timestamps, sample_values), max_size=5)
long_samples = st.lists(st.tuples(timestamps, sample_values), min_size=30, max_size=60)
requests = st.lists(
    st.tuples(label_sets, st.one_of(samples, samples, samples, long_samples)),
    min_size=1,
    max_size=48,
)


def _of_width(width: int) -> st.SearchStrategy[list[tuple[Labels, list[tuple[int, float]]]]]:
    """Requests as a sender of one era writes them: every timestamp's varint ``width`` bytes
    long (today's milliseconds take six), zero values among the others."""
    stamps = st.integers(2 ** (7 * (width - 1)), 2 ** (7 * width) - 1)
    return st.lists(
        st.tuples(label_sets, st.lists(st.tuples(stamps, sample_values), min_size=1, max_size=5)),
        min_size=1,
        max_size=48,
    )


# What ``_wire`` reads in a few numpy steps (``_alike_samples``), widths 1 to 8, and past it.
alike_requests = st.integers(1, 9).flatmap(_of_width)


def upb_only(raw: bytes) -> SampleBatch:
    """The decoder as it was: every request through upb."""
    with mock.patch.object(_decoder, "scan", return_value=None):
        return RemoteWriteDecoder().decode(raw, LIMITS, compressed=False)


def same(a: SampleBatch, b: SampleBatch) -> None:
    assert dict(a.series) == dict(b.series)
    assert a.fingerprints.tolist() == b.fingerprints.tolist()
    assert a.timestamps.tolist() == b.timestamps.tolist()
    assert a.values.view(np.uint64).tolist() == b.values.view(np.uint64).tolist()  # NaN bits
    assert dict(a.metadata) == dict(b.metadata)


def outcome(decode: object, raw: bytes) -> SampleBatch | str:
    try:
        return decode(raw)  # type: ignore[operator, no-any-return]
    except BadInput:
        return "BadInput"


@PROPERTY
@given(requests)
def test_what_senders_encode_is_read_by_scan_as_upb_reads_it(
    series: list[tuple[Labels, list[tuple[int, float]]]],
) -> None:
    raw = encode_write_request(series, compressed=False)
    assert scan(raw) is not None
    same(RemoteWriteDecoder().decode(raw, LIMITS, compressed=False), upb_only(raw))


def damaged(
    series: list[tuple[Labels, list[tuple[int, float]]]], damage: list[tuple[int, int]]
) -> bytes:
    """``series`` encoded, its bytes changed at ``damage``."""
    body = bytearray(encode_write_request(series, compressed=False))
    for at, byte in damage:
        body[at % len(body)] = byte
    return bytes(body)


def reads_alike_when_damaged(
    series: list[tuple[Labels, list[tuple[int, float]]]], damage: list[tuple[int, int]]
) -> None:
    """``series`` encoded, its bytes changed at ``damage``: the columnar path and upb accept the
    same samples or refuse with the same error."""
    raw = damaged(series, damage)
    fast = outcome(lambda r: RemoteWriteDecoder().decode(r, LIMITS, compressed=False), raw)
    slow = outcome(upb_only, raw)
    if isinstance(fast, str) or isinstance(slow, str):
        assert fast == slow
    else:
        same(fast, slow)


@PROPERTY
@given(requests, st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=4))
def test_damaged_requests_give_what_upb_gives(
    series: list[tuple[Labels, list[tuple[int, float]]]], damage: list[tuple[int, int]]
) -> None:
    """Whatever bytes change, both paths accept the same samples or both refuse."""
    reads_alike_when_damaged(series, damage)


@PROPERTY
@given(alike_requests)
def test_requests_of_one_era_read_as_upb_reads_them(
    series: list[tuple[Labels, list[tuple[int, float]]]],
) -> None:
    raw = encode_write_request(series, compressed=False)
    same(RemoteWriteDecoder().decode(raw, LIMITS, compressed=False), upb_only(raw))


@PROPERTY
@given(alike_requests, st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=3))
def test_damaged_requests_of_one_era_give_what_upb_gives(
    series: list[tuple[Labels, list[tuple[int, float]]]], damage: list[tuple[int, int]]
) -> None:
    reads_alike_when_damaged(series, damage)


def test_todays_timestamps_take_the_few_steps_path() -> None:
    """Samples with six-byte timestamps, a zero value left out among them, are read by
    ``_alike_samples`` (the property tests above pin that what it reads is upb's answer)."""
    now = 1_765_000_000_000
    series = [
        ((("__name__", "up"), ("job", str(i))), [(now, 1.0), (now + 15_000, 0.0)])
        for i in range(40)
    ]
    raw = encode_write_request(series, compressed=False)
    answers: list[object] = []
    original = _wire._alike_samples

    def alike(*args: object) -> object:
        answers.append(original(*args))  # type: ignore[arg-type]
        return answers[-1]

    with mock.patch.object(_wire, "_alike_samples", alike):
        batch = RemoteWriteDecoder().decode(raw, LIMITS, compressed=False)
    assert len(answers) == 1
    assert answers[0] is not None
    assert batch.timestamps.tolist() == [now, now + 15_000] * 40
    assert batch.values.tolist() == [1.0, 0.0] * 40


def _len(payload: bytes) -> bytes:
    out = bytearray()
    n = len(payload)
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out) + payload


def _label(name: str, value: str) -> bytes:
    return b"\x0a" + _len(b"\x0a" + _len(name.encode()) + b"\x12" + _len(value.encode()))


def _sample(body: bytes) -> bytes:
    return b"\x12" + _len(body)


VALUE = b"\x09" + struct.pack("<d", 2.5)
STAMP = b"\x10\x90\x4e"  # 10,000


def test_layouts_no_real_sender_writes_are_left_to_upb() -> None:
    """Samples before labels, timestamp before value, a value written twice, an unknown
    field: ``scan`` steps aside and the decoder answers what protobuf's rules say."""
    name = _label("__name__", "up")
    cases = [
        _sample(VALUE + STAMP) + name,
        name + _sample(STAMP + VALUE),
        name + _sample(b"\x09" + struct.pack("<d", 1.0) + VALUE + STAMP) + _sample(STAMP),
        name + _sample(VALUE + STAMP) + b"\x28\x01",
    ]
    for body in cases:
        raw = b"\x0a" + _len(body)
        assert scan(raw) is None
        batch = RemoteWriteDecoder().decode(raw, LIMITS, compressed=False)
        same(batch, upb_only(raw))
        assert batch.values[0] == 2.5  # the last value written wins, as protobuf says


def test_left_out_zeros_read_as_zero() -> None:
    name = _label("__name__", "up")
    raw = b"\x0a" + _len(name + _sample(b"") + _sample(VALUE) + _sample(STAMP))
    assert scan(raw) is not None
    batch = RemoteWriteDecoder().decode(raw, LIMITS, compressed=False)
    assert batch.timestamps.tolist() == [0, 0, 10_000]
    assert batch.values.tolist() == [0.0, 2.5, 0.0]


def test_a_compressed_request_with_metadata_keeps_it() -> None:
    from spyglass.core.samples import MetricMetadata  # noqa: PLC0415

    md = {"up": MetricMetadata("gauge", "Whether the target is up.", "")}
    body = encode_write_request([((("__name__", "up"),), [(1000, 1.0)])], md)
    batch = RemoteWriteDecoder().decode(body, LIMITS)
    assert dict(batch.metadata) == md
    assert scan(bytes(cramjam.snappy.decompress_raw(body))) is not None


@PROPERTY
@given(requests, st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=4))
def test_series_placed_from_upb_are_where_the_walk_finds_them(
    series: list[tuple[Labels, list[tuple[int, float]]]], damage: list[tuple[int, int]]
) -> None:
    """The entries' lengths from one upb parse place every series where walking the request
    entry by entry does, intact or damaged; when they cannot, the walk decides."""
    raw = damaged(series, damage)
    placed = _wire._entry_spans(raw)
    if placed is None:
        return
    walked = _wire._series_spans(raw)
    assert walked is not None
    assert placed[0].tolist() == walked[0].tolist()
    assert placed[1].tolist() == walked[1].tolist()
    assert placed[2] == walked[2]


def test_padded_lengths_and_metadata_are_walked_entry_by_entry() -> None:
    """A length written in more bytes than it needs, or metadata among the series, is left
    to the walk, which reads the same samples as upb."""
    entry = _label("__name__", "up") + _sample(VALUE + STAMP)
    padded = b"\x0a" + bytes([len(entry) | 0x80, 0x00]) + entry
    metadata = b"\x1a" + _len(b"\x12\x02up")
    for raw in (padded + b"\x0a" + _len(entry), b"\x0a" + _len(entry) + metadata):
        assert _wire._entry_spans(raw) is None
        assert scan(raw) is not None
        same(RemoteWriteDecoder().decode(raw, LIMITS, compressed=False), upb_only(raw))
