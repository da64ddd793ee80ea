"""``spyglass: incidents:`` in alertmanager.yml: which alerts open incidents, and the SEV scale.

::

    spyglass:
      incidents:
        severities:              # optional: the defaults below, reworded or re-described
          SEV1: {name: Critical, description: Full outage or data loss, page: true}
        rules:                   # the first rule whose matchers hold opens (or joins) an incident
          - matchers: ['severity="critical"']
            severity: SEV2
            group_by: [alertname, service]   # alerts with the same values join one incident
            commander: alice                 # optional
            title: "{{ .alertname }} on {{ .service }}"   # optional; labels by name
        updates:                 # status updates go out as alerts through the routes
          enabled: true          # default true

The SEV scale ships with defaults (SEV1 full outage, SEV2 major degradation, SEV3 minor, SEV4
cosmetic); a file may change their names and descriptions but not add levels.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from spyglass.alerting import Matcher, MatcherError, parse_matchers
from spyglass.core.config import Node
from spyglass.core.config.fields import Section

LEVELS = ("SEV1", "SEV2", "SEV3", "SEV4")


@dataclass(frozen=True, slots=True)
class Severity:
    """One level of the SEV scale."""

    level: str
    name: str
    description: str


DEFAULT_SEVERITIES = (
    Severity("SEV1", "Critical", "Full outage: the service is down or data is being lost."),
    Severity("SEV2", "Major", "Major degradation: a core feature fails or most users are hit."),
    Severity("SEV3", "Minor", "Minor degradation: a part fails, with a workaround or few users."),
    Severity("SEV4", "Cosmetic", "Cosmetic or internal: no user impact yet."),
)


@dataclass(frozen=True, slots=True)
class IncidentRule:
    """Alerts that open (or join) an incident."""

    matchers: tuple[Matcher, ...]
    severity: str
    group_by: tuple[str, ...] = ("alertname",)
    commander: str = ""
    title: str = ""

    def matches(self, labels: dict[str, str]) -> bool:
        """Whether every matcher holds."""
        return all(m.matches(labels) for m in self.matchers)

    def group_key(self, labels: dict[str, str]) -> str:
        """Alerts with the same key join the same open incident."""
        return ",".join(f"{k}={labels.get(k, '')}" for k in self.group_by)

    def title_for(self, labels: dict[str, str]) -> str:
        """The title, with ``{{ .label }}`` filled from the alert's labels."""
        if not self.title:
            name = labels.get("alertname", "alert")
            where = ", ".join(
                f"{k}={labels[k]}" for k in self.group_by if k != "alertname" and k in labels
            )
            return f"{name} ({where})" if where else name
        return _PLACEHOLDER.sub(lambda m: labels.get(m.group(1), ""), self.title)


_PLACEHOLDER = re.compile(r"\{\{\s*\.(\w+)\s*\}\}")


@dataclass(frozen=True, slots=True)
class IncidentsConfig:
    """The incidents extension (empty: no automatic incidents, default severities)."""

    severities: tuple[Severity, ...] = DEFAULT_SEVERITIES
    rules: tuple[IncidentRule, ...] = ()
    updates: bool = True

    def severity(self, level: str) -> Severity:
        """The definition of ``level``."""
        return next(s for s in self.severities if s.level == level)

    def rule_for(self, labels: dict[str, str]) -> IncidentRule | None:
        """The first rule the alert matches."""
        return next((r for r in self.rules if r.matches(labels)), None)


def load_incidents_config(node: Node | None) -> IncidentsConfig:
    """Read ``spyglass.incidents``; errors name file, line and field."""
    if node is None:
        return IncidentsConfig()
    s = Section(
        node, "spyglass.Incidents", "spyglass.incidents", ("severities", "rules", "updates")
    )
    severities = {d.level: d for d in DEFAULT_SEVERITIES}
    sev = s.sub("severities", "map[string]spyglass.Severity")
    for level in sev.items:
        if level not in LEVELS:
            raise sev.error(level, f"unknown severity {level!r}: the scale is SEV1 to SEV4")
        d = sev.sub(level, "spyglass.Severity", ("name", "description"))
        base = severities[level]
        severities[level] = Severity(
            level, d.text("name", base.name), d.text("description", base.description)
        )
    rules = []
    for i, item in enumerate(s.seq("rules", "[]spyglass.IncidentRule")):
        path = f"spyglass.incidents.rules[{i}]"
        r = Section(
            item,
            "spyglass.IncidentRule",
            path,
            ("matchers", "severity", "group_by", "commander", "title"),
        )
        matchers: list[Matcher] = []
        for j, text in enumerate(r.strs("matchers")):
            try:
                matchers.extend(parse_matchers(text))
            except MatcherError as exc:
                raise r.error("matchers", f"matchers[{j}]: {exc}") from None
        if not matchers:
            raise r.error("matchers", "an incident rule needs at least one matcher")
        level = r.text("severity", "SEV3")
        if level not in LEVELS:
            raise r.error("severity", f"unknown severity {level!r}: the scale is SEV1 to SEV4")
        rules.append(
            IncidentRule(
                matchers=tuple(matchers),
                severity=level,
                group_by=tuple(r.strs("group_by")) or ("alertname",),
                commander=r.text("commander"),
                title=r.text("title"),
            )
        )
    updates = s.sub("updates", "spyglass.IncidentUpdates", ("enabled",)).flag("enabled", True)
    return IncidentsConfig(
        severities=tuple(severities[level] for level in LEVELS), rules=tuple(rules), updates=updates
    )


__all__ = [
    "DEFAULT_SEVERITIES",
    "LEVELS",
    "IncidentRule",
    "IncidentsConfig",
    "Severity",
    "load_incidents_config",
]
