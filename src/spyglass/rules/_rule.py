"""What recording and alerting rules share: the evaluation context, output samples, health.

A rule evaluates one instant query at the group's timestamp minus its query offset; Prometheus
turns a scalar result into a one-sample vector without labels and refuses anything else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from spyglass.core.errors import QueryError
from spyglass.core.labels import Labels
from spyglass.promql import Engine
from spyglass.rules._template import TemplateExpander

RuleHealth = Literal["ok", "err", "unknown"]
"""As Prometheus' rules API reports it: ``unknown`` until the first evaluation."""


@dataclass(frozen=True, slots=True)
class Sample:
    """One sample a rule evaluation asks to be written (staleness markers included)."""

    labels: Labels
    time_ms: int
    value: float


@dataclass(frozen=True, slots=True)
class EvalContext:
    """Everything a rule needs for one evaluation of its group."""

    engine: Engine
    time_ms: int
    query_offset_ms: int
    limit: int
    expander: TemplateExpander
    external_labels: Mapping[str, str]
    external_url: str

    @property
    def query_time_ms(self) -> int:
        """Where queries run and samples are written: the evaluation time minus the offset."""
        return self.time_ms - self.query_offset_ms


def query_vector(engine: Engine, expr: str, time_ms: int) -> list[tuple[Labels, float]]:
    """An instant query's result as a vector (a scalar becomes one sample without labels)."""
    result = engine.instant_query(expr, time_ms)
    if result.result_type == "vector":
        return list(result.vector)
    if result.result_type == "scalar" and result.scalar is not None:
        return [((), result.scalar)]
    raise QueryError("rule result is not a vector or scalar")


__all__ = ["EvalContext", "RuleHealth", "Sample", "query_vector"]
