"""promtool's rule lint: rules that would write the same series.

Two rules with the same name and the same labels (group labels included) record into, or alert
as, the same series: whichever runs last wins, which "might cause inconsistency while recording
expressions", as promtool puts it. This is a lint (exit code 0 unless ``--lint-fatal``), not an
error: Prometheus loads such files.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from spyglass.rules._model import RuleFile


@dataclass(frozen=True, slots=True, order=True)
class DuplicateRule:
    """A rule name and label set that more than one rule of a file uses."""

    name: str
    labels: tuple[tuple[str, str], ...]


def duplicate_rules(rule_file: RuleFile) -> list[DuplicateRule]:
    """Each duplicated (name, labels) once, sorted, as ``promtool check rules`` lists them."""
    keys = sorted(
        DuplicateRule(rule.name, tuple(sorted(group.rule_labels(rule).items())))
        for group in rule_file.groups
        for rule in group.rules
    )
    out: list[DuplicateRule] = []
    for before, key in itertools.pairwise(keys):
        if before == key and (not out or out[-1] != key):
            out.append(key)
    return out


def format_duplicates(duplicates: list[DuplicateRule]) -> str:
    """promtool's lint message for them."""
    lines = [f"{len(duplicates)} duplicate rule(s) found."]
    for d in duplicates:
        lines.append(f"Metric: {d.name}")
        lines.append("Label(s):")
        lines.extend(f"\t{n}: {v}" for n, v in d.labels)
    lines.append("Might cause inconsistency while recording expressions")
    return "\n".join(lines)


__all__ = ["DuplicateRule", "duplicate_rules", "format_duplicates"]
