"""Traces: spans shown the way Jaeger shows them, the service graph derived from them, and
Jaeger's query parameters.

``jaeger_trace``/``jaeger_span``/``jaeger_response`` write Jaeger's query API JSON;
``dependencies`` derives who calls whom; ``parse_go_duration``, ``parse_trace_id`` and
``parse_tags`` read the API's parameters as Jaeger reads them.
"""

from spyglass.traces._dependencies import Dependency, dependencies
from spyglass.traces._jaeger import jaeger_error, jaeger_response, jaeger_span, jaeger_trace
from spyglass.traces._params import parse_go_duration, parse_logfmt, parse_tags, parse_trace_id

__all__ = [
    "Dependency",
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
