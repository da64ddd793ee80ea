"""Shared value types with no I/O: labels, matchers, samples, time values and the error tree.

Every other layer imports from here; this package imports nothing from Spyglass.

The names below load on first use (PEP 562): ``spyglass.core.errors`` is imported by every
command of the CLI, and an eager ``samples`` would make each of them import numpy first.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from spyglass.core.errors import (
        BadInput,
        ConfigError,
        LimitExceeded,
        ParseError,
        QueryError,
        QueryTimeout,
        QueryTooLarge,
        SpyglassError,
        Unavailable,
    )
    from spyglass.core.labels import METRIC_NAME, Labels, fingerprint, labels_of, metric_name
    from spyglass.core.matchers import Matcher, MatchOp
    from spyglass.core.samples import (
        STALE_NAN,
        BatchBuilder,
        MetricMetadata,
        SampleBatch,
        is_stale,
        stale_mask,
    )

_HOMES = {
    "errors": (
        "BadInput",
        "ConfigError",
        "LimitExceeded",
        "ParseError",
        "QueryError",
        "QueryTimeout",
        "QueryTooLarge",
        "SpyglassError",
        "Unavailable",
    ),
    "labels": ("METRIC_NAME", "Labels", "fingerprint", "labels_of", "metric_name"),
    "matchers": ("Matcher", "MatchOp"),
    "samples": (
        "STALE_NAN",
        "BatchBuilder",
        "MetricMetadata",
        "SampleBatch",
        "is_stale",
        "stale_mask",
    ),
}
_MODULE_OF = {name: module for module, names in _HOMES.items() for name in names}


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'spyglass.core' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"spyglass.core.{module}"), name)
    globals()[name] = value  # later lookups skip this function
    return value


__all__ = [
    "METRIC_NAME",
    "STALE_NAN",
    "BadInput",
    "BatchBuilder",
    "ConfigError",
    "Labels",
    "LimitExceeded",
    "MatchOp",
    "Matcher",
    "MetricMetadata",
    "ParseError",
    "QueryError",
    "QueryTimeout",
    "QueryTooLarge",
    "SampleBatch",
    "SpyglassError",
    "Unavailable",
    "fingerprint",
    "is_stale",
    "labels_of",
    "metric_name",
    "stale_mask",
]
