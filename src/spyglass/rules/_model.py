"""Rule files as data: what a Prometheus rule file says, after validation, with positions.

These are plain values (no evaluation state); ``RuleGroup`` turns a ``GroupSpec`` into rules that
evaluate. Durations are milliseconds; ``None`` means "not set" where Prometheus tells "unset"
apart from zero (a group's ``interval`` and ``query_offset`` fall back to global settings).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from spyglass.rules._language import QueryLanguage

RuleKind = Literal["recording", "alerting"]


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """One rule: ``record`` or ``alert``, with its expression and options.

    ``labels`` are the rule's own labels; ``GroupSpec.rule_labels`` merges in the group's.
    ``line`` is where the rule starts in its file.
    """

    kind: RuleKind
    name: str
    expr: str
    for_ms: int = 0
    keep_firing_for_ms: int = 0
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    line: int = 0


@dataclass(frozen=True, slots=True)
class GroupSpec:
    """A rule group: rules evaluated in order, at one interval.

    ``language`` is what its expressions are written in: PromQL, or LogQL as Loki's ruler
    reads them (the group's ``type``, or a Loki ruler file's default).
    """

    name: str
    rules: tuple[RuleSpec, ...] = ()
    interval_ms: int | None = None
    query_offset_ms: int | None = None
    limit: int = 0
    labels: Mapping[str, str] = field(default_factory=dict)
    file: str = ""
    line: int = 0
    language: QueryLanguage = "promql"

    def rule_labels(self, rule: RuleSpec) -> dict[str, str]:
        """The labels a rule applies: the group's, overridden by the rule's (as Prometheus)."""
        return {**self.labels, **rule.labels}


@dataclass(frozen=True, slots=True)
class RuleFile:
    """A whole rule file: its groups in file order, and warnings that did not stop loading."""

    path: str
    groups: tuple[GroupSpec, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def rule_count(self) -> int:
        """Rules in all groups (what ``check rules`` reports as "N rules found")."""
        return sum(len(g.rules) for g in self.groups)


__all__ = ["GroupSpec", "RuleFile", "RuleKind", "RuleSpec"]
