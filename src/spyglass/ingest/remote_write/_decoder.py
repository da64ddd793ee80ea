"""Decode a remote_write 1.0 request body into a ``SampleBatch``.

What Prometheus' own receiver does, and where we differ:

* Labels need not arrive sorted: Prometheus sorts them on receipt, so do we.
* Empty label values are dropped (an empty value means "no such label" in Prometheus).
* A series with a duplicate label name, an invalid label name or no ``__name__`` refuses the whole
  request with ``BadInput`` (HTTP 400). Prometheus skips such series and stores the rest; the
  remote-write spec asks for a 400, and a 400 is what tells a sender that its data is wrong.
* Native histogram samples (TimeSeries field 4) are skipped and counted in
  ``RemoteWriteDecoder.histograms_skipped``: native histograms are not stored yet, and refusing the
  request would make Prometheus drop the float samples travelling with them.
* Exemplars: ``decode_with_exemplars`` returns them with their series' label sets; one whose
  labels exceed 128 characters is dropped and counted in ``exemplars_skipped``, as Prometheus
  drops it and keeps the request. ``decode`` skips and counts them all.
* A body whose snappy header claims more than its bytes can decode to is not snappy (``BadInput``);
  only a plausible claim over ``max_body_bytes`` is ``LimitExceeded`` (``_snappy`` explains).
"""

from __future__ import annotations

import itertools
import threading
from operator import itemgetter
from typing import Any, cast

import numpy as np
from google.protobuf.message import DecodeError

from spyglass.core.errors import BadInput, LimitExceeded
from spyglass.core.exemplars import MAX_EXEMPLAR_LABEL_RUNES, Exemplar, exemplar_label_runes
from spyglass.core.labels import Labels, fingerprint
from spyglass.core.limits import IngestLimits, check_series, check_series_count
from spyglass.core.samples import MetricMetadata, SampleBatch
from spyglass.ingest._series_cache import DEFAULT_MAX_BYTES, SeriesCache, label_set_bytes
from spyglass.ingest.remote_write._schema import (
    METRIC_TYPES,
    ExtrasWriteRequest,
    Label,
    LazyTimeSeries,
    LazyWriteRequest,
)
from spyglass.ingest.remote_write._schema import (
    Exemplar as ExemplarMessage,
)
from spyglass.ingest.remote_write._snappy import decompress_block
from spyglass.ingest.remote_write._wire import Scan, scan

DEFAULT_CACHE_SIZE = 500_000
# A series' labels as the cache knows them: the label fields' bytes as one slice (``scan``), or
# each label's encoding (upb, for requests ``scan`` leaves alone); the two never compare equal.
_Key = bytes | tuple[bytes, ...]


class RemoteWriteDecoder:
    """Decodes remote_write bodies, remembering label sets it has seen and counting what it skips.

    Whoever runs a receiver makes one and keeps it (its counters belong on that server's
    ``/metrics``); there is no process-wide instance. The cache maps a series' raw label
    encoding to its fingerprint and label set; it holds at most ``cache_size`` entries and about
    ``cache_bytes`` of them (``ingest.SeriesCache``). Safe to share between threads.
    """

    def __init__(
        self, cache_size: int = DEFAULT_CACHE_SIZE, cache_bytes: int = DEFAULT_MAX_BYTES
    ) -> None:
        if cache_size < 1:
            raise ValueError("cache_size must be positive")
        self.cache_size = cache_size
        self._cache: SeriesCache[_Key, tuple[int, Labels]] = SeriesCache(
            _entry_bytes, cache_size, cache_bytes
        )
        self._lock = threading.Lock()
        self.histograms_skipped = 0
        self.exemplars_skipped = 0

    @property
    def cached_series(self) -> int:
        """How many label sets the cache holds now."""
        return len(self._cache)

    @property
    def cached_series_bytes(self) -> int:
        """About how many bytes those label sets take."""
        return self._cache.bytes

    def decode(self, body: bytes, limits: IngestLimits, *, compressed: bool = True) -> SampleBatch:
        """Decode one request body (snappy block format unless ``compressed`` is false);
        exemplars are skipped and counted."""
        raw = self._raw(body, limits, compressed)
        batch, exemplars = self._decode(raw, limits)
        if exemplars:
            with self._lock:
                self.exemplars_skipped += exemplars
        return batch

    def decode_with_exemplars(
        self, body: bytes, limits: IngestLimits, *, compressed: bool = True
    ) -> tuple[SampleBatch, list[Exemplar]]:
        """``decode``, and the request's exemplars too.

        As Prometheus' receiver: an exemplar whose labels exceed OpenMetrics' 128 characters is
        dropped (counted in ``exemplars_skipped``), never the request. Only requests that carry
        exemplars pay for reading them.
        """
        raw = self._raw(body, limits, compressed)
        columns = scan(raw)
        if columns is None:
            batch, count = self._decode_upb(raw, limits)
            return batch, (self._exemplars(raw, limits) if count else [])
        batch, known = self._from_columns(raw, columns, limits)
        return batch, (self._exemplars_at(raw, columns, known) if columns.exemplars else [])

    def _raw(self, body: bytes, limits: IngestLimits, compressed: bool) -> bytes:
        raw = _decompress(body, limits) if compressed else body
        if limits.max_body_bytes and len(raw) > limits.max_body_bytes:
            raise LimitExceeded(
                "max_body_bytes", limits.max_body_bytes, f"request body is {len(raw)} bytes"
            )
        return raw

    def _exemplars_at(
        self, raw: bytes, columns: Scan, known: list[tuple[int, Labels]]
    ) -> list[Exemplar]:
        """The exemplars ``scan`` found, each read alone (no second pass over the request)."""
        out: list[Exemplar] = []
        msg = ExemplarMessage()
        spans = zip(
            columns.exemplar_series.tolist(),
            columns.exemplar_starts.tolist(),
            columns.exemplar_ends.tolist(),
            strict=True,
        )
        for i, start, end in spans:
            try:
                msg.ParseFromString(raw[start:end])
            except DecodeError as e:
                raise BadInput(f"remote_write: malformed exemplar: {e}") from None
            self._keep(out, known[i][1], msg)
        dropped = columns.exemplars - len(out)
        if dropped:
            with self._lock:
                self.exemplars_skipped += dropped
        return out

    @staticmethod
    def _keep(out: list[Exemplar], series: Labels, msg: Any) -> None:
        """Add the exemplar ``msg`` unless its labels are longer than OpenMetrics allows."""
        labels = tuple(sorted((lb.name, lb.value) for lb in msg.labels if lb.value))
        if exemplar_label_runes(labels) <= MAX_EXEMPLAR_LABEL_RUNES:
            out.append(Exemplar(series, labels, msg.value, msg.timestamp))

    def _exemplars(self, raw: bytes, limits: IngestLimits) -> list[Exemplar]:
        req = LazyWriteRequest()
        try:
            req.ParseFromString(raw)
        except DecodeError as e:
            raise BadInput(f"remote_write: malformed protobuf WriteRequest: {e}") from None
        cache = self._cache_for(limits)
        out: list[Exemplar] = []
        total = 0
        msg = ExemplarMessage()
        for ts in req.timeseries:
            if not ts.exemplars:
                continue
            key = tuple(ts.labels[:])
            hit = cache.get(key)
            if hit is None:
                hit = self._remember(cache, key, limits, key)
            for encoded in ts.exemplars:
                try:
                    msg.ParseFromString(encoded)
                except DecodeError as e:
                    raise BadInput(f"remote_write: malformed exemplar: {e}") from None
                total += 1
                self._keep(out, hit[1], msg)
        dropped = total - len(out)
        if dropped:
            with self._lock:
                self.exemplars_skipped += dropped
        return out

    def _decode(self, raw: bytes, limits: IngestLimits) -> tuple[SampleBatch, int]:
        """The samples of ``raw`` and how many exemplars it carries."""
        columns = scan(raw)
        if columns is not None:
            return self._from_columns(raw, columns, limits)[0], columns.exemplars
        return self._decode_upb(raw, limits)

    def _decode_upb(self, raw: bytes, limits: IngestLimits) -> tuple[SampleBatch, int]:
        """``_decode`` for a request ``scan`` cannot read, through upb."""
        req = LazyWriteRequest()
        try:
            req.ParseFromString(raw)
        except DecodeError as e:
            raise BadInput(f"remote_write: malformed protobuf WriteRequest: {e}") from None

        timeseries = req.timeseries
        check_series_count(len(timeseries), limits)
        cache = self._cache_for(limits)

        series: dict[int, Labels] = {}
        fps: list[int] = []
        tss: list[int] = []
        vals: list[float] = []
        for ts in timeseries:
            # Slicing first is much cheaper than tuple() on upb's repeated container.
            key = tuple(ts.labels[:])
            hit = cache.get(key)
            if hit is None:
                hit = self._remember(cache, key, limits, key)
            fp, labels = hit
            samples = ts.samples
            n = len(samples)
            if n == 1:
                s = samples[0]
                fps.append(fp)
                tss.append(s.timestamp)
                vals.append(s.value)
            elif n:
                fps.extend(itertools.repeat(fp, n))
                for s in samples:
                    tss.append(s.timestamp)
                    vals.append(s.value)
            if n:
                series[fp] = labels
        exemplars = 0
        if timeseries:
            extras = ExtrasWriteRequest()
            try:
                extras.ParseFromString(raw)
            except DecodeError as e:
                raise BadInput(f"remote_write: malformed protobuf WriteRequest: {e}") from None
            exemplars = len(extras.timeseries.exemplars)
            with self._lock:
                self.histograms_skipped += len(extras.timeseries.histograms)

        batch = SampleBatch(
            series,
            np.array(fps, dtype=np.uint64),
            np.array(tss, dtype=np.int64),
            np.array(vals, dtype=np.float64),
            _metadata(req),
        )
        return batch, exemplars

    def _from_columns(
        self, raw: bytes, columns: Scan, limits: IngestLimits
    ) -> tuple[SampleBatch, list[tuple[int, Labels]]]:
        """The batch of a request ``scan`` could read (a Python step per series, none per
        sample), and each series' fingerprint and labels in request order."""
        keys = columns.keys
        check_series_count(len(keys), limits)
        cache = self._cache_for(limits)
        # map() and dict() over the cache entries run at C speed: the same series arrive every
        # scrape interval, so only new ones take the Python path.
        hits: list[tuple[int, Labels] | None] = list(map(cache.get, keys))
        if None in hits:
            for i, key in enumerate(keys):
                if hits[i] is None:
                    hits[i] = self._remember(cache, key, limits, _label_fields(key))
        known = cast("list[tuple[int, Labels]]", hits)
        fps = np.fromiter(map(itemgetter(0), known), np.uint64, len(known))
        counts = columns.counts
        with_samples = known if counts.all() else itertools.compress(known, counts.tolist())
        series: dict[int, Labels] = dict(with_samples)
        if columns.histograms:
            with self._lock:
                self.histograms_skipped += columns.histograms
        metadata: dict[str, MetricMetadata] = {}
        if columns.has_metadata:
            req = LazyWriteRequest()
            try:
                req.ParseFromString(raw)
            except DecodeError as e:
                raise BadInput(f"remote_write: malformed protobuf WriteRequest: {e}") from None
            metadata = _metadata(req)
        batch = SampleBatch(
            series,
            np.repeat(fps, columns.counts),
            columns.timestamps,
            columns.values,
            metadata,
        )
        return batch, known

    def _cache_for(self, limits: IngestLimits) -> dict[_Key, tuple[int, Labels]]:
        # Cached label sets were validated under some limits; other limits need a fresh check.
        return self._cache.for_limits(limits)

    def _remember(
        self,
        cache: dict[_Key, tuple[int, Labels]],
        key: _Key,
        limits: IngestLimits,
        raw_labels: tuple[bytes, ...],
    ) -> tuple[int, Labels]:
        # Insert into the cache that belongs to ``limits`` (another thread may have swapped
        # ``self._cache`` for other limits meanwhile; then this entry is simply forgotten).
        labels = _parse_labels(raw_labels)
        check_series(labels, limits)
        entry = (fingerprint(labels), labels)
        self._cache.put(cache, key, entry)
        return entry


def _entry_bytes(key: _Key, entry: tuple[int, Labels]) -> int:
    raw = len(key) if isinstance(key, bytes) else sum(len(k) + 33 for k in key) + 40
    return 33 + raw + 72 + label_set_bytes(entry[1])


def _metadata(req: Any) -> dict[str, MetricMetadata]:
    metadata: dict[str, MetricMetadata] = {}
    for md in req.metadata:
        if md.metric_family_name:
            metadata[md.metric_family_name] = MetricMetadata(
                METRIC_TYPES.get(md.type, "unknown"), md.help, md.unit
            )
    return metadata


def _label_fields(key: bytes) -> tuple[bytes, ...]:
    """Each label's encoding, from the label fields' bytes ``scan`` keyed a series by."""
    ts = LazyTimeSeries()
    try:
        ts.ParseFromString(key)
    except DecodeError as e:
        raise BadInput(f"remote_write: malformed label: {e}") from None
    return tuple(ts.labels[:])


def _parse_labels(raw_labels: tuple[bytes, ...]) -> Labels:
    pairs: list[tuple[str, str]] = []
    msg = Label()
    for raw in raw_labels:
        try:
            msg.ParseFromString(raw)
        except DecodeError as e:
            raise BadInput(f"remote_write: malformed label: {e}") from None
        if msg.value:
            pairs.append((msg.name, msg.value))
    pairs.sort()
    return tuple(pairs)


def _decompress(body: bytes, limits: IngestLimits) -> bytes:
    if limits.max_body_bytes and len(body) > limits.max_body_bytes:
        raise LimitExceeded(
            "max_body_bytes", limits.max_body_bytes, f"request body is {len(body)} bytes"
        )
    return decompress_block(body, limits.max_body_bytes)


def decode_write_request(
    body: bytes,
    limits: IngestLimits,
    *,
    compressed: bool = True,
    decoder: RemoteWriteDecoder | None = None,
) -> SampleBatch:
    """Decode a Prometheus remote_write 1.0 body into a ``SampleBatch``.

    ``body`` is snappy block-compressed protobuf ``prometheus.WriteRequest`` (raw protobuf when
    ``compressed`` is false). Raises ``BadInput`` for bad snappy, bad protobuf, invalid or
    duplicate label names, a series without ``__name__``, and ``LimitExceeded`` (a ``BadInput``)
    when ``limits`` are broken. Metadata ends up in ``SampleBatch.metadata``; native histograms
    and exemplars are skipped and counted on ``decoder``. Without a ``decoder`` a fresh one is
    used, so nothing is remembered between calls; a server passes the one it keeps.
    """
    if decoder is None:
        decoder = RemoteWriteDecoder()
    return decoder.decode(body, limits, compressed=compressed)


__all__ = ["RemoteWriteDecoder", "decode_write_request"]
