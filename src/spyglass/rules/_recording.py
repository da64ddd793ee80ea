"""Recording rules: an expression's result stored under a new metric name."""

from __future__ import annotations

from collections.abc import Mapping

from spyglass.core.errors import QueryError
from spyglass.core.labels import METRIC_NAME, labels_of
from spyglass.rules._model import RuleSpec
from spyglass.rules._rule import EvalContext, RuleHealth, Sample


class RecordingRule:
    """``record: name`` / ``expr``: each result sample renamed and relabelled.

    ``labels`` are the group's labels overridden by the rule's; an empty value removes a label.
    """

    kind = "recording"

    def __init__(self, spec: RuleSpec, labels: Mapping[str, str]) -> None:
        self.spec = spec
        self.name = spec.name
        self.expr = spec.expr
        self.labels = dict(labels)
        self.health: RuleHealth = "unknown"
        self.last_error = ""
        self.last_evaluation_ms: int | None = None
        self.evaluation_seconds = 0.0

    def evaluate(self, ctx: EvalContext) -> list[Sample]:
        """The samples to write; raises ``SpyglassError`` when the rule fails."""
        t = ctx.query_time_ms
        out = []
        seen = set()
        for metric, value in ctx.evaluator.instant(self.expr, t):
            labels = labels_of({**dict(metric), METRIC_NAME: self.name, **self.labels})
            if labels in seen:
                raise QueryError(
                    "vector contains metrics with the same labelset after applying rule labels"
                )
            seen.add(labels)
            out.append(Sample(labels, t, value))
        if ctx.limit > 0 and len(out) > ctx.limit:
            raise QueryError(f"exceeded limit of {ctx.limit} with {len(out)} series")
        out.sort(key=lambda s: s.labels)
        return out


__all__ = ["RecordingRule"]
