"""The receivers' label-set cache stays within its entry and byte bounds and keeps the newest."""

from __future__ import annotations

import sys

from spyglass.core.labels import Labels
from spyglass.core.limits import IngestLimits
from spyglass.ingest._series_cache import SeriesCache, label_set_bytes
from spyglass.ingest.otlp import MetricsConverter
from spyglass.ingest.remote_write import RemoteWriteDecoder, encode_write_request

LIMITS = IngestLimits()


def labels(i: int) -> Labels:
    return (("__name__", "up"), ("instance", f"10.0.0.{i}:9100"), ("job", "node"))


def test_the_estimate_is_near_what_python_allocates() -> None:
    ls = labels(1)
    real = sys.getsizeof(ls) + sum(
        sys.getsizeof(p) + sys.getsizeof(p[0]) + sys.getsizeof(p[1]) for p in ls
    )
    assert 0.8 * real <= label_set_bytes(ls) <= 1.25 * real


def test_past_the_byte_bound_the_oldest_quarter_goes() -> None:
    one = label_set_bytes(labels(0)) + 64
    cache: SeriesCache[Labels, int] = SeriesCache(
        lambda k, v: label_set_bytes(k), max_entries=1000, max_bytes=40 * one
    )
    entries = cache.for_limits(LIMITS)
    for i in range(100):
        cache.put(entries, labels(i), i)
        assert cache.bytes <= 40 * one
    assert 30 <= len(cache) <= 40
    assert labels(99) in entries
    assert labels(0) not in entries
    assert cache.bytes == sum(label_set_bytes(k) + 64 for k in entries)


def test_other_limits_empty_it() -> None:
    cache: SeriesCache[Labels, int] = SeriesCache(lambda k, v: 100)
    cache.put(cache.for_limits(LIMITS), labels(1), 1)
    assert len(cache) == 1
    assert not cache.for_limits(IngestLimits(max_labels_per_series=3))
    assert cache.bytes == 0


def test_receivers_report_and_bound_their_cache_bytes() -> None:
    decoder = RemoteWriteDecoder(cache_bytes=20_000)
    for i in range(200):
        decoder.decode(encode_write_request([(labels(i), [(1000, 1.0)])]), LIMITS)
    assert 0 < decoder.cached_series_bytes <= 20_000
    assert decoder.cached_series < 200
    assert MetricsConverter(cache_bytes=1).cached_series_bytes == 0
