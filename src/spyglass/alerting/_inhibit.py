"""Inhibition: whether firing alerts mute another alert, as Alertmanager's inhibitor decides.

A rule mutes an alert (the target) when the alert matches the rule's target matchers and some
firing alert (the source) matches its source matchers and has the same value as the target for
every ``equal`` label (a missing label counts as the empty value). An alert that matches both
sides cannot be muted by a source that also matches both sides, so a rule never lets an alert
mute itself or its equals.

Alertmanager indexes its source alerts and consults one per set of ``equal`` values; this
function looks at all of them, which is the documented behaviour the index implements.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from spyglass.alerting._config import InhibitRule
from spyglass.alerting._matchers import matches_all


def inhibiting_alert(
    labels: Mapping[str, str],
    firing: Iterable[Mapping[str, str]],
    rules: Sequence[InhibitRule],
) -> tuple[InhibitRule, Mapping[str, str]] | None:
    """The first rule that mutes ``labels`` and the firing alert that mutes it, if any.

    ``firing`` holds the label sets of the alerts that are firing now (resolved alerts must not
    be in it).
    """
    sources = list(firing)
    for rule in rules:
        if not matches_all(rule.target_matchers, labels):
            continue
        two_sided = matches_all(rule.source_matchers, labels)
        for source in sources:
            if not matches_all(rule.source_matchers, source):
                continue
            if any(source.get(n, "") != labels.get(n, "") for n in rule.equal):
                continue
            if two_sided and matches_all(rule.target_matchers, source):
                continue
            return rule, source
    return None


def inhibited(
    labels: Mapping[str, str],
    firing: Iterable[Mapping[str, str]],
    rules: Sequence[InhibitRule],
) -> bool:
    """Whether an alert with ``labels`` is muted by the ``firing`` alerts under ``rules``."""
    return inhibiting_alert(labels, firing, rules) is not None


__all__ = ["inhibited", "inhibiting_alert"]
