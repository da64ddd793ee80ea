"""The errors domain's and Sentry ingest's public names."""

import spyglass.core.error_events as error_events
import spyglass.errors as errors
import spyglass.ingest.sentry as sentry


def test_public_names() -> None:
    assert sorted(errors.__all__) == ["Grouping", "culprit", "group", "normalize_message", "title"]
    assert sorted(error_events.__all__) == ["ErrorBatch", "ErrorEvent", "Exception_", "Frame"]
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
    for module in (errors, error_events, sentry):
        for name in module.__all__:
            assert getattr(module, name) is not None
