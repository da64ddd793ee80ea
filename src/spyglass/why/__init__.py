"""Why did this change: the label values that carry a metric's change, and what else changed.

``explain`` compares the window before a time with a baseline and ranks label values (and pairs
of them) by their share of the change, notes deploys (a new ``version``/``release`` value), and
asks ``Finder`` callables of other signals (``log_patterns``, ``error_issues``,
``trace_operations``) for what appeared or grew there.
"""

from spyglass.why._explain import (
    DEFAULT_BASELINE_MS,
    DEFAULT_WINDOW_MS,
    Contributor,
    Explanation,
    Finder,
    Finding,
    explain,
    series_expression,
)
from spyglass.why._finders import MIN_GROWTH, error_issues, log_patterns, trace_operations

__all__ = [
    "DEFAULT_BASELINE_MS",
    "DEFAULT_WINDOW_MS",
    "MIN_GROWTH",
    "Contributor",
    "Explanation",
    "Finder",
    "Finding",
    "error_issues",
    "explain",
    "log_patterns",
    "series_expression",
    "trace_operations",
]
