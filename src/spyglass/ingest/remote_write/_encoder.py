"""Encode series into a remote_write 1.0 body: for tests, the bench load generator and interop."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import cramjam

from spyglass.core.exemplars import Exemplar
from spyglass.core.labels import Labels
from spyglass.core.samples import MetricMetadata
from spyglass.ingest.remote_write._schema import METRIC_TYPE_NUMBERS, WriteRequest
from spyglass.ingest.remote_write._schema import Exemplar as ExemplarMessage


def encode_write_request(
    series: Sequence[tuple[Labels, Sequence[tuple[int, float]]]],
    metadata: Mapping[str, MetricMetadata] | None = None,
    *,
    compressed: bool = True,
    exemplars: Sequence[Exemplar] = (),
) -> bytes:
    """A snappy block-compressed ``prometheus.WriteRequest`` carrying ``series``.

    Each series is ``(labels, [(timestamp_ms, value), ...])``; labels are written in the given
    order (remote_write asks senders to sort them, as ``Labels`` already are). ``metadata`` maps a
    metric family name to its type/help/unit. ``compressed=False`` returns the raw protobuf.
    Each of ``exemplars`` goes on the series of ``series`` with its label set (or on a series
    of its own, without samples, when there is none).
    """
    req = WriteRequest()
    for labels, samples in series:
        ts = req.timeseries.add()
        for name, value in labels:
            ts.labels.add(name=name, value=value)
        for t, v in samples:
            ts.samples.add(value=v, timestamp=t)
    by_labels = {tuple(labels): ts for (labels, _), ts in zip(series, req.timeseries, strict=True)}
    for e in exemplars:
        ts = by_labels.get(e.series)
        if ts is None:
            ts = by_labels[e.series] = req.timeseries.add()
            for name, value in e.series:
                ts.labels.add(name=name, value=value)
        msg = ExemplarMessage(value=e.value, timestamp=e.timestamp_ms)
        for name, value in e.labels:
            msg.labels.add(name=name, value=value)
        ts.exemplars.append(msg.SerializeToString())
    for family, md in (metadata or {}).items():
        req.metadata.add(
            type=METRIC_TYPE_NUMBERS.get(md.type, 0),
            metric_family_name=family,
            help=md.help,
            unit=md.unit,
        )
    raw: bytes = req.SerializeToString()
    if not compressed:
        return raw
    return bytes(cramjam.snappy.compress_raw(raw))


__all__ = ["encode_write_request"]
