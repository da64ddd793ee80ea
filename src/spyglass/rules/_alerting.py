"""Alerting rules: Prometheus' alert state machine, one instance per result label set.

Each evaluation, every sample of the expression becomes (or refreshes) an alert identified by
its labels (the sample's, minus the metric name, plus the rule's templated labels and
``alertname``). A new alert is ``pending``; once it has been active for ``for`` it is ``firing``.
When its label set is gone, a pending alert is dropped and a firing one is resolved
(``inactive``), unless ``keep_firing_for`` keeps it firing a while longer; resolved alerts are
kept, and re-sent, for 15 minutes. Each evaluation writes ``ALERTS`` (value 1, with the state)
and ``ALERTS_FOR_STATE`` (value: when the alert became active, in seconds) for every pending or
firing alert, so the state can be restored after a restart (``restore_for_state``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from spyglass.core.errors import QueryError, SpyglassError
from spyglass.core.labels import METRIC_NAME, Labels, labels_of
from spyglass.core.matchers import Matcher, MatchOp
from spyglass.rules._alerts import (
    RESOLVED_RETENTION_MS,
    Alert,
    AlertInstance,
    AlertState,
    OutgoingAlert,
    generator_url,
)
from spyglass.rules._model import RuleSpec
from spyglass.rules._rule import EvalContext, RuleHealth, Sample
from spyglass.rules._template import QuerySample

ALERTS = "ALERTS"
ALERTS_FOR_STATE = "ALERTS_FOR_STATE"
ALERT_NAME = "alertname"
ALERT_STATE = "alertstate"

_STATE_ORDER = {"inactive": 1, "pending": 2, "firing": 3}


class AlertingRule:
    """``alert: name`` / ``expr`` / ``for`` / ``keep_firing_for`` / labels / annotations."""

    kind = "alerting"

    def __init__(self, spec: RuleSpec, labels: Mapping[str, str], *, restored: bool = True) -> None:
        self.spec = spec
        self.name = spec.name
        self.expr = spec.expr
        self.hold_ms = spec.for_ms
        self.keep_firing_for_ms = spec.keep_firing_for_ms
        self.labels = dict(labels)
        self.annotations = dict(spec.annotations)
        # Until the state is restored after a start, ALERTS and ALERTS_FOR_STATE are not
        # written: the restored activeAt would otherwise be overwritten by a fresh one.
        self.restored = restored
        self.health: RuleHealth = "unknown"
        self.last_error = ""
        self.last_evaluation_ms: int | None = None
        self.evaluation_seconds = 0.0
        self.template_error = ""
        self._active: dict[Labels, AlertInstance] = {}

    def take_state(self, old: AlertingRule) -> None:
        """Carry ``old``'s alerts (and whether its state was restored) over a reload."""
        self.restored = old.restored
        self._active = dict(old._active)

    # -- reading -----------------------------------------------------------------------------
    def state(self) -> AlertState | None:
        """The highest state of its alerts; ``None`` (unknown) before the first evaluation."""
        if self.last_evaluation_ms is None:
            return None
        best: AlertState = "inactive"
        for a in self._active.values():
            if _STATE_ORDER[a.state] > _STATE_ORDER[best]:
                best = a.state
        return best

    def alerts(self) -> list[Alert]:
        """Every alert it holds, resolved ones still kept included, sorted by labels."""
        return [self._active[k].snapshot() for k in sorted(self._active)]

    def active_alerts(self) -> list[Alert]:
        """Pending and firing alerts (not the resolved ones kept for re-sending)."""
        return [a for a in self.alerts() if a.resolved_at_ms is None]

    def instances(self) -> dict[Labels, AlertInstance]:
        """The mutable alert state by label set (for restoring it)."""
        return self._active

    def for_state_matchers(self) -> list[Matcher]:
        """Matchers selecting this rule's ``ALERTS_FOR_STATE`` series.

        Labels whose values are templates are left out: they differ per alert.
        """
        base = {**self.labels, METRIC_NAME: ALERTS_FOR_STATE, ALERT_NAME: self.name}
        return [Matcher.of(n, MatchOp.EQUAL, v) for n, v in sorted(base.items()) if "{{" not in v]

    # -- evaluating --------------------------------------------------------------------------
    def evaluate(self, ctx: EvalContext) -> list[Sample]:
        """Advance every alert's state; return the ``ALERTS``/``ALERTS_FOR_STATE`` samples."""
        ts = ctx.time_ms
        self.template_error = ""
        current: dict[Labels, AlertInstance] = {}
        for metric, value in ctx.evaluator.instant(self.expr, ctx.query_time_ms):
            data = dict(metric)
            labels_map = {n: v for n, v in metric if n != METRIC_NAME}
            for n, v in sorted(self.labels.items()):
                labels_map[n] = self._expand(ctx, "label", n, v, labels=data, value=value)
            labels_map[ALERT_NAME] = self.name
            labels = labels_of(labels_map)
            annotations = tuple(
                (n, self._expand(ctx, "annotation", n, v, labels=data, value=value))
                for n, v in sorted(self.annotations.items())
            )
            if labels in current:
                raise QueryError(
                    "vector contains metrics with the same labelset after applying alert labels"
                )
            current[labels] = AlertInstance(labels, annotations, "pending", value, ts)

        for key, fresh in current.items():
            known = self._active.get(key)
            if known is not None and known.state != "inactive":
                known.value = fresh.value
                known.annotations = fresh.annotations
                continue
            self._active[key] = fresh

        out: list[Sample] = []
        counted = 0
        for key, a in list(self._active.items()):
            if key not in current:
                keep_firing = False
                if a.state == "firing" and self.keep_firing_for_ms > 0:
                    if a.keep_firing_since_ms is None:
                        a.keep_firing_since_ms = ts
                    keep_firing = ts - a.keep_firing_since_ms < self.keep_firing_for_ms
                if a.state == "pending" or (
                    a.resolved_at_ms is not None and ts - a.resolved_at_ms > RESOLVED_RETENTION_MS
                ):
                    del self._active[key]
                if a.state != "inactive" and not keep_firing:
                    a.state = "inactive"
                    a.resolved_at_ms = ts
                if not keep_firing:
                    continue
            else:
                a.keep_firing_since_ms = None
            counted += 1
            if a.state == "pending" and ts - a.active_at_ms >= self.hold_ms:
                a.state = "firing"
                a.fired_at_ms = ts
            # A longer `for` after a reload sends a firing alert back to pending.
            if a.state == "firing" and ts - a.active_at_ms < self.hold_ms:
                a.state = "pending"
                a.fired_at_ms = None
                a.last_sent_at_ms = None
                a.keep_firing_since_ms = None
            if self.restored:
                out.append(Sample(self._series(a, ALERTS), ctx.query_time_ms, 1.0))
                out.append(
                    Sample(
                        self._series(a, ALERTS_FOR_STATE),
                        ctx.query_time_ms,
                        float(a.active_at_ms // 1000),
                    )
                )
        if ctx.limit > 0 and counted > ctx.limit:
            self._active.clear()
            raise QueryError(f"exceeded limit of {ctx.limit} with {counted} alerts")
        out.sort(key=lambda s: s.labels)
        return out

    def _series(self, alert: AlertInstance, metric: str) -> Labels:
        # Prometheus starts from the rule's own (unexpanded) labels and lays the alert's over
        # them, so a label whose template expanded to "" keeps its template text here.
        merged = {**self.labels, **dict(alert.labels), METRIC_NAME: metric, ALERT_NAME: self.name}
        if metric == ALERTS:
            merged[ALERT_STATE] = alert.state
        return labels_of(merged)

    def _expand(
        self,
        ctx: EvalContext,
        what: str,
        key: str,
        text: str,
        *,
        labels: Mapping[str, str],
        value: float,
    ) -> str:
        if "{{" not in text:
            return text

        def query(q: str) -> Sequence[QuerySample]:
            return [QuerySample(dict(ls), v) for ls, v in ctx.evaluator.instant(q, ctx.time_ms)]

        try:
            return ctx.expander(
                text,
                name=self.name,
                labels=labels,
                value=value,
                external_labels=ctx.external_labels,
                external_url=ctx.external_url,
                timestamp_ms=ctx.time_ms,
                query=query,
            )
        except SpyglassError as exc:
            if not self.template_error:
                self.template_error = f'expanding {what} "{key}": {exc}'
            return text

    def alerts_to_send(
        self, now_ms: int, *, resend_delay_ms: int, interval_ms: int, external_url: str
    ) -> list[OutgoingAlert]:
        """Firing alerts due for (re-)sending and newly or still resolved ones.

        Marks them sent: each stays valid for four intervals or resend delays, whichever is
        longer, so two lost evaluations or sends do not resolve it at the receiver.
        """
        out = []
        url = generator_url(external_url, self.expr)
        for key in sorted(self._active):
            a = self._active[key]
            if not a.needs_sending(now_ms, resend_delay_ms):
                continue
            a.last_sent_at_ms = now_ms
            a.valid_until_ms = now_ms + 4 * max(interval_ms, resend_delay_ms)
            out.append(
                OutgoingAlert(
                    labels=a.labels,
                    annotations=a.annotations,
                    starts_at_ms=a.fired_at_ms if a.fired_at_ms is not None else a.active_at_ms,
                    ends_at_ms=(
                        a.resolved_at_ms if a.resolved_at_ms is not None else a.valid_until_ms
                    ),
                    generator_url=url,
                    state=a.state,
                    active_at_ms=a.active_at_ms,
                    value=a.value,
                )
            )
        return out


__all__ = ["ALERTS", "ALERTS_FOR_STATE", "ALERT_NAME", "ALERT_STATE", "AlertingRule"]
