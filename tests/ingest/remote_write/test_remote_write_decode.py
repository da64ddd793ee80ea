"""remote_write 1.0 bodies decode into the samples, labels and metadata a sender put in them."""

from __future__ import annotations

import math
import struct

import cramjam
import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from tests.support.protobuf import varint

import spyglass.ingest.remote_write as rw
from spyglass.core.errors import BadInput, LimitExceeded
from spyglass.core.exemplars import MAX_EXEMPLAR_LABEL_RUNES, Exemplar, exemplar_label_runes
from spyglass.core.labels import Labels, fingerprint, labels_of
from spyglass.core.limits import IngestLimits
from spyglass.core.samples import STALE_NAN, MetricMetadata, SampleBatch, is_stale
from spyglass.ingest.remote_write import (
    RemoteWriteDecoder,
    decode_write_request,
    encode_write_request,
)

LIMITS = IngestLimits()


def _ld(field: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field, written by hand from the wire-format spec."""
    return varint(field << 3 | 2) + varint(len(payload)) + payload


def _label(name: str, value: str) -> bytes:
    return _ld(1, name.encode()) + _ld(2, value.encode())


def _sample(value: float, ts: int) -> bytes:
    return b"\x09" + struct.pack("<d", value) + b"\x10" + varint(ts)


def _rows(batch: SampleBatch) -> list[tuple[Labels, int, float]]:
    return [
        (batch.series[int(fp)], int(t), float(v))
        for fp, t, v in zip(batch.fingerprints, batch.timestamps, batch.values, strict=True)
    ]


def test_public_surface() -> None:
    assert sorted(rw.__all__) == [
        "RemoteWriteDecoder",
        "decode_write_request",
        "encode_write_request",
    ]


def test_hand_encoded_request_decodes() -> None:
    """Field numbers follow prompb: TimeSeries 1=labels 2=samples, Sample 1=value 2=timestamp."""
    ts = (
        _ld(1, _label("__name__", "http_requests_total"))
        + _ld(1, _label("job", "api"))
        + _ld(2, _sample(3.5, 1_700_000_000_123))
        + _ld(2, _sample(4.0, 1_700_000_015_123))
    )
    # MetricMetadata: 1=type (COUNTER=1), 2=metric_family_name, 4=help, 5=unit
    md = b"\x08\x01" + _ld(2, b"http_requests_total") + _ld(4, b"Requests.") + _ld(5, b"")
    body = bytes(cramjam.snappy.compress_raw(_ld(1, ts) + _ld(3, md)))
    batch = decode_write_request(body, LIMITS)
    labels = (("__name__", "http_requests_total"), ("job", "api"))
    assert _rows(batch) == [
        (labels, 1_700_000_000_123, 3.5),
        (labels, 1_700_000_015_123, 4.0),
    ]
    assert batch.metadata == {"http_requests_total": MetricMetadata("counter", "Requests.", "")}
    assert int(batch.fingerprints[0]) == fingerprint(labels)


def test_round_trip_many_series_and_metadata() -> None:
    series = [
        (labels_of({"__name__": "up", "job": "node", "instance": f"h{i}"}), [(1000 * i, float(i))])
        for i in range(50)
    ]
    series.append((labels_of({"__name__": "temp_celsius"}), [(1, -1.5), (2, math.inf), (3, 0.0)]))
    metadata = {
        "up": MetricMetadata("gauge", "Target is up.", ""),
        "temp_celsius": MetricMetadata("gauge", "Temperature.", "celsius"),
    }
    batch = decode_write_request(encode_write_request(series, metadata), LIMITS)
    expected = [(ls, t, v) for ls, samples in series for t, v in samples]
    assert _rows(batch) == expected
    assert batch.metadata == metadata


def test_uncompressed_body() -> None:
    body = encode_write_request([(labels_of({"__name__": "x"}), [(5, 2.0)])], compressed=False)
    batch = decode_write_request(body, LIMITS, compressed=False)
    assert _rows(batch) == [((("__name__", "x"),), 5, 2.0)]


def test_unsorted_labels_are_sorted_like_prometheus_does() -> None:
    ts = _ld(1, _label("zone", "b")) + _ld(1, _label("__name__", "m")) + _ld(1, _label("app", "a"))
    ts += _ld(2, _sample(1.0, 10))
    batch = decode_write_request(_ld(1, ts), LIMITS, compressed=False)
    assert _rows(batch) == [((("__name__", "m"), ("app", "a"), ("zone", "b")), 10, 1.0)]


def test_empty_label_value_means_no_label() -> None:
    ts = _ld(1, _label("__name__", "m")) + _ld(1, _label("env", "")) + _ld(2, _sample(1.0, 10))
    batch = decode_write_request(_ld(1, ts), LIMITS, compressed=False)
    assert list(batch.series.values()) == [(("__name__", "m"),)]


def test_staleness_marker_survives_bit_for_bit() -> None:
    body = encode_write_request([(labels_of({"__name__": "x"}), [(1, STALE_NAN), (2, math.nan)])])
    batch = decode_write_request(body, LIMITS)
    assert is_stale(float(batch.values[0]))
    assert math.isnan(batch.values[1])
    assert not is_stale(float(batch.values[1]))


def test_series_without_samples_contribute_nothing() -> None:
    body = encode_write_request([(labels_of({"__name__": "x"}), [])])
    batch = decode_write_request(body, LIMITS)
    assert len(batch) == 0
    assert batch.series == {}


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        ([("__name__", "m"), ("a", "1"), ("a", "2")], "duplicate label name"),
        ([("job", "x")], "no metric name"),
        ([("__name__", "m"), ("bad-name", "1")], "invalid label name"),
        ([("__name__", "m"), ("1abc", "1")], "invalid label name"),
    ],
)
def test_bad_series_are_refused(labels: list[tuple[str, str]], message: str) -> None:
    ts = b"".join(_ld(1, _label(n, v)) for n, v in labels) + _ld(2, _sample(1.0, 1))
    with pytest.raises(BadInput, match=message):
        RemoteWriteDecoder().decode(_ld(1, ts), LIMITS, compressed=False)


def test_invalid_utf8_label_is_refused() -> None:
    ts = _ld(1, _ld(1, b"__name__") + _ld(2, b"\xff\xfe")) + _ld(2, _sample(1.0, 1))
    with pytest.raises(BadInput):
        RemoteWriteDecoder().decode(_ld(1, ts), LIMITS, compressed=False)


def test_not_snappy_is_refused() -> None:
    with pytest.raises(BadInput, match="snappy"):
        decode_write_request(b" not snappy at all", LIMITS)


def test_snappy_framed_format_is_refused() -> None:
    """remote_write uses the block format; a framed stream is a client bug worth a clear 400."""
    raw = encode_write_request([(labels_of({"__name__": "x"}), [(1, 1.0)])], compressed=False)
    framed = bytes(cramjam.snappy.compress(raw))
    with pytest.raises(BadInput):
        decode_write_request(framed, LIMITS)


def test_not_protobuf_is_refused() -> None:
    with pytest.raises(BadInput, match="protobuf"):
        decode_write_request(bytes(cramjam.snappy.compress_raw(b"\x0a\xff\xff\x01")), LIMITS)


def test_series_count_limit() -> None:
    series = [(labels_of({"__name__": f"m{i}"}), [(1, 1.0)]) for i in range(3)]
    with pytest.raises(LimitExceeded) as err:
        decode_write_request(encode_write_request(series), IngestLimits(max_series_per_request=2))
    assert err.value.limit == "max_series_per_request"


def test_label_value_limit() -> None:
    body = encode_write_request([(labels_of({"__name__": "m", "a": "x" * 100}), [(1, 1.0)])])
    with pytest.raises(LimitExceeded) as err:
        RemoteWriteDecoder().decode(body, IngestLimits(max_label_value_length=10))
    assert err.value.limit == "max_label_value_length"


def test_decompression_bomb_is_refused_before_inflating() -> None:
    raw = encode_write_request(
        [(labels_of({"__name__": "m", "a": "x" * 4000}), [(1, 1.0)])], compressed=False
    )
    body = encode_write_request([(labels_of({"__name__": "m", "a": "x" * 4000}), [(1, 1.0)])])
    assert len(body) < 1000 < len(raw)
    with pytest.raises(LimitExceeded) as err:
        decode_write_request(body, IngestLimits(max_body_bytes=1000))
    assert err.value.limit == "max_body_bytes"


def test_limits_are_rechecked_for_cached_series() -> None:
    """A series accepted under loose limits is not waved through under stricter ones."""
    decoder = RemoteWriteDecoder()
    body = encode_write_request([(labels_of({"__name__": "m", "a": "x" * 100}), [(1, 1.0)])])
    assert len(decoder.decode(body, LIMITS)) == 1
    with pytest.raises(LimitExceeded):
        decoder.decode(body, IngestLimits(max_label_value_length=10))


def test_native_histograms_are_skipped_and_counted() -> None:
    histogram = b"\x08\x05"  # Histogram{count_int: 5}; content is not decoded
    ts = (
        _ld(1, _label("__name__", "latency"))
        + _ld(2, _sample(7.0, 100))
        + _ld(4, histogram)
        + _ld(4, histogram)
        + _ld(3, _ld(1, _label("trace_id", "abc")))
    )
    decoder = RemoteWriteDecoder()
    batch = decoder.decode(_ld(1, ts), LIMITS, compressed=False)
    assert _rows(batch) == [((("__name__", "latency"),), 100, 7.0)]
    assert decoder.histograms_skipped == 2
    assert decoder.exemplars_skipped == 1


def test_same_series_across_requests_keeps_its_fingerprint() -> None:
    decoder = RemoteWriteDecoder()
    labels = labels_of({"__name__": "up", "job": "a"})
    first = decoder.decode(encode_write_request([(labels, [(1, 1.0)])]), LIMITS)
    second = decoder.decode(encode_write_request([(labels, [(2, 0.0)])]), LIMITS)
    assert first.fingerprints.tolist() == second.fingerprints.tolist() == [fingerprint(labels)]
    assert decoder.cached_series == 1


def test_decode_write_request_keeps_nothing_between_calls() -> None:
    """The convenience function counts on the decoder it is given, or on a fresh one: no
    module-level decoder holds a cache or counters nobody can see."""
    import spyglass.ingest.remote_write._decoder as decoder_module  # noqa: PLC0415

    decoder = RemoteWriteDecoder()
    body = encode_write_request([(labels_of({"__name__": "up"}), [(1, 1.0)])])
    decode_write_request(body, LIMITS, decoder=decoder)
    decode_write_request(body, LIMITS)
    assert decoder.cached_series == 1
    kept = [n for n, v in vars(decoder_module).items() if isinstance(v, RemoteWriteDecoder)]
    assert kept == []


def test_label_cache_is_bounded() -> None:
    decoder = RemoteWriteDecoder(cache_size=8)
    for i in range(100):
        body = encode_write_request([(labels_of({"__name__": f"m{i}"}), [(1, float(i))])])
        batch = decoder.decode(body, LIMITS)
        assert batch.series[int(batch.fingerprints[0])] == (("__name__", f"m{i}"),)
    assert 0 < decoder.cached_series <= 8


def test_arrays_have_storage_dtypes() -> None:
    batch = decode_write_request(
        encode_write_request([(labels_of({"__name__": "x"}), [(1, 1.0)])]), LIMITS
    )
    assert batch.fingerprints.dtype == np.uint64
    assert batch.timestamps.dtype == np.int64
    assert batch.values.dtype == np.float64


def test_header_claiming_more_than_the_body_can_hold_is_not_snappy() -> None:
    """A 12-byte body cannot inflate to 4 GiB: that is not snappy, not a body that is too big."""
    with pytest.raises(BadInput, match="not snappy-compressed") as err:
        decode_write_request(b"\xff\xff\xff\xff\x0fgarbage", LIMITS)
    assert not isinstance(err.value, LimitExceeded)


def test_plausible_claim_over_the_limit_is_too_large() -> None:
    """A real snappy body that inflates past max_body_bytes is refused as too large, before
    inflating, and its error names the limit to raise."""
    raw = encode_write_request(
        [(labels_of({"__name__": "m", "a": "x" * 4000}), [(1, 1.0)])], compressed=False
    )
    body = bytes(cramjam.snappy.compress_raw(raw))
    with pytest.raises(LimitExceeded, match=f"decompresses to {len(raw)} bytes") as err:
        decode_write_request(body, IngestLimits(max_body_bytes=len(raw) - 1))
    assert err.value.limit == "max_body_bytes"
    assert len(decode_write_request(body, IngestLimits(max_body_bytes=len(raw)))) == 1


def test_exemplars_come_back_with_their_series_and_long_ones_are_dropped_not_the_request() -> None:
    latency = labels_of({"__name__": "latency_bucket", "le": "0.5"})
    other = labels_of({"__name__": "other_total"})
    good = Exemplar(latency, (("span_id", "b" * 16), ("trace_id", "a" * 32)), 0.31, 1_000)
    too_long = Exemplar(latency, (("trace_id", "x" * 121),), 0.4, 2_000)  # 129 characters
    body = encode_write_request(
        [(latency, [(1_000, 3.0)]), (other, [(1_000, 1.0)])], exemplars=[good, too_long]
    )
    decoder = RemoteWriteDecoder()
    batch, exemplars = decoder.decode_with_exemplars(body, LIMITS)
    assert len(batch) == 2
    assert exemplars == [good]
    assert decoder.exemplars_skipped == 1
    # plain decode skips every exemplar and counts them
    assert len(decoder.decode(body, LIMITS)) == 2
    assert decoder.exemplars_skipped == 3
    # a request without exemplars reads none
    assert (
        decoder.decode_with_exemplars(encode_write_request([(other, [(1, 1.0)])]), LIMITS)[1] == []
    )


_name = st.from_regex(r"[a-z_][a-z0-9_]{0,5}", fullmatch=True)
_value = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=8)


@given(
    st.lists(
        st.tuples(
            st.dictionaries(_name, _value, min_size=1, max_size=3),
            st.floats(allow_nan=False),
            st.integers(-(2**62), 2**62),
        ),
        max_size=6,
    )
)
def test_every_exemplar_round_trips_through_remote_write(
    rows: list[tuple[dict[str, str], float, int]],
) -> None:
    series = labels_of({"__name__": "m_bucket", "le": "1"})
    want = [Exemplar(series, labels_of(labels), v, t) for labels, v, t in rows]
    want = [e for e in want if exemplar_label_runes(e.labels) <= MAX_EXEMPLAR_LABEL_RUNES]
    body = encode_write_request([(series, [(0, 1.0)])], exemplars=want)
    _, got = RemoteWriteDecoder().decode_with_exemplars(body, LIMITS)
    assert got == want


@given(
    st.lists(
        st.lists(
            st.tuples(st.dictionaries(_name, _value, min_size=1, max_size=2), st.floats()),
            max_size=3,
        ),
        min_size=1,
        max_size=80,
    )
)
# Enough series with several exemplars each that the scan walks their exemplars side by side.
@example([[({"trace_id": f"{i}a"}, 1.0), ({"trace_id": f"{i}b"}, 2.0)] for i in range(40)])
def test_exemplars_read_in_place_equal_a_full_protobuf_parse(
    per_series: list[list[tuple[dict[str, str], float]]],
) -> None:
    """The columnar reader takes each exemplar from where the scan found it; a request it
    cannot read goes through upb. Both give the same exemplars, in request order, with their
    series, whether the request holds a few series or enough for the vectorised walk."""
    samples, sent = [], []
    for i, exemplars in enumerate(per_series):
        series = labels_of({"__name__": "m_bucket", "le": str(i)})
        samples.append((series, [(1_000, float(i))]))
        sent.extend(Exemplar(series, labels_of(lb), v, 1_000 + i) for lb, v in exemplars)
    body = encode_write_request(samples, exemplars=sent)
    columnar = RemoteWriteDecoder()
    batch, got = columnar.decode_with_exemplars(body, LIMITS)
    assert rw._decoder.scan(bytes(cramjam.snappy.decompress_raw(body))) is not None
    upb = RemoteWriteDecoder()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(rw._decoder, "scan", lambda raw: None)
        upb_batch, want = upb.decode_with_exemplars(body, LIMITS)
    assert _rows(batch) == _rows(upb_batch)
    assert [(e.series, e.labels, e.timestamp_ms) for e in got] == [
        (e.series, e.labels, e.timestamp_ms) for e in want
    ]
    assert np.array_equal([e.value for e in got], [e.value for e in want], equal_nan=True)
    kept = [e for e in sent if exemplar_label_runes(e.labels) <= MAX_EXEMPLAR_LABEL_RUNES]
    assert [(e.series, e.labels) for e in got] == [(e.series, e.labels) for e in kept]
    assert columnar.exemplars_skipped == upb.exemplars_skipped == len(sent) - len(kept)
