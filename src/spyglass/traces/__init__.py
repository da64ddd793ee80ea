"""Traces: spans shown the way Jaeger shows them, and the service graph derived from them.

``jaeger_trace``/``jaeger_span``/``jaeger_response`` write Jaeger's query API JSON;
``dependencies`` derives who calls whom.
"""

from spyglass.traces._dependencies import Dependency, dependencies
from spyglass.traces._jaeger import jaeger_error, jaeger_response, jaeger_span, jaeger_trace

__all__ = [
    "Dependency",
    "dependencies",
    "jaeger_error",
    "jaeger_response",
    "jaeger_span",
    "jaeger_trace",
]
