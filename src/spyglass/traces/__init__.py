"""Traces: spans shown the way Jaeger shows them, and what is derived from them.

``jaeger_trace``/``jaeger_span``/``jaeger_response`` write Jaeger's query API JSON;
``dependencies`` derives who calls whom; ``SpanMetrics`` turns accepted spans into RED metrics
and the service graph as Prometheus series (Tempo's metrics-generator names).
"""

from spyglass.traces._dependencies import Dependency, dependencies
from spyglass.traces._jaeger import jaeger_error, jaeger_response, jaeger_span, jaeger_trace
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
]
