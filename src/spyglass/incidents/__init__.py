"""Incidents: from alert to postmortem.

``IncidentService`` keeps incidents (status, SEV, commander, timeline) in the state store,
opens them by hand or from alerts that match ``spyglass: incidents:`` rules in
alertmanager.yml (``load_incidents_config``), and sends status updates through the router.
``postmortem`` drafts the Markdown postmortem of an incident; ``links`` points at the graphs,
logs, traces and errors of its window.
"""

from spyglass.incidents._config import (
    DEFAULT_SEVERITIES,
    LEVELS,
    IncidentRule,
    IncidentsConfig,
    Severity,
    load_incidents_config,
)
from spyglass.incidents._postmortem import BudgetSpent, duration_text, links, postmortem, window
from spyglass.incidents._service import (
    EDITABLE,
    STATUSES,
    IncidentService,
    NotFound,
    incident_id,
)
from spyglass.incidents._watcher import AlertWatcher

__all__ = [
    "DEFAULT_SEVERITIES",
    "EDITABLE",
    "LEVELS",
    "STATUSES",
    "AlertWatcher",
    "BudgetSpent",
    "IncidentRule",
    "IncidentService",
    "IncidentsConfig",
    "NotFound",
    "Severity",
    "duration_text",
    "incident_id",
    "links",
    "load_incidents_config",
    "postmortem",
    "window",
]
