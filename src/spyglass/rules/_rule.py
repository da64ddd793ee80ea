"""What recording and alerting rules share: the evaluation context, output samples, health.

A rule evaluates one instant query at the group's timestamp minus its query offset, through the
group's ``InstantEvaluator`` (PromQL or LogQL, ``_language``); Prometheus turns a scalar result
into a one-sample vector without labels and refuses anything else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from spyglass.core.labels import Labels
from spyglass.promql import Engine
from spyglass.rules._language import InstantEvaluator, PromQLEvaluator
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

    evaluator: InstantEvaluator
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
    """A PromQL instant query's result as a rule sees it (a scalar becomes one sample without
    labels)."""
    return PromQLEvaluator(engine).instant(expr, time_ms)


__all__ = ["EvalContext", "RuleHealth", "Sample", "query_vector"]
