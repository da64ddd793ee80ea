"""Inhibition for many alerts at once: the firing sources indexed per rule.

``inhibiting_alert`` answers for one alert by looking at every firing alert; a flush or an API
listing asks for every alert of a group or of the store, which made that quadratic (five
thousand alerts took minutes). ``Inhibitor`` sorts the sources once: per rule, the firing alerts
that match its source matchers, bucketed by their values of the rule's ``equal`` labels, so an
alert's question is one lookup per rule. Answers are exactly ``inhibiting_alert``'s (the same
rule and source, in the same order).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from spyglass.alerting._config import InhibitRule
from spyglass.alerting._matchers import matches_all


class Inhibitor:
    """The inhibition rules over one snapshot of the firing alerts."""

    def __init__(self, rules: Sequence[InhibitRule], firing: Iterable[Mapping[str, str]]) -> None:
        sources = list(firing)
        self._rules: list[tuple[InhibitRule, dict[tuple[str, ...], list[Mapping[str, str]]]]] = []
        for rule in rules:
            buckets: dict[tuple[str, ...], list[Mapping[str, str]]] = {}
            for source in sources:
                if matches_all(rule.source_matchers, source):
                    buckets.setdefault(_key(rule, source), []).append(source)
            self._rules.append((rule, buckets))

    def inhibiting(self, labels: Mapping[str, str]) -> tuple[InhibitRule, Mapping[str, str]] | None:
        """The first rule that mutes ``labels`` and the firing alert that mutes it, if any."""
        for rule, buckets in self._rules:
            if not matches_all(rule.target_matchers, labels):
                continue
            two_sided = matches_all(rule.source_matchers, labels)
            for source in buckets.get(_key(rule, labels), ()):
                if two_sided and matches_all(rule.target_matchers, source):
                    continue
                return rule, source
        return None


def _key(rule: InhibitRule, labels: Mapping[str, str]) -> tuple[str, ...]:
    return tuple(labels.get(n, "") for n in rule.equal)


__all__ = ["Inhibitor"]
