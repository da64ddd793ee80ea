"""The errors domain's, its value types' and Sentry ingest's public names."""

import spyglass.core.error_events as error_events
import spyglass.core.error_issues as error_issues
import spyglass.errors as errors
import spyglass.ingest.sentry as sentry


def test_public_names() -> None:
    assert sorted(errors.__all__) == [
        "ACTIONS",
        "ErrorStoreLike",
        "ErrorTracker",
        "Grouping",
        "IGNORE",
        "IssueDetail",
        "NEW_ISSUE",
        "REGRESSED_ISSUE",
        "RESOLVE",
        "RESOLVE_IN_NEXT_RELEASE",
        "TrackerStats",
        "UNRESOLVE",
        "apply_action",
        "culprit",
        "group",
        "is_regression",
        "issue_alert",
        "issue_link",
        "normalize_message",
        "observe",
        "title",
    ]
    assert sorted(error_events.__all__) == ["ErrorBatch", "ErrorEvent", "Exception_", "Frame"]
    assert sorted(error_issues.__all__) == [
        "IGNORED",
        "Issue",
        "IssueChange",
        "IssuePage",
        "IssueQuery",
        "RESOLVED",
        "SORTS",
        "STATUSES",
        "UNRESOLVED",
    ]
    assert sorted(sentry.__all__) == [
        "Decoded",
        "Envelope",
        "EnvelopeItem",
        "MAX_EVENT_BYTES",
        "auth_fields",
        "decode_envelope",
        "decode_store",
        "dsn_key",
        "event_from_json",
        "parse_envelope",
        "parse_event_json",
        "project_id",
        "public_key",
    ]
    for module in (errors, error_events, error_issues, sentry):
        for name in module.__all__:
            assert getattr(module, name) is not None
