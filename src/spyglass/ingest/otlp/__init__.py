"""OTLP metrics and logs (OTLP/HTTP protobuf and JSON, and the messages gRPC delivers) ->
``SampleBatch`` and ``LogBatch``; OTLP traces -> ``SpanBatch`` (``decode_otlp_traces``,
``spans_from_request``).

Conversion follows Prometheus' own OTLP receiver and the OpenTelemetry "Prometheus and OpenMetrics
Compatibility" spec; ``_convert`` documents each choice (names, units, temporality, resources).
Logs follow Loki's OTLP ingestion (``_logs``).
"""

from spyglass.ingest.otlp._convert import (
    Conversion,
    MetricsConverter,
    convert_metrics_request,
    convert_metrics_request_report,
)
from spyglass.ingest.otlp._decode import (
    decode_otlp_metrics,
    decode_otlp_metrics_report,
    parse_metrics_request,
)
from spyglass.ingest.otlp._logs import (
    DEFAULT_INDEX_LABELS,
    LogsConversion,
    convert_logs_request,
    decode_otlp_logs,
    detected_level,
    parse_logs_request,
)
from spyglass.ingest.otlp._names import label_name, metric_name, unit_name
from spyglass.ingest.otlp._traces import (
    SpanConversion,
    decode_otlp_traces,
    parse_traces_request,
    spans_from_request,
)

__all__ = [
    "DEFAULT_INDEX_LABELS",
    "Conversion",
    "LogsConversion",
    "MetricsConverter",
    "SpanConversion",
    "convert_logs_request",
    "convert_metrics_request",
    "convert_metrics_request_report",
    "decode_otlp_logs",
    "decode_otlp_metrics",
    "decode_otlp_metrics_report",
    "decode_otlp_traces",
    "detected_level",
    "label_name",
    "metric_name",
    "parse_logs_request",
    "parse_metrics_request",
    "parse_traces_request",
    "spans_from_request",
    "unit_name",
]
