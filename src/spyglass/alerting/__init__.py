"""Alerting: ``alertmanager.yml`` read as Alertmanager reads it.

``load_alertmanager_config_file`` loads a user's file unchanged (``${VAR}`` expansion is the one
addition); ``TimeInterval.contains`` and ``active_intervals`` answer the time interval
questions; ``parse_matchers`` reads matchers in both of Alertmanager's syntaxes.
"""

from spyglass.alerting._config import (
    AlertmanagerConfig,
    GlobalConfig,
    InhibitRule,
    NamedTimeInterval,
    Route,
    load_alertmanager_config,
    load_alertmanager_config_file,
)
from spyglass.alerting._env import expand_text
from spyglass.alerting._http import Authorization, BasicAuth, HTTPConfig, OAuth2, TLSConfig
from spyglass.alerting._matchers import (
    Matcher,
    MatcherError,
    Mode,
    format_matchers,
    parse_matcher,
    parse_matchers,
)
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
from spyglass.alerting._timeintervals import (
    InclusiveRange,
    TimeInterval,
    TimeRange,
    active_intervals,
)

__all__ = [
    "INTEGRATIONS",
    "AlertmanagerConfig",
    "AppriseConfig",
    "Authorization",
    "BasicAuth",
    "EmailConfig",
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
    "SlackConfig",
    "TLSConfig",
    "TimeInterval",
    "TimeRange",
    "WebhookConfig",
    "active_intervals",
    "expand_text",
    "format_matchers",
    "load_alertmanager_config",
    "load_alertmanager_config_file",
    "parse_matcher",
    "parse_matchers",
]
