"""The dashboards domain's public surface, which the server, the UI and the tests use."""

from __future__ import annotations

import spyglass.dashboards


def test_exported_names() -> None:
    assert sorted(spyglass.dashboards.__all__) == sorted(
        [
            "ALL_TEXT",
            "ALL_VALUE",
            "BUILTIN_DIR",
            "DATASOURCE_UID",
            "apply_inputs",
            "input_values",
            "migrate_layout",
            "safe_url",
            "DEFAULT_FROM",
            "DEFAULT_SCRAPE_INTERVAL_S",
            "DEFAULT_TO",
            "DashboardConflict",
            "DashboardError",
            "DashboardRefused",
            "DashboardService",
            "DashboardTooLarge",
            "FORMATS",
            "MAX_DASHBOARD_BYTES",
            "MAX_PANELS",
            "Option",
            "PANEL_TYPES",
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
            "apply_regex",
            "custom_options",
            "dashboard_url",
            "dashboard_view",
            "decode_json",
            "grid_pos",
            "interpolate",
            "interval_to_seconds",
            "load_providers",
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
            "scan",
            "seconds_to_hms",
            "slugify",
            "sort_options",
            "validate_dashboard",
        ]
    )


def test_every_exported_name_exists() -> None:
    for name in spyglass.dashboards.__all__:
        assert getattr(spyglass.dashboards, name) is not None
