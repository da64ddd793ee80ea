"""SLOs: Sloth and OpenSLO specs turned into recording rules and burn-rate alerts.

``load_slo_file``/``parse_slo_file`` read Sloth's ``prometheus/v1`` files and OpenSLO v1 ``SLO``
objects into ``SLO`` values; ``generate_rule_file`` writes the Prometheus rule file for them,
laid out as Sloth's (SLI error ratios per window, meta recordings, multi-window multi-burn-rate
page and ticket alerts), which the rule engine evaluates like any other rule file.
``SLOService`` holds the specs of ``--slo-files``; ``status`` says where an SLO stands (SLI,
budget left as a ratio and as time, burn rate per window, burn-down, the episodes that spent it).
"""

from spyglass.slo._generate import PAGE, SLI_WINDOWS, TICKET, generate_rule_file, rule_groups
from spyglass.slo._service import SLOService
from spyglass.slo._spec import (
    OPENSLO_VERSION,
    SLO,
    SLOTH_VERSION,
    AlertSpec,
    load_slo_file,
    parse_slo_file,
    period_text,
)
from spyglass.slo._status import Episode, SLOStatus, budget_spent, period_start, status

__all__ = [
    "OPENSLO_VERSION",
    "PAGE",
    "SLI_WINDOWS",
    "SLO",
    "SLOTH_VERSION",
    "TICKET",
    "AlertSpec",
    "Episode",
    "SLOService",
    "SLOStatus",
    "budget_spent",
    "generate_rule_file",
    "load_slo_file",
    "parse_slo_file",
    "period_start",
    "period_text",
    "rule_groups",
    "status",
]
