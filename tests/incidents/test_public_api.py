"""The incidents domain's public names."""

import spyglass.incidents as incidents


def test_public_names() -> None:
    assert sorted(incidents.__all__) == [
        "AlertWatcher",
        "BudgetSpent",
        "DEFAULT_SEVERITIES",
        "EDITABLE",
        "IncidentRule",
        "IncidentService",
        "IncidentsConfig",
        "LEVELS",
        "NotFound",
        "STATUSES",
        "Severity",
        "duration_text",
        "incident_id",
        "links",
        "load_incidents_config",
        "postmortem",
        "window",
    ]
    for name in incidents.__all__:
        assert getattr(incidents, name) is not None
