"""From SLOs to a Prometheus rule file, laid out as Sloth lays out its generated rules.

Per SLO three groups, with Sloth's names, series and labels so that dashboards and alerts built
for Sloth read Spyglass's rules unchanged:

* ``sloth-slo-sli-recordings-<id>``: ``slo:sli_error:ratio_rate<w>`` for the windows the alerts
  need (5m, 30m, 1h, 2h, 6h, 1d, 3d) and the period's ratio, averaged from the 5m one;
* ``sloth-slo-meta-recordings-<id>``: objective, error budget, period length, current and period
  burn rates, budget remaining, and ``sloth_slo_info``;
* ``sloth-slo-alerts-<id>``: the multi-window multi-burn-rate alerts of the Google SRE Workbook.
  Page: 14.4x over 1h and 5m, or 6x over 6h and 30m (2 % and 5 % of a 30-day budget spent in
  an hour and in six). Ticket: 3x over 1d and 2h, or 1x over 3d and 6h (10 % in a day and in
  three). The short window of each pair ends the alert soon after the burn stops.
"""

from __future__ import annotations

from typing import Any

from spyglass.core.template import format_float
from spyglass.core.version import __version__
from spyglass.slo._spec import SLO, dump_yaml, period_text

SLI_WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")
# (factor, long window, short window) of each alert, as the SRE Workbook's table gives them.
PAGE = ((14.4, "1h", "5m"), (6.0, "6h", "30m"))
TICKET = ((3.0, "1d", "2h"), (1.0, "3d", "6h"))
MODE = "spyglass"


def _num(v: float) -> str:
    return format_float(v, "g", -1)


def _selector(slo: SLO) -> str:
    return f'sloth_id="{slo.id}", sloth_service="{slo.service}", sloth_slo="{slo.name}"'


def _base_labels(slo: SLO) -> dict[str, str]:
    labels = dict(slo.labels)
    labels.update({"sloth_id": slo.id, "sloth_service": slo.service, "sloth_slo": slo.name})
    return dict(sorted(labels.items()))


def sli_rules(slo: SLO) -> list[dict[str, Any]]:
    """The SLI recording rules of ``slo``."""
    rules = []
    for window in SLI_WINDOWS:
        labels = {**_base_labels(slo), "sloth_window": window}
        rules.append(
            {
                "record": f"slo:sli_error:ratio_rate{window}",
                "expr": slo.sli_at(window) + "\n",
                "labels": dict(sorted(labels.items())),
            }
        )
    period = period_text(slo)
    sel = _selector(slo)
    rules.append(
        {
            "record": f"slo:sli_error:ratio_rate{period}",
            "expr": (
                f"sum_over_time(slo:sli_error:ratio_rate5m{{{sel}}}[{period}])\n"
                "/ ignoring (sloth_window)\n"
                f"count_over_time(slo:sli_error:ratio_rate5m{{{sel}}}[{period}])\n"
            ),
            "labels": {"sloth_window": period},
        }
    )
    return rules


def meta_rules(slo: SLO) -> list[dict[str, Any]]:
    """Objective, budget, burn rates and budget remaining of ``slo``."""
    sel = _selector(slo)
    labels = _base_labels(slo)
    objective = slo.objective / 100
    period = period_text(slo)
    on = "/ on(sloth_id, sloth_slo, sloth_service) group_left"
    info = {**labels, "sloth_mode": MODE, "sloth_objective": _num(slo.objective),
            "sloth_spec": slo.spec, "sloth_version": f"spyglass-{__version__}"}  # fmt: skip
    return [
        {"record": "slo:objective:ratio", "expr": f"vector({_num(objective)})", "labels": labels},
        {
            "record": "slo:error_budget:ratio",
            "expr": f"vector(1-{_num(objective)})",
            "labels": labels,
        },
        {
            "record": "slo:time_period:days",
            "expr": f"vector({_num(slo.period_ms / 86_400_000)})",
            "labels": labels,
        },
        {
            "record": "slo:current_burn_rate:ratio",
            "expr": f"slo:sli_error:ratio_rate5m{{{sel}}}\n{on}\nslo:error_budget:ratio{{{sel}}}\n",
            "labels": labels,
        },
        {
            "record": "slo:period_burn_rate:ratio",
            "expr": (
                f"slo:sli_error:ratio_rate{period}{{{sel}}}\n{on}\nslo:error_budget:ratio{{{sel}}}\n"
            ),
            "labels": labels,
        },
        {
            "record": "slo:period_error_budget_remaining:ratio",
            "expr": f"1 - slo:period_burn_rate:ratio{{{sel}}}",
            "labels": labels,
        },
        {"record": "sloth_slo_info", "expr": "vector(1)", "labels": dict(sorted(info.items()))},
    ]


def _burn_expr(slo: SLO, pairs: tuple[tuple[float, str, str], ...]) -> str:
    sel = _selector(slo)
    budget = _num((100 - slo.objective) / 100)
    parts = []
    for factor, long, short in pairs:
        threshold = f"({_num(factor)} * {budget})"
        parts.append(
            "(\n"
            f"    (slo:sli_error:ratio_rate{short}{{{sel}}} > {threshold})\n"
            "    and ignoring (sloth_window)\n"
            f"    (slo:sli_error:ratio_rate{long}{{{sel}}} > {threshold})\n"
            ")"
        )
    return "\nor ignoring (sloth_window)\n".join(parts) + "\n"


def alert_rules(slo: SLO) -> list[dict[str, Any]]:
    """The page and ticket alerts of ``slo`` (those not disabled)."""
    rules = []
    for severity, spec, pairs in (("page", slo.page, PAGE), ("ticket", slo.ticket, TICKET)):
        if spec.disable:
            continue
        labels = {**slo.alert_labels, **spec.labels, "sloth_severity": severity}
        annotations = {
            "title": f"({severity}) {{{{$labels.sloth_service}}}} {{{{$labels.sloth_slo}}}} "
            "SLO error budget burn rate is too fast.",
            **slo.alert_annotations,
            **spec.annotations,
        }
        rules.append(
            {
                "alert": slo.alert_name,
                "expr": _burn_expr(slo, pairs),
                "labels": dict(sorted(labels.items())),
                "annotations": dict(sorted(annotations.items())),
            }
        )
    return rules


def rule_groups(slos: list[SLO]) -> list[dict[str, Any]]:
    """The rule groups of every SLO, in order."""
    groups: list[dict[str, Any]] = []
    for slo in slos:
        groups.append({"name": f"sloth-slo-sli-recordings-{slo.id}", "rules": sli_rules(slo)})
        groups.append({"name": f"sloth-slo-meta-recordings-{slo.id}", "rules": meta_rules(slo)})
        alerts = alert_rules(slo)
        if alerts:
            groups.append({"name": f"sloth-slo-alerts-{slo.id}", "rules": alerts})
    return groups


def generate_rule_file(slos: list[SLO]) -> str:
    """The Prometheus rule file for ``slos``, as ``spyglass slo generate`` prints it."""
    header = (
        f"# Generated by Spyglass {__version__} from SLO specs (Sloth's layout).\n"
        "# Do not edit: change the spec and generate again.\n\n"
    )
    return header + dump_yaml({"groups": rule_groups(slos)})


__all__ = ["PAGE", "SLI_WINDOWS", "TICKET", "alert_rules", "generate_rule_file", "rule_groups"]
