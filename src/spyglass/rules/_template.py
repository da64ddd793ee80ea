"""What rules need from the Go-template engine: the expander they call, and the syntax check.

Alert labels and annotations are Go templates (``{{ $labels.instance }}``, ``{{ $value |
humanizePercentage }}``), expanded by ``spyglass.core.template``; rules take the expander as a
constructor argument matching ``TemplateExpander`` (tests pass simpler ones).
``check_alert_template`` parses a template the way ``promtool check rules`` does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from spyglass.core.template import QuerySample, Template, prometheus_functions

# What Prometheus puts before every alert template, so $labels, $value... are defined.
_DEFINITIONS = (
    "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}"
    "{{$externalURL := .ExternalURL}}{{$value := .Value}}"
)


class TemplateExpander(Protocol):
    """Expands one alert label or annotation template.

    Raises ``TemplateError`` (a ``SpyglassError``) when the text does not parse or fails while
    executing; the rule then keeps the raw text and reports the error.
    """

    def __call__(
        self,
        text: str,
        *,
        name: str,
        labels: Mapping[str, str],
        value: float,
        external_labels: Mapping[str, str] | None = None,
        external_url: str = "",
        timestamp_ms: int = 0,
        query: Callable[[str], Sequence[QuerySample]] | None = None,
    ) -> str:
        """The expanded text."""
        ...


def check_alert_template(text: str) -> None:
    """Parse (not run) an alert label or annotation template as promtool does; raises
    ``TemplateError`` with Go's message when it does not parse."""
    Template("__alert", funcs=prometheus_functions(), missing_key="zero").parse(_DEFINITIONS + text)


TemplateChecker = Callable[[str], None]
"""Checks a template's syntax when a rule file is loaded; raises ``SpyglassError`` if it is bad.

The loader calls it for every label and annotation of alerting rules, as ``promtool check rules``
parses them; without one, template syntax is not checked.
"""

__all__ = ["QuerySample", "TemplateChecker", "TemplateExpander", "check_alert_template"]
