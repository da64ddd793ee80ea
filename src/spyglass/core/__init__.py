"""Shared value types with no I/O: labels, matchers, samples, time values and the error tree.

Every other layer imports from here; this package imports nothing from Spyglass.

The names below load on first use (``lazy``): ``spyglass.core.errors`` is imported by every
command of the CLI, and an eager ``samples`` would make each of them import numpy first.
"""

from typing import TYPE_CHECKING

from spyglass.core.lazy import lazy_exports

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

__getattr__, __dir__ = lazy_exports(__name__, __file__)

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
