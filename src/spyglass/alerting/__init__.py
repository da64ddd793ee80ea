"""Alerting: ``alertmanager.yml`` read as Alertmanager reads it, and its routing.

``load_alertmanager_config_file`` loads a user's file unchanged (``${VAR}`` expansion is the one
addition); ``RoutingTree`` matches an alert's labels to routes exactly as Alertmanager's
dispatcher does and ``group_key`` spells their aggregation groups; ``TimeInterval.contains`` and
``active_intervals`` answer the time interval questions; ``inhibited`` decides inhibition;
``parse_matchers`` reads matchers in both of Alertmanager's syntaxes. ``review`` and ``explain``
say what is likely wrong in a file, for ``spyglass check alertmanager``. ``SENDER_BUILDERS``
holds the notifiers: looking it up (or building a ``Router``) registers webhook, email, Slack,
PagerDuty and Apprise.

``Router`` is Spyglass as an Alertmanager: an ``AlertStore`` of received alerts, a
``Dispatcher`` grouping them on the routing tree, a ``Pipeline`` (inhibition, time intervals,
silences through a ``Silencer``, dedup against the ``NotificationLog``, retries) and the
senders of ``SENDER_BUILDERS``, the webhook among them.
say what is likely wrong in a file, for ``spyglass check alertmanager``.

``Silences`` keeps Alertmanager's silences in the control-plane state store and answers
``mutes`` for the notification pipeline, maintenance windows (the file's ``spyglass:`` section,
``SpyglassConfig``) included. ``Beyond`` is the rest of that section at work in the router:
flapping alerts held and summarised, quiet hours, ``Acknowledgements`` that stop repeats,
escalation to a further receiver; ``CorrelationRule`` groups alerts that share a cause.
"""

# Names load from their modules on first use (core/lazy.py): `spyglass silence` parses matchers
# and times without loading the router, its senders and their HTTP and e-mail libraries.
from typing import TYPE_CHECKING

from spyglass.core.lazy import lazy_exports

if TYPE_CHECKING:
    from spyglass.alerting._acks import Acknowledgement, Acknowledgements, EscalationRule
    from spyglass.alerting._advice import Finding, explain, review
    from spyglass.alerting._alertstore import AlertStore, StoredAlert, merge
    from spyglass.alerting._beyond import Beyond
    from spyglass.alerting._clock import Clock, ManualClock, SystemClock
    from spyglass.alerting._config import (
        AlertmanagerConfig,
        GlobalConfig,
        InhibitRule,
        NamedTimeInterval,
        Route,
        load_alertmanager_config,
        load_alertmanager_config_file,
    )
    from spyglass.alerting._correlation import CorrelationRule
    from spyglass.alerting._dispatch import AggregationGroup, Dispatcher
    from spyglass.alerting._env import expand_text
    from spyglass.alerting._extensions import EXTENSION_KEYS, SpyglassConfig
    from spyglass.alerting._flapping import FlapDetector, FlappingPolicy
    from spyglass.alerting._history import Delivery, NotificationHistory
    from spyglass.alerting._http import Authorization, BasicAuth, HTTPConfig, OAuth2, TLSConfig
    from spyglass.alerting._inhibit import inhibited, inhibiting_alert
    from spyglass.alerting._integrations import SENDER_BUILDERS
    from spyglass.alerting._maintenance import CREATED_BY as MAINTENANCE_CREATED_BY
    from spyglass.alerting._maintenance import ID_PREFIX as MAINTENANCE_ID_PREFIX
    from spyglass.alerting._maintenance import MaintenanceWindow
    from spyglass.alerting._marker import AlertStatus, Marker
    from spyglass.alerting._matchers import (
        Matcher,
        MatcherError,
        Mode,
        format_matchers,
        parse_matcher,
        parse_matchers,
    )
    from spyglass.alerting._nflog import Entry, NotificationLog, ReceiverKey
    from spyglass.alerting._notify import (
        Notification,
        NotifyError,
        Sender,
        SenderBuilder,
        SenderEnv,
    )
    from spyglass.alerting._pipeline import Flush, Pipeline, needs_update
    from spyglass.alerting._quiet import QuietHours
    from spyglass.alerting._receivers import (
        INTEGRATIONS,
        AppriseConfig,
        EmailConfig,
        Integration,
        PagerdutyConfig,
        Receiver,
        SlackConfig,
        WebhookConfig,
    )
    from spyglass.alerting._router import Router
    from spyglass.alerting._routing import (
        RouteNode,
        RouteOptions,
        RoutingTree,
        format_label_set,
        group_key,
        group_labels,
    )
    from spyglass.alerting._silence import (
        STATES,
        InvalidSilence,
        Silence,
        SilenceDraft,
        SilenceNotFound,
        SilenceState,
    )
    from spyglass.alerting._silencer import NoSilences, Silencer
    from spyglass.alerting._silences import Silences
    from spyglass.alerting._timeintervals import (
        InclusiveRange,
        TimeInterval,
        TimeRange,
        active_intervals,
    )
    from spyglass.alerting._timestamps import format_api_time, parse_api_time, parse_rfc3339
    from spyglass.alerting._webhook import WebhookSender, webhook_payload

__getattr__, __dir__ = lazy_exports(__name__, __file__)

__all__ = [
    "EXTENSION_KEYS",
    "INTEGRATIONS",
    "MAINTENANCE_CREATED_BY",
    "MAINTENANCE_ID_PREFIX",
    "SENDER_BUILDERS",
    "STATES",
    "Acknowledgement",
    "Acknowledgements",
    "AggregationGroup",
    "AlertStatus",
    "AlertStore",
    "AlertmanagerConfig",
    "AppriseConfig",
    "Authorization",
    "BasicAuth",
    "Beyond",
    "Clock",
    "CorrelationRule",
    "Delivery",
    "Dispatcher",
    "EmailConfig",
    "Entry",
    "EscalationRule",
    "Finding",
    "FlapDetector",
    "FlappingPolicy",
    "Flush",
    "GlobalConfig",
    "HTTPConfig",
    "InclusiveRange",
    "InhibitRule",
    "Integration",
    "InvalidSilence",
    "MaintenanceWindow",
    "ManualClock",
    "Marker",
    "Matcher",
    "MatcherError",
    "Mode",
    "NamedTimeInterval",
    "NoSilences",
    "Notification",
    "NotificationHistory",
    "NotificationLog",
    "NotifyError",
    "OAuth2",
    "PagerdutyConfig",
    "Pipeline",
    "QuietHours",
    "Receiver",
    "ReceiverKey",
    "Route",
    "RouteNode",
    "RouteOptions",
    "Router",
    "RoutingTree",
    "Sender",
    "SenderBuilder",
    "SenderEnv",
    "Silence",
    "SilenceDraft",
    "SilenceNotFound",
    "SilenceState",
    "Silencer",
    "Silences",
    "SlackConfig",
    "SpyglassConfig",
    "StoredAlert",
    "SystemClock",
    "TLSConfig",
    "TimeInterval",
    "TimeRange",
    "WebhookConfig",
    "WebhookSender",
    "active_intervals",
    "expand_text",
    "explain",
    "format_api_time",
    "format_label_set",
    "format_matchers",
    "group_key",
    "group_labels",
    "inhibited",
    "inhibiting_alert",
    "load_alertmanager_config",
    "load_alertmanager_config_file",
    "merge",
    "needs_update",
    "parse_api_time",
    "parse_matcher",
    "parse_matchers",
    "parse_rfc3339",
    "review",
    "webhook_payload",
]
