"""OTLP metrics (OTLP/HTTP protobuf and JSON, and the messages gRPC delivers) -> ``SampleBatch``;
OTLP traces -> ``SpanBatch`` (``decode_otlp_traces``, ``spans_from_request``).

Conversion follows Prometheus' own OTLP receiver and the OpenTelemetry "Prometheus and OpenMetrics
Compatibility" spec; ``_convert`` documents each choice (names, units, temporality, resources).
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
from spyglass.ingest.otlp._names import label_name, metric_name, unit_name
from spyglass.ingest.otlp._traces import (
    SpanConversion,
    decode_otlp_traces,
    parse_traces_request,
    spans_from_request,
)

__all__ = [
    "Conversion",
    "MetricsConverter",
    "SpanConversion",
    "convert_metrics_request",
    "convert_metrics_request_report",
    "decode_otlp_metrics",
    "decode_otlp_metrics_report",
    "decode_otlp_traces",
    "label_name",
    "metric_name",
    "parse_metrics_request",
    "parse_traces_request",
    "spans_from_request",
    "unit_name",
]
