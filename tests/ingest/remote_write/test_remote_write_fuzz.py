"""Whatever bytes arrive, the decoder answers with a batch or ``BadInput``; never anything else."""

from __future__ import annotations

import math

import cramjam
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spyglass.core.errors import BadInput
from spyglass.core.labels import Labels
from spyglass.core.limits import IngestLimits
from spyglass.ingest.remote_write import RemoteWriteDecoder, encode_write_request

LIMITS = IngestLimits(max_body_bytes=1 << 20)
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

names = st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_]{0,10}", fullmatch=True).filter(
    lambda n: n != "__name__"
)
values = st.text(min_size=1, max_size=12)
label_sets = st.builds(
    lambda metric, rest: tuple(sorted({"__name__": metric, **rest}.items())),
    st.from_regex(r"[a-zA-Z_:][a-zA-Z0-9_:]{0,15}", fullmatch=True),
    st.dictionaries(names, values, max_size=5),
)
samples = st.lists(
    st.tuples(st.integers(-(2**62), 2**62), st.floats(allow_nan=False)), min_size=1, max_size=4
)
requests = st.lists(st.tuples(label_sets, samples), min_size=1, max_size=6)


def _decode_or_bad_input(body: bytes, *, compressed: bool) -> None:
    try:
        batch = RemoteWriteDecoder().decode(body, LIMITS, compressed=compressed)
    except BadInput:
        return
    # Whatever was accepted is a consistent batch of valid series.
    assert len(batch.timestamps) == len(batch.values) == len(batch)
    for fp in set(batch.fingerprints.tolist()):
        labels = batch.series[fp]
        assert labels == tuple(sorted(labels))
        assert dict(labels).get("__name__")


@FUZZ
@given(st.binary(max_size=2048))
def test_arbitrary_bytes(body: bytes) -> None:
    _decode_or_bad_input(body, compressed=True)
    _decode_or_bad_input(body, compressed=False)


@FUZZ
@given(st.binary(max_size=2048))
def test_arbitrary_protobuf_inside_valid_snappy(raw: bytes) -> None:
    _decode_or_bad_input(bytes(cramjam.snappy.compress_raw(raw)), compressed=True)


@FUZZ
@given(requests, st.data())
def test_mutated_valid_requests(
    series: list[tuple[Labels, list[tuple[int, float]]]], data: st.DataObject
) -> None:
    raw = bytearray(encode_write_request(series, compressed=False))
    for _ in range(data.draw(st.integers(1, 4))):
        pos = data.draw(st.integers(0, len(raw) - 1))
        op = data.draw(st.sampled_from(["flip", "delete", "insert"]))
        if op == "flip":
            raw[pos] ^= data.draw(st.integers(1, 255))
        elif op == "delete":
            del raw[pos]
        else:
            raw.insert(pos, data.draw(st.integers(0, 255)))
        if not raw:
            break
    _decode_or_bad_input(bytes(raw), compressed=False)
    _decode_or_bad_input(bytes(cramjam.snappy.compress_raw(bytes(raw))), compressed=True)


@FUZZ
@given(requests)
def test_round_trip(series: list[tuple[Labels, list[tuple[int, float]]]]) -> None:
    batch = RemoteWriteDecoder().decode(encode_write_request(series), LIMITS)
    got = [
        (batch.series[int(fp)], int(t), float(v))
        for fp, t, v in zip(batch.fingerprints, batch.timestamps, batch.values, strict=True)
    ]
    want = [(ls, t, v) for ls, ss in series for t, v in ss]
    assert len(got) == len(want)
    for (gl, gt, gv), (wl, wt, wv) in zip(got, want, strict=True):
        assert (gl, gt) == (wl, wt)
        assert gv == wv or (math.isnan(gv) and math.isnan(wv))
