"""A rule group's query language: which engine checks and evaluates its expressions.

Prometheus rule files hold PromQL. Loki's ruler reads the very same file format with LogQL
metric queries in ``expr``; Spyglass runs both from one set of files, so a group says which it
holds with vmalert's group field ``type`` (``prometheus``, the default, or ``logql``), and a
file loaded as a Loki ruler file (``--logs-rule-files``) holds LogQL in every group whose
``type`` says nothing else.

Rules do not care which it is: at each evaluation they ask the group's ``InstantEvaluator`` for
an instant vector, and the group builds the evaluator of its language (``Languages``). A LogQL
result becomes Prometheus samples as Loki's ruler writes them: labels with empty values are
dropped, times are milliseconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

from spyglass.core.errors import ParseError, QueryError
from spyglass.core.labels import Labels, labels_of
from spyglass.logs import LogQuery
from spyglass.logs import parse_query as parse_logql
from spyglass.promql import parse_query as parse_promql

if TYPE_CHECKING:
    # The engines (and numpy) load when a group is first evaluated: checking a rule file needs
    # only the parsers.
    from spyglass.logs import Engine as LogQLEngine
    from spyglass.logs import EngineOptions as LogQLOptions
    from spyglass.promql import Engine as PromQLEngine
    from spyglass.promql import EngineOptions as PromQLOptions
    from spyglass.storage.ports import LogReader, Querier

QueryLanguage = Literal["promql", "logql"]

GROUP_TYPES: Mapping[str, QueryLanguage] = {
    "prometheus": "promql",
    "promql": "promql",
    "logql": "logql",
}
"""The values of a group's ``type`` field and the language each names."""

NOT_A_METRIC_QUERY = "only sample expression supported"
"""Loki's ruler's words for a log query (``{job="api"} |= "x"``) used as a rule."""


class InstantEvaluator(Protocol):
    """Evaluates one expression at one instant for a rule (or an alert template's ``query``)."""

    def instant(self, expr: str, time_ms: int) -> list[tuple[Labels, float]]:
        """The result as a vector (a scalar is one sample without labels); raises
        ``SpyglassError`` when the expression fails or its result is neither."""
        ...


def check_expression(language: QueryLanguage, expr: str) -> None:
    """Parse ``expr`` as a rule expression of ``language``; raises ``ParseError`` (with the
    position where the language's parser gives one) when it is not one."""
    if language == "promql":
        parse_promql(expr)
        return
    if isinstance(parse_logql(expr), LogQuery):
        raise ParseError(NOT_A_METRIC_QUERY)


@dataclass(frozen=True, slots=True)
class PromQLEvaluator:
    """PromQL over a ``Querier`` (for rules, the group's overlay of storage and its output)."""

    engine: PromQLEngine

    def instant(self, expr: str, time_ms: int) -> list[tuple[Labels, float]]:
        result = self.engine.instant_query(expr, time_ms)
        if result.result_type == "vector":
            return list(result.vector)
        if result.result_type == "scalar" and result.scalar is not None:
            return [((), result.scalar)]
        raise QueryError("rule result is not a vector or scalar")


@dataclass(frozen=True, slots=True)
class LogQLEvaluator:
    """LogQL metric queries over a ``LogReader``, as Loki's ruler evaluates them."""

    engine: LogQLEngine

    def instant(self, expr: str, time_ms: int) -> list[tuple[Labels, float]]:
        result = self.engine.instant(expr, time_ms * 1_000_000)
        if result.result_type == "vector":
            return [(labels_of(labels), value) for labels, _, value in result.vector]
        if result.result_type == "scalar" and result.scalar is not None:
            return [((), result.scalar[1])]
        raise QueryError("rule result is not a vector or scalar")


class Languages:
    """Builds the evaluator of each language for one evaluation of a group.

    PromQL reads ``querier`` (what the group hands it: storage with the group's own output laid
    over it); LogQL reads ``logs``, and without one a LogQL group's rules fail with an error
    that says so (the rule file still loads, so ``check rules`` and the API show them).
    """

    def __init__(
        self,
        *,
        promql: PromQLOptions | None = None,
        logs: LogReader | None = None,
        logql: LogQLOptions | None = None,
    ) -> None:
        from spyglass.logs import EngineOptions as LogQLOptions  # noqa: PLC0415 - loads the engine
        from spyglass.promql import EngineOptions as PromQLOptions  # noqa: PLC0415 - loads the engine

        self.promql_options = promql or PromQLOptions()
        self.logs = logs
        self.logql_options = logql or LogQLOptions()

    def evaluator(self, language: QueryLanguage, querier: Querier) -> InstantEvaluator:
        """The evaluator of ``language`` for one evaluation over ``querier``."""
        from spyglass.logs import Engine as LogQLEngine  # noqa: PLC0415 - loads the engine
        from spyglass.promql import Engine as PromQLEngine  # noqa: PLC0415 - loads the engine

        if language == "logql":
            if self.logs is None:
                return _NoLogs()
            return LogQLEvaluator(LogQLEngine(self.logs, self.logql_options))
        return PromQLEvaluator(PromQLEngine(querier, self.promql_options))


class _NoLogs:
    def instant(self, expr: str, time_ms: int) -> list[tuple[Labels, float]]:
        raise QueryError("LogQL rules need a log store, and this rule manager has none")


__all__ = [
    "GROUP_TYPES",
    "NOT_A_METRIC_QUERY",
    "InstantEvaluator",
    "Languages",
    "LogQLEvaluator",
    "PromQLEvaluator",
    "QueryLanguage",
    "check_expression",
]
