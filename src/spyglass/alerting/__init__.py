"""Alerting: Alertmanager's matchers, read in both of its syntaxes."""

from spyglass.alerting._matchers import (
    Matcher,
    MatcherError,
    Mode,
    format_matchers,
    parse_matcher,
    parse_matchers,
)

__all__ = [
    "Matcher",
    "MatcherError",
    "Mode",
    "format_matchers",
    "parse_matcher",
    "parse_matchers",
]
