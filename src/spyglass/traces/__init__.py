"""Traces: spans shown the way Jaeger shows them, Jaeger's query parameters, and what is
derived from spans.

``jaeger_trace``/``jaeger_span``/``jaeger_response`` write Jaeger's query API JSON;
``dependencies`` derives who calls whom; ``parse_go_duration``, ``parse_trace_id`` and
``parse_tags`` read the API's parameters as Jaeger reads them; ``SpanMetrics`` turns accepted
spans into RED metrics and the service graph as Prometheus series (Tempo's metrics-generator
names).
"""

from spyglass.traces._dependencies import Dependency, dependencies
from spyglass.traces._jaeger import jaeger_error, jaeger_response, jaeger_span, jaeger_trace
from spyglass.traces._params import parse_go_duration, parse_logfmt, parse_tags, parse_trace_id
from spyglass.traces._servicegraph import SERVICE_GRAPH_BUCKETS
from spyglass.traces._spanmetrics import SPAN_METRICS_BUCKETS, SpanMetrics, SpanMetricsStats

__all__ = [
    "SERVICE_GRAPH_BUCKETS",
    "SPAN_METRICS_BUCKETS",
    "Dependency",
    "SpanMetrics",
    "SpanMetricsStats",
    "dependencies",
    "jaeger_error",
    "jaeger_response",
    "jaeger_span",
    "jaeger_trace",
    "parse_go_duration",
    "parse_logfmt",
    "parse_tags",
    "parse_trace_id",
]
