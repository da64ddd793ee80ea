"""Rule groups: evaluate every rule in order at one timestamp, as Prometheus' ``Group.Eval``.

This is the pure core the scheduler drives: ``RuleGroup.evaluate`` reads through a ``Querier``
and returns what to write (recorded samples, ``ALERTS``/``ALERTS_FOR_STATE``, staleness markers
for series a rule no longer returns) and which alerts to send; it writes and sends nothing. Rules
see what the rules above them wrote at the same timestamp, as in Prometheus, where each rule's
output is committed before the next rule runs. A failing rule is reported on that rule (health
``err`` and the error) and the rules after it still run; its series are not marked stale.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from spyglass.core.errors import SpyglassError
from spyglass.core.labels import Labels
from spyglass.core.samples import STALE_NAN, BatchBuilder, SampleBatch
from spyglass.promql import EngineOptions, Expr, instant_reads, parse_query
from spyglass.rules._alerting import AlertingRule
from spyglass.rules._alerts import AlertState, OutgoingAlert
from spyglass.rules._language import Languages
from spyglass.rules._model import GroupSpec, RuleKind
from spyglass.rules._overlay import Overlay
from spyglass.rules._prefetch import prefetch
from spyglass.rules._recording import RecordingRule
from spyglass.rules._rule import EvalContext, RuleHealth, Sample
from spyglass.rules._template import TemplateExpander
from spyglass.storage.ports import Querier, Selection

Rule = RecordingRule | AlertingRule

DEFAULT_INTERVAL_MS = 60_000
DEFAULT_RESEND_DELAY_MS = 60_000


@dataclass(frozen=True, slots=True)
class RuleStatus:
    """A rule's health after an evaluation, as the rules API shows it."""

    name: str
    kind: RuleKind
    health: RuleHealth
    last_error: str
    last_evaluation_ms: int | None
    evaluation_seconds: float
    state: AlertState | None = None  # alerting rules: the highest state of their alerts


@dataclass(frozen=True, slots=True)
class GroupEvaluation:
    """What one evaluation of a group produced."""

    time_ms: int
    samples: tuple[Sample, ...]
    alerts: tuple[OutgoingAlert, ...]
    rules: tuple[RuleStatus, ...]
    duration_seconds: float

    def batch(self) -> SampleBatch:
        """The samples as a ``SampleBatch`` for a ``SampleSink``."""
        builder = BatchBuilder()
        for s in self.samples:
            builder.add(s.labels, s.time_ms, s.value)
        return builder.build()


class RuleGroup:
    """A group of rules with its evaluation state (alerts, series written last time, health).

    ``expander`` expands alert templates (``spyglass.core.template``'s ``expand_alert_template``).
    ``default_interval_ms`` and ``default_query_offset_ms`` are the global
    ``evaluation_interval`` and ``rule_query_offset``, used where the group sets none.
    ``restore_pending`` is for groups created at start-up: their alerting rules write no
    ``ALERTS``/``ALERTS_FOR_STATE`` until ``restore_for_state`` has run, as in Prometheus.
    ``clock`` gives the wall-clock time recorded as each rule's last evaluation.
    ``languages`` builds the evaluator of the group's query language (``spec.language``); by
    default PromQL with ``engine_options`` and no log store.
    """

    def __init__(
        self,
        spec: GroupSpec,
        *,
        expander: TemplateExpander,
        engine_options: EngineOptions | None = None,
        default_interval_ms: int = DEFAULT_INTERVAL_MS,
        default_query_offset_ms: int = 0,
        external_labels: Mapping[str, str] | None = None,
        external_url: str = "",
        resend_delay_ms: int = DEFAULT_RESEND_DELAY_MS,
        restore_pending: bool = False,
        clock: Callable[[], float] = time.time,
        languages: Languages | None = None,
    ) -> None:
        self.spec = spec
        self.language = spec.language
        self.name = spec.name
        self.file = spec.file
        self.interval_ms = spec.interval_ms or default_interval_ms
        self.query_offset_ms = (
            spec.query_offset_ms if spec.query_offset_ms is not None else default_query_offset_ms
        )
        self.limit = spec.limit
        self.expander = expander
        self.engine_options = engine_options or EngineOptions()
        self.languages = languages or Languages(promql=self.engine_options)
        self.external_labels = dict(external_labels or {})
        self.external_url = external_url
        self.resend_delay_ms = resend_delay_ms
        self.clock = clock
        rules: list[Rule] = []
        for r in spec.rules:
            labels = spec.rule_labels(r)
            if r.kind == "alerting":
                rules.append(AlertingRule(r, labels, restored=not restore_pending))
            else:
                rules.append(RecordingRule(r, labels))
        self.rules: tuple[Rule, ...] = tuple(rules)
        # Only PromQL reads metrics ahead: a LogQL expression can also parse as PromQL
        # (count_over_time({job="x"}[1m]) does) but reads logs.
        self._exprs = [_parsed(r.expr) if self.language == "promql" else None for r in self.rules]
        self._previous: list[set[Labels]] = [set() for _ in rules]
        # Series of rules a reload removed: marked stale at the next evaluation.
        self._stale_series: list[Labels] = []
        self.last_evaluation_ms: int | None = None
        self.last_eval_timestamp_ms: int | None = None
        self.evaluation_seconds = 0.0

    def alerting_rules(self) -> list[AlertingRule]:
        """Its alerting rules, in file order."""
        return [r for r in self.rules if isinstance(r, AlertingRule)]

    def evaluate(self, querier: Querier, time_ms: int) -> GroupEvaluation:
        """Evaluate every rule at ``time_ms`` (the group's evaluation timestamp)."""
        started_wall = self.clock()
        started = time.perf_counter()
        query_time_ms = time_ms - self.query_offset_ms
        overlay = Overlay(self._prefetched(querier, query_time_ms))
        ctx = EvalContext(
            evaluator=self.languages.evaluator(self.language, overlay),
            time_ms=time_ms,
            query_offset_ms=self.query_offset_ms,
            limit=self.limit,
            expander=self.expander,
            external_labels=self.external_labels,
            external_url=self.external_url,
        )
        samples: list[Sample] = []
        alerts: list[OutgoingAlert] = []
        for labels in self._stale_series:
            samples.append(Sample(labels, ctx.query_time_ms, STALE_NAN))
        self._stale_series = []
        for i, rule in enumerate(self.rules):
            rule_wall = self.clock()
            rule_started = time.perf_counter()
            produced = self._evaluate_rule(rule, ctx)
            if produced is not None:
                if isinstance(rule, AlertingRule):
                    alerts.extend(
                        rule.alerts_to_send(
                            time_ms,
                            resend_delay_ms=self.resend_delay_ms,
                            interval_ms=self.interval_ms,
                            external_url=self.external_url,
                        )
                    )
                returned = {s.labels for s in produced}
                gone = sorted(self._previous[i] - returned)
                stale = [Sample(labels, ctx.query_time_ms, STALE_NAN) for labels in gone]
                for s in (*produced, *stale):
                    overlay.add(s.labels, s.time_ms, s.value)
                    samples.append(s)
                self._previous[i] = returned
            rule.last_evaluation_ms = round(rule_wall * 1000)
            rule.evaluation_seconds = time.perf_counter() - rule_started
        self.evaluation_seconds = time.perf_counter() - started
        self.last_evaluation_ms = round(started_wall * 1000)
        self.last_eval_timestamp_ms = time_ms
        return GroupEvaluation(
            time_ms=time_ms,
            samples=tuple(samples),
            alerts=tuple(alerts),
            rules=tuple(status(r) for r in self.rules),
            duration_seconds=self.evaluation_seconds,
        )

    def copy_state(self, old: RuleGroup) -> None:
        """Take over ``old``'s state after a reload, as Prometheus' ``CopyState``.

        Rules are matched by name and labels (the n-th of several such rules with the n-th): a
        matched rule keeps the series it wrote last (so a series it stops returning is marked
        stale) and, for alerting rules, its alerts with their ``activeAt``, so a reload neither
        restarts ``for`` nor re-sends firing alerts as new. The series of old rules that match
        nothing are marked stale at this group's next evaluation.
        """
        self.last_evaluation_ms = old.last_evaluation_ms
        self.last_eval_timestamp_ms = old.last_eval_timestamp_ms
        self.evaluation_seconds = old.evaluation_seconds
        unmatched: dict[tuple[str, tuple[tuple[str, str], ...]], list[int]] = {}
        for j, rule in enumerate(old.rules):
            unmatched.setdefault(_identity(rule), []).append(j)
        for i, rule in enumerate(self.rules):
            indexes = unmatched.get(_identity(rule))
            if not indexes:
                continue
            j = indexes.pop(0)
            self._previous[i] = set(old._previous[j])
            was = old.rules[j]
            if isinstance(rule, AlertingRule) and isinstance(was, AlertingRule):
                rule.take_state(was)
        for indexes in unmatched.values():
            for j in indexes:
                self._stale_series.extend(sorted(old._previous[j]))

    def stale_markers(self, time_ms: int) -> SampleBatch:
        """Staleness markers at ``time_ms`` for every series the group wrote last, for a group
        a reload removed (Prometheus marks them stale when it stops such a group)."""
        builder = BatchBuilder()
        for series in (*self._previous, self._stale_series):
            for labels in sorted(series):
                builder.add(labels, time_ms, STALE_NAN)
        return builder.build()

    def _prefetched(self, querier: Querier, query_time_ms: int) -> Querier:
        """``querier`` with what the rules' selectors read at ``query_time_ms`` read at once
        (``rules._prefetch``); on a failure, ``querier`` itself, so that each rule reads alone
        and a bad read stays that rule's error."""
        lookback = self.engine_options.lookback_delta_ms
        reads: list[Selection] = []
        for expr in self._exprs:
            if expr is not None:
                reads.extend(instant_reads(expr, query_time_ms, lookback))
        if not reads:
            return querier
        try:
            return prefetch(querier, reads)
        except SpyglassError:
            return querier

    @staticmethod
    def _evaluate_rule(rule: Rule, ctx: EvalContext) -> list[Sample] | None:
        """The rule's samples, or ``None`` when it failed (the error is kept on the rule)."""
        try:
            produced = rule.evaluate(ctx)
        except SpyglassError as exc:
            rule.health, rule.last_error = "err", str(exc)
            return None
        # One rule's bug must not stop the rules after it: it is that rule's error.
        except Exception as exc:  # noqa: BLE001
            rule.health, rule.last_error = "err", f"internal error: {type(exc).__name__}: {exc}"
            return None
        template_error = rule.template_error if isinstance(rule, AlertingRule) else ""
        rule.health = "err" if template_error else "ok"
        rule.last_error = template_error
        return produced


def _parsed(expr: str) -> Expr | None:
    """The rule's syntax tree; ``None`` when it only parses with the engine's options (the
    rule then reads as it runs)."""
    try:
        return parse_query(expr)
    except SpyglassError:
        return None


def _identity(rule: Rule) -> tuple[str, tuple[tuple[str, str], ...]]:
    return rule.name, tuple(sorted(rule.labels.items()))


def status(rule: Rule) -> RuleStatus:
    """A rule's current health and state."""
    return RuleStatus(
        name=rule.name,
        kind="alerting" if isinstance(rule, AlertingRule) else "recording",
        health=rule.health,
        last_error=rule.last_error,
        last_evaluation_ms=rule.last_evaluation_ms,
        evaluation_seconds=rule.evaluation_seconds,
        state=rule.state() if isinstance(rule, AlertingRule) else None,
    )


__all__ = ["GroupEvaluation", "Rule", "RuleGroup", "RuleStatus", "status"]
