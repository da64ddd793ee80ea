"""The service dependency graph: who calls whom, derived from parent and child spans.

An edge ``parent -> child`` counts every span whose parent span belongs to another service (one
call crossing a service boundary), as Jaeger's dependency job counts them; calls within one
service are not edges. A client span with ``peer.service`` and no child span from that service
(a database, a cache, a third-party API) still shows as an edge to the peer, so the map shows
the dependencies that send no traces themselves.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from spyglass.core.spans import Span


@dataclass(frozen=True, slots=True)
class Dependency:
    """One edge of the graph: ``parent`` called ``child`` ``call_count`` times."""

    parent: str
    child: str
    call_count: int

    def as_jaeger(self) -> dict[str, object]:
        """Jaeger's ``/api/dependencies`` item."""
        return {"parent": self.parent, "child": self.child, "callCount": self.call_count}


def dependencies(spans: Iterable[Span]) -> list[Dependency]:
    """The edges among ``spans`` (any number of traces), by parent then child."""
    by_id: dict[tuple[str, str], Span] = {}
    all_spans = list(spans)
    for span in all_spans:
        by_id[(span.trace_id, span.span_id)] = span
    edges: Counter[tuple[str, str]] = Counter()
    served: set[tuple[str, str, str]] = set()  # (trace, parent span, child service)
    for span in all_spans:
        parent = by_id.get((span.trace_id, span.parent_span_id))
        if parent is not None and parent.service_name != span.service_name:
            edges[(parent.service_name, span.service_name)] += 1
            served.add((span.trace_id, parent.span_id, span.service_name))
    for span in all_spans:
        peer = span.attributes.get("peer.service", "")
        if (
            span.kind == "Client"
            and peer
            and peer != span.service_name
            and (span.trace_id, span.span_id, peer) not in served
        ):
            edges[(span.service_name, peer)] += 1
    return [Dependency(p, c, n) for (p, c), n in sorted(edges.items())]


__all__ = ["Dependency", "dependencies"]
