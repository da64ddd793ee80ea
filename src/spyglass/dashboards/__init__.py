"""Grafana dashboards: the JSON model, template variables, storage, provisioning and the view
the web UI draws.

* ``validate_dashboard``/``decode_json`` read dashboard JSON leniently as Grafana's import does
  (unknown fields kept), within ``MAX_DASHBOARD_BYTES`` and ``MAX_PANELS``.
* ``interpolate`` puts template variables into text with Grafana's syntax and formats;
  ``query_interval`` gives ``$__interval``, ``$__rate_interval`` and ``$__range`` as Grafana's
  Prometheus data source does; ``resolve_variables`` works out every variable's options and
  selection through a ``VariableSource``.
* ``DashboardService`` keeps dashboards in a ``StateStore`` with the rules of Grafana's
  dashboard API; ``Provisioner`` (a component) loads provisioned ones from files.
* ``migrate_layout`` lays out pre-Grafana-5 ``rows``/``span`` dashboards on the grid as
  Grafana's migrator does; ``input_values``/``apply_inputs`` answer an exported dashboard's
  ``__inputs`` as Grafana's import does; ``safe_url`` keeps only http(s) and relative links.
* ``dashboard_view`` makes a dashboard ready for the page: layout migrated, variables
  resolved, rows and panels repeated, queries and annotation queries interpolated, old panels
  described as the panels Grafana migrates them to, links made safe.
"""

from spyglass.dashboards._inputs import DATASOURCE_UID, apply_inputs, input_values
from spyglass.dashboards._interpolate import (
    ALL_TEXT,
    ALL_VALUE,
    FORMATS,
    VariableValue,
    interpolate,
    multi,
    prometheus_regex_escape,
    prometheus_string_escape,
    regex_escape,
)
from spyglass.dashboards._interval import (
    DEFAULT_SCRAPE_INTERVAL_S,
    QueryInterval,
    interval_to_seconds,
    panel_interval,
    query_interval,
    round_interval,
    seconds_to_hms,
)
from spyglass.dashboards._links import safe_url
from spyglass.dashboards._migrate import migrate_layout
from spyglass.dashboards._model import (
    MAX_DASHBOARD_BYTES,
    MAX_PANELS,
    DashboardError,
    DashboardTooLarge,
    decode_json,
    grid_pos,
    new_uid,
    slugify,
    validate_dashboard,
)
from spyglass.dashboards._provisioning import (
    BUILTIN_DIR,
    Provider,
    Provisioner,
    load_providers,
    parse_providers,
    scan,
)
from spyglass.dashboards._service import (
    DashboardConflict,
    DashboardRefused,
    DashboardService,
    Provisioned,
    SaveResult,
    Stored,
    dashboard_url,
)
from spyglass.dashboards._timerange import DEFAULT_FROM, DEFAULT_TO, parse_range, parse_time
from spyglass.dashboards._variables import (
    Option,
    ResolvedVariable,
    TimeContext,
    VariableSource,
    apply_regex,
    custom_options,
    query_texts,
    resolve_variables,
    sort_options,
)
from spyglass.dashboards._view import PANEL_TYPES, dashboard_view

__all__ = [
    "ALL_TEXT",
    "ALL_VALUE",
    "BUILTIN_DIR",
    "DATASOURCE_UID",
    "DEFAULT_FROM",
    "DEFAULT_SCRAPE_INTERVAL_S",
    "DEFAULT_TO",
    "FORMATS",
    "MAX_DASHBOARD_BYTES",
    "MAX_PANELS",
    "PANEL_TYPES",
    "DashboardConflict",
    "DashboardError",
    "DashboardRefused",
    "DashboardService",
    "DashboardTooLarge",
    "Option",
    "Provider",
    "Provisioned",
    "Provisioner",
    "QueryInterval",
    "ResolvedVariable",
    "SaveResult",
    "Stored",
    "TimeContext",
    "VariableSource",
    "VariableValue",
    "apply_inputs",
    "apply_regex",
    "custom_options",
    "dashboard_url",
    "dashboard_view",
    "decode_json",
    "grid_pos",
    "input_values",
    "interpolate",
    "interval_to_seconds",
    "load_providers",
    "migrate_layout",
    "multi",
    "new_uid",
    "panel_interval",
    "parse_providers",
    "parse_range",
    "parse_time",
    "prometheus_regex_escape",
    "prometheus_string_escape",
    "query_interval",
    "query_texts",
    "regex_escape",
    "resolve_variables",
    "round_interval",
    "safe_url",
    "scan",
    "seconds_to_hms",
    "slugify",
    "sort_options",
    "validate_dashboard",
]
