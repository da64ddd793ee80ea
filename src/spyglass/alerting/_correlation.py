"""Correlation groups: alerts that share a cause notify as one.

A service that goes down usually also raises its error rate and its latency; Alertmanager
groups by labels only, so a route grouped by ``alertname`` pages three times for one outage.
A ``CorrelationRule`` names the alerts that belong together (``ServiceDown``,
``HighErrorRate``, ``HighResponseTime``) and the labels that must agree (``service``). Within a
route, every alert a rule covers is grouped by the rule instead of the route's ``group_by``:
its group labels are the rule's ``by`` labels plus ``correlation="<rule name>"``, so the three
alerts of one service land in one aggregation group, one notification, while another service's
alerts stay apart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from spyglass.alerting._matchers import Matcher, matches_all
from spyglass.core.alerts import ALERTNAME

CORRELATION_LABEL = "correlation"


@dataclass(frozen=True, slots=True)
class CorrelationRule:
    """Alerts named in ``alertnames`` that agree on ``by`` (and match ``matchers``) go together."""

    name: str
    alertnames: tuple[str, ...]
    by: tuple[str, ...] = ()
    matchers: tuple[Matcher, ...] = ()

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("a correlation needs a name")
        if len(self.alertnames) < 2:
            raise ValueError(f"correlation {self.name}: name at least two alerts to correlate")

    def covers(self, labels: Mapping[str, str]) -> bool:
        """Whether an alert with ``labels`` belongs to this correlation."""
        if labels.get(ALERTNAME, "") not in self.alertnames:
            return False
        if any(not labels.get(n) for n in self.by):
            return False  # without the shared labels there is nothing to correlate on
        return matches_all(self.matchers, labels)

    def group_labels(self, labels: Mapping[str, str]) -> dict[str, str]:
        """The aggregation group labels of a covered alert."""
        out = {n: labels[n] for n in self.by}
        out[CORRELATION_LABEL] = self.name
        return out


def correlation_for(
    rules: Sequence[CorrelationRule], labels: Mapping[str, str]
) -> CorrelationRule | None:
    """The first rule that covers ``labels``, in the order the config lists them."""
    for rule in rules:
        if rule.covers(labels):
            return rule
    return None


__all__ = ["CORRELATION_LABEL", "CorrelationRule", "correlation_for"]
