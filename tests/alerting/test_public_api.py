"""The public surface of spyglass.alerting: what the router, the CLI and later the Alertmanager
API code against."""

from __future__ import annotations

import dataclasses

import spyglass.alerting
from spyglass.alerting import AlertmanagerConfig, Matcher, RouteOptions, TimeInterval


def test_exported_names() -> None:
    assert sorted(spyglass.alerting.__all__) == sorted(
        [
            "INTEGRATIONS",
            "Delivery",
            "NotificationHistory",
            "Acknowledgement",
            "Acknowledgements",
            "EscalationRule",
            "Beyond",
            "CorrelationRule",
            "FlapDetector",
            "FlappingPolicy",
            "QuietHours",
            "EXTENSION_KEYS",
            "MAINTENANCE_CREATED_BY",
            "MAINTENANCE_ID_PREFIX",
            "STATES",
            "InvalidSilence",
            "MaintenanceWindow",
            "Silence",
            "SilenceDraft",
            "SilenceNotFound",
            "SilenceState",
            "Silences",
            "SpyglassConfig",
            "format_api_time",
            "parse_api_time",
            "parse_rfc3339",
            "SENDER_BUILDERS",
            "AlertStore",
            "StoredAlert",
            "merge",
            "Clock",
            "ManualClock",
            "SystemClock",
            "AggregationGroup",
            "Dispatcher",
            "AlertStatus",
            "Marker",
            "Entry",
            "NotificationLog",
            "ReceiverKey",
            "Flush",
            "Pipeline",
            "needs_update",
            "Router",
            "NoSilences",
            "Silencer",
            "WebhookSender",
            "webhook_payload",
            "Notification",
            "NotifyError",
            "Sender",
            "SenderBuilder",
            "SenderEnv",
            "AlertmanagerConfig",
            "AppriseConfig",
            "Authorization",
            "BasicAuth",
            "EmailConfig",
            "Finding",
            "GlobalConfig",
            "HTTPConfig",
            "InclusiveRange",
            "InhibitRule",
            "Integration",
            "Matcher",
            "MatcherError",
            "Mode",
            "NamedTimeInterval",
            "OAuth2",
            "PagerdutyConfig",
            "Receiver",
            "Route",
            "RouteNode",
            "RouteOptions",
            "RoutingTree",
            "SlackConfig",
            "TLSConfig",
            "TimeInterval",
            "TimeRange",
            "WebhookConfig",
            "active_intervals",
            "expand_text",
            "explain",
            "format_label_set",
            "format_matchers",
            "group_key",
            "group_labels",
            "inhibited",
            "inhibiting_alert",
            "load_alertmanager_config",
            "load_alertmanager_config_file",
            "parse_matcher",
            "parse_matchers",
            "review",
        ]
    )
    for name in spyglass.alerting.__all__:
        assert hasattr(spyglass.alerting, name), name


def test_value_types_are_frozen() -> None:
    for cls in (AlertmanagerConfig, Matcher, RouteOptions, TimeInterval):
        assert dataclasses.is_dataclass(cls)
        assert cls.__dataclass_params__.frozen  # type: ignore[attr-defined]
    assert RouteOptions().group_wait_ms == 30_000
    assert RouteOptions().group_interval_ms == 300_000
    assert RouteOptions().repeat_interval_ms == 4 * 3600_000
