"""The web UI: server-rendered pages with small scripts, served by the ``ui`` component.

Pages (``Page``) render through one base layout whose navigation shows only the sections some
page fills; components contribute pages by offering ``pages()`` (``OffersPages``). The scripts
and styles are built from ``frontend/`` into hashed files under ``static/`` (``scripts/build-ui``)
and ship inside the package, so nothing loads from elsewhere. Explore, Logs, Targets, Rules,
Alerts, Silences, Traces, Errors, SLOs, Incidents, Uptime and the service map are among the
pages; docs/ui.md describes them.
"""

from spyglass.server.ui._alerts import alerts_page, silence_url
from spyglass.server.ui._assets import Assets, Bundle
from spyglass.server.ui._component import WebUI, content_security_policy
from spyglass.server.ui._dashboards import REFRESH_CHOICES, dashboard_pages
from spyglass.server.ui._errors import error_pages
from spyglass.server.ui._explore import EXPLORE, explore_context
from spyglass.server.ui._incidents import incident_pages
from spyglass.server.ui._logs import LOGS, logs_context
from spyglass.server.ui._notifications import notifications_page
from spyglass.server.ui._pages import (
    NAV_SECTIONS,
    NavLink,
    OffersPages,
    Page,
    contributed_pages,
    navigation,
)
from spyglass.server.ui._rules import rules_page
from spyglass.server.ui._servicemap import service_map_page
from spyglass.server.ui._silences import silences_page
from spyglass.server.ui._slos import slo_pages
from spyglass.server.ui._status import STATUS_LINKS, StatusSources, status_pages
from spyglass.server.ui._targets import targets_page
from spyglass.server.ui._traces import trace_pages
from spyglass.server.ui._uptime import uptime_page

__all__ = [
    "EXPLORE",
    "LOGS",
    "NAV_SECTIONS",
    "REFRESH_CHOICES",
    "STATUS_LINKS",
    "Assets",
    "Bundle",
    "NavLink",
    "OffersPages",
    "Page",
    "StatusSources",
    "WebUI",
    "alerts_page",
    "content_security_policy",
    "contributed_pages",
    "dashboard_pages",
    "error_pages",
    "explore_context",
    "incident_pages",
    "logs_context",
    "navigation",
    "notifications_page",
    "rules_page",
    "service_map_page",
    "silence_url",
    "silences_page",
    "slo_pages",
    "status_pages",
    "targets_page",
    "trace_pages",
    "uptime_page",
]
