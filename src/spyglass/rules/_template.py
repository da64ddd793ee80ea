"""What rules need from the Go-template engine: the expander they call, and the syntax check hook.

Alert labels and annotations are Go templates (``{{ $labels.instance }}``, ``{{ $value |
humanizePercentage }}``). The engine lives in ``spyglass.core.template``; rules take it as a
constructor argument matching ``TemplateExpander`` so this package neither implements nor imports
it. ``QuerySample`` mirrors the engine's own type of the same name (labels and value of one
sample a template's ``query`` returned); when the engine lands, this becomes a re-export of it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class QuerySample:
    """One sample of a template's ``query`` result."""

    labels: Mapping[str, str]
    value: float


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


TemplateChecker = Callable[[str], None]
"""Checks a template's syntax when a rule file is loaded; raises ``SpyglassError`` if it is bad.

The loader calls it for every label and annotation of alerting rules, as ``promtool check rules``
parses them; without one, template syntax is not checked.
"""

__all__ = ["QuerySample", "TemplateChecker", "TemplateExpander"]
