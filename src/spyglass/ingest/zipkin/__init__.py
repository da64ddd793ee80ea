"""Zipkin v2 JSON (``POST /api/v2/spans``) -> ``SpanBatch``.

``decode_zipkin_spans`` reads the JSON list Zipkin reporters send and maps each span the way the
OpenTelemetry Collector's Zipkin receiver does (docs/decisions.md, "Traces").
"""

from spyglass.ingest.zipkin._decode import decode_zipkin_spans

__all__ = ["decode_zipkin_spans"]
